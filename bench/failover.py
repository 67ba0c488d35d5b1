"""Failover: three `leadsync run` replicas on one PostgreSQL, kill -9 of the leader mid-run.

Prints, per trial and as the median of the trials, how long after the kill a standby took the
leadership (goal: within one incremental interval, 10 s here, with the default 2 s heartbeat),
and checks the outcome: every contact written, every change applied exactly once in the ledger.
The sandbox allows 5 calls a second, so the leader's first run (40 calls for 2,000 contacts) is
still going when it is killed.

    python bench/failover.py [--trials 3] [--contacts 2000]

Needs the local PostgreSQL (LEADSYNC_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@
127.0.0.1:5432/test). The last line is one JSON object with the figures and their goals.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.goals import Figure, report, shared_cpu
from sandbox.hubspot import HubSpotSandbox
from sync.state.store import StateStore

INTERVAL_S = 10
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MODEL = ROOT / "config" / "examples" / "models" / "hubspot-professional.yaml"
PG_URL = os.environ.get(
    "LEADSYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class Replica:
    """A `leadsync run` subprocess with its JSON log lines collected as they arrive."""

    def __init__(self, config: Path, environ: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "run", "--config", str(config)],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    def first(self, msg: str) -> dict[str, Any] | None:
        return next((e for e in list(self.lines) if e.get("msg") == msg), None)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def applied(url: str, prefix: str) -> Counter[str]:
    store = StateStore.open(url, now=NOW, table_prefix=prefix)
    try:
        return Counter(r.record_id for r in store.ledger("hs", "contact") if r.status == "applied")
    finally:
        store.close()


def run_statuses(url: str, prefix: str) -> list[str]:
    store = StateStore.open(url, now=NOW, table_prefix=prefix)
    try:
        return [r.status for r in store.runs("hs", limit=50)]
    finally:
        store.close()


def trial(contacts: int) -> dict[str, float | bool]:
    prefix = f"b{uuid.uuid4().hex[:10]}_"
    sb = HubSpotSandbox(
        contacts=contacts, now=NOW, tier="professional", latency_ms=30,
        rate_limit_10s=50, search_per_second=100_000,
    ).start()  # fmt: skip
    replicas: list[Replica] = []
    folder = Path(tempfile.mkdtemp(prefix="leadsync-failover-"))
    try:
        config = folder / "leadsync.yaml"
        config.write_text(
            f"state_url: {PG_URL}\nstate_table_prefix: {prefix}\nconnections:\n"
            f"  - name: hs\n    crm: hubspot\n"
            f'    hubspot: {{base_url: "{sb.url}", access_token: "${{BENCH_TOKEN}}", '
            f"tier: professional, timeout: 5}}\n"
            f"    objects: [{{kind: contact, model: {MODEL}}}]\n"
            f"    schedule: {{incremental_every: {INTERVAL_S}s}}\n"
            f"    write: {{chunk_size: 100}}\n"
            "daemon: {port: 0}\n"
        )
        environ = {**os.environ, "BENCH_TOKEN": sb.token, "PYTHONPATH": str(ROOT)}
        setup = subprocess.run(
            [sys.executable, "-m", "cli.main", "setup", "--apply", "--config",
             str(config)], cwd=ROOT, env=environ, capture_output=True, check=True,
        )  # fmt: skip
        del setup
        replicas.append(Replica(config, environ))
        wait_for(lambda: replicas[0].first("daemon started") is not None, "the leader")
        replicas += [Replica(config, environ) for _ in range(2)]
        wait_for(lambda: all(r.first("daemon started") for r in replicas), "the standbys")
        wait_for(lambda: sum(applied(PG_URL, prefix).values()) >= 100, "the leader's writes")
        killed_at = time.time()
        replicas[0].proc.send_signal(signal.SIGKILL)
        replicas[0].proc.wait(30)
        taken = "leadership taken: scheduling the connections"
        wait_for(lambda: any(r.first(taken) for r in replicas[1:]), "a takeover")
        leader = next(r for r in replicas[1:] if r.first(taken))
        took = leader.first(taken)
        assert took is not None
        takeover_s = datetime.fromisoformat(took["ts"]).timestamp() - killed_at

        def finished() -> bool:
            return any(
                e.get("msg") == "run finished" and e.get("status") == "succeeded"
                for e in list(leader.lines)
            )

        wait_for(finished, "the new leader's run")
        counts = applied(PG_URL, prefix)
        return {
            "takeover_s": round(takeover_s, 3),
            "killed_mid_run": run_statuses(PG_URL, prefix).count("crashed") == 1,
            "all_written": len(counts) == contacts,
            "each_once": set(counts.values()) == {1},
        }
    finally:
        for r in replicas:
            r.stop()
        store = StateStore.open(PG_URL, now=NOW, table_prefix=prefix)
        store.drop_all()
        store.close()
        sb.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--contacts", type=int, default=2000)
    args = parser.parse_args()
    trials = []
    for n in range(args.trials):
        result = trial(args.contacts)
        trials.append(result)
        print(
            f"trial {n + 1}: takeover {result['takeover_s']:.2f} s, killed mid-run "
            f"{result['killed_mid_run']}, all written "
            f"{result['all_written']}, each change applied once {result['each_once']}"
        )
    median = statistics.median(float(t["takeover_s"]) for t in trials)
    correct = all(t["all_written"] and t["each_once"] for t in trials)
    mid_run = all(t["killed_mid_run"] for t in trials)
    print(f"takeover after kill -9 of the leader: median {median:.2f} s of {len(trials)} trials")
    report(
        [
            Figure("takeover_s_median", round(median, 3), INTERVAL_S, "s", at_most=True,
                   note="at most one incremental interval"),
            Figure("ledger_each_change_once", int(correct), 1,
                   note="every contact written and every change applied once in all trials"),
            Figure("killed_mid_run_in_every_trial", int(mid_run), 1),
        ],
        trials=[t["takeover_s"] for t in trials],
        **shared_cpu(),
    )  # fmt: skip


if __name__ == "__main__":
    main()
