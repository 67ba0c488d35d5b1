"""Three `leadsync run` replicas on one PostgreSQL: kill -9 the leader in the middle of its run; a
standby takes over, finishes the work, and the ledger applies every change exactly once.

How fast the takeover is is measured by bench/failover.py, not asserted here.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sync.state.store import StateStore
from tests.sync.conftest import postgres_url, unique_prefix
from tests.sync.hubspot_env import NOW, crm_state, popen, sandbox, write_config
from tests.waiting import Lines, wait_on, wait_until

CONTACTS = 2000


#: Notified on every log line of any replica: waits on the replicas' logs never poll.
LOGGED = threading.Condition()


class Replica:
    """A `leadsync run` subprocess whose JSON log lines are collected as they come."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        assert proc.stderr is not None
        self.output = Lines(proc.stderr, LOGGED)

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.output.snapshot() if line.startswith("{")]

    def logged(self, msg: str) -> bool:
        return any(entry.get("msg") == msg for entry in self.lines)

    def role(self) -> str | None:
        started = [e for e in self.lines if e.get("msg") == "daemon started"]
        return started[0]["role"] if started else None


def wait(predicate: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Wait for a condition on the replicas' logs, woken by each new line."""
    wait_on(LOGGED, predicate, what=what, timeout=timeout)


def applied_count(url: str, prefix: str) -> int:
    store = StateStore.open(url, now=NOW, table_prefix=prefix)
    try:
        return sum(1 for r in store.ledger("hs", "contact") if r.status == "applied")
    finally:
        store.close()


def test_kill_9_of_the_leader_mid_run_hands_over_to_a_standby_with_every_change_once(tmp_path):
    url, prefix = postgres_url(), unique_prefix()
    # 5 calls a second (on the real clock, so the window rolls): the 40 calls of the first run
    # take about 8 s, so the kill lands mid-run.
    sb = sandbox(CONTACTS, latency_ms=30, rate_limit_10s=50, clock=time.time)
    replicas: list[Replica] = []
    try:
        env = write_config(
            tmp_path,
            sb,
            state_url=url,
            prefix=prefix,
            chunk_size=100,
            extra="daemon: {port: 0, heartbeat: 300ms}\n",
        )
        setup = popen(env, "-m", "cli.main", "setup", "--apply", "--config",
                      str(env.config))  # fmt: skip
        assert setup.wait(60) == 0
        run = ("-m", "cli.main", "run", "--config", str(env.config))
        replicas.append(Replica(popen(env, *run)))
        wait(lambda: replicas[0].role() == "leader", "the first replica to lead")
        replicas += [Replica(popen(env, *run)) for _ in range(2)]
        wait(lambda: all(r.role() == "standby" for r in replicas[1:]), "two standbys")

        # The leader's writes show only in the database it writes: polled, with a deadline.
        wait_until(lambda: applied_count(url, prefix) >= 100, what="the leader's first writes")
        replicas[0].proc.send_signal(signal.SIGKILL)
        assert replicas[0].proc.wait(30) == -signal.SIGKILL

        standbys = replicas[1:]
        wait(lambda: any(r.logged("leadership taken: scheduling the connections")
                         for r in standbys), "a standby to take over")  # fmt: skip
        new_leaders = [
            r for r in standbys if r.logged("leadership taken: scheduling the connections")
        ]
        assert len(new_leaders) == 1
        wait(
            lambda: any(
                e.get("msg") == "run finished" and e.get("status") == "succeeded"
                for e in new_leaders[0].lines
            ),
            "the new leader's run to succeed",
        )

        store = StateStore.open(url, now=NOW, table_prefix=prefix)
        try:
            applied = Counter(
                r.record_id for r in store.ledger("hs", "contact") if r.status == "applied"
            )
            assert len(applied) == CONTACTS
            assert set(applied.values()) == {1}
            assert store.pending_count("hs") == 0
            statuses = [str(r.status) for r in store.runs("hs", limit=50)]
            assert statuses.count("crashed") == 1
            assert "succeeded" in statuses
            assert "running" not in statuses
        finally:
            store.drop_all()
            store.close()
        state = crm_state(sb)
        assert len(state) == CONTACTS
        assert all(values["score"] is not None for values in state.values())
    finally:
        for r in replicas:
            if r.proc.poll() is None:
                r.proc.send_signal(signal.SIGTERM)
        for r in replicas:
            try:
                r.proc.wait(60)
            except subprocess.TimeoutExpired:
                r.proc.kill()
        sb.stop()
