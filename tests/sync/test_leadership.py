"""High availability: one leader schedules the runs, standbys are ready and take over."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import sqlalchemy as sa

from config.model_loader import parse_model
from sync.daemon import Daemon
from sync.leadership import FileLeadership, PostgresLeadership
from sync.metrics import Metrics
from sync.state.store import StateStore
from tests.sync.conftest import postgres_url, unique_prefix
from tests.sync.fakes import BASE, POINTS_MODEL, FakeCRM
from tests.sync.test_daemon import NOW, settings

#: Heartbeats are driven by the tests (`beat()`); the background one never fires in a test.
NEVER = 3600.0


def readyz(daemon: Daemon) -> tuple[int, dict[str, Any]]:
    assert daemon.health is not None
    url = f"http://127.0.0.1:{daemon.health.port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def replica(store: StateStore, leadership=None) -> Daemon:
    model = parse_model(POINTS_MODEL)
    crms = {"one": FakeCRM(5), "two": FakeCRM(5)}
    return Daemon(
        settings(),
        {("one", "contact"): model, ("two", "contact"): model},
        store,
        connector_factory=lambda conn: crms[conn.name],
        clock=lambda: NOW,
        metrics=Metrics(),
        leadership=leadership,
        heartbeat_s=NEVER,
    )


def connection_jobs(daemon: Daemon) -> list[str]:
    return sorted(j.id for j in daemon.scheduler.get_jobs() if j.id != "retention")


@pytest.fixture
def pg_stores():
    url, prefix = postgres_url(), unique_prefix()
    stores = [StateStore.open(url, now=BASE, table_prefix=prefix) for _ in range(2)]
    yield stores
    stores[0].drop_all()
    for s in stores:
        s.close()


def test_on_postgresql_one_replica_leads_and_the_other_stands_by_ready(pg_stores):
    leader, standby = replica(pg_stores[0]), replica(pg_stores[1])
    try:
        leader.start(run_now=False)
        standby.start(run_now=False)
        assert (leader.role, standby.role) == ("leader", "standby")
        assert connection_jobs(leader) == ["one:full", "one:incremental", "two:full",
                                           "two:incremental"]  # fmt: skip
        assert connection_jobs(standby) == []
        status, body = readyz(standby)
        assert (status, body["role"], body["ready"]) == (200, "standby", True)
        assert readyz(leader)[1]["role"] == "leader"
        assert leader.metrics.registry.get_sample_value("leadsync_leader") == 1
        assert standby.metrics.registry.get_sample_value("leadsync_leader") == 0
        assert standby.beat() == "standby"  # the leader still holds it
    finally:
        leader.shutdown()
        standby.shutdown()


def test_a_standby_takes_over_when_the_leader_shuts_down(pg_stores):
    leader, standby = replica(pg_stores[0]), replica(pg_stores[1])
    try:
        leader.start(run_now=False)
        standby.start(run_now=False)
        leader.shutdown()
        assert standby.beat(run_now=False) == "leader"
        assert len(connection_jobs(standby)) == 4
        assert readyz(standby)[1]["role"] == "leader"
    finally:
        standby.shutdown()


def terminate_leadership_session(store: StateStore, key: int) -> int:
    """Kill the server session holding advisory lock `key` (as a lost database would)."""
    with store.engine.connect() as conn:
        pids = (
            conn.execute(
                sa.text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND objsubid = 1 AND classid::text::bigint = :hi AND objid::text::bigint = :lo"
                ),
                {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
            )
            .scalars()
            .all()
        )
        for pid in pids:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        conn.commit()
    return len(pids)


def test_a_leader_that_loses_its_database_stops_its_runs_at_once_and_stands_by(pg_stores):
    leadership = PostgresLeadership(pg_stores[0])
    leader, standby = replica(pg_stores[0], leadership), replica(pg_stores[1])
    try:
        leader.start(run_now=False)
        standby.start(run_now=False)
        term = leader.term_stop
        assert not term.is_set()
        assert terminate_leadership_session(pg_stores[1], leadership.key) == 1
        assert leader.beat(run_now=False) == "standby"
        assert term.is_set()  # runs of the lost term stop writing
        assert connection_jobs(leader) == []
        assert leader.metrics.registry.get_sample_value("leadsync_leader") == 0
        assert standby.beat(run_now=False) == "leader"
        # the old leader is healthy again but the leadership is taken: it stays a standby
        assert leader.beat(run_now=False) == "standby"
        assert leader.run_job("one", full=True) == []  # a job of the lost term does nothing
    finally:
        leader.shutdown()
        standby.shutdown()


def test_a_standby_that_cannot_reach_the_database_is_not_ready(tmp_path, pg_stores):
    class Unreachable:
        last_error = "connection refused"

        def try_acquire(self) -> bool:
            return False

        def holds(self) -> bool:
            return False

        def release(self) -> None:
            return None

    standby = replica(pg_stores[0], Unreachable())
    try:
        standby.start(run_now=False)
        status, body = readyz(standby)
        assert (status, body["role"], body["error"]) == (503, "standby", "connection refused")
    finally:
        standby.shutdown()


def test_on_sqlite_a_file_lock_elects_one_leader(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    stores = [StateStore.open(url, now=BASE) for _ in range(2)]
    first, second = replica(stores[0]), replica(stores[1])
    try:
        first.start(run_now=False)
        second.start(run_now=False)
        assert (first.role, second.role) == ("leader", "standby")
        assert isinstance(first.leadership, FileLeadership)
        assert first.leadership.path == tmp_path / "state.db.leader.lock"
        first.shutdown()
        assert second.beat(run_now=False) == "leader"
    finally:
        first.shutdown()
        second.shutdown()
        for s in stores:
            s.close()


def test_heartbeat_setting_bounds():
    with pytest.raises(ValueError, match="between 100ms and 1m"):
        settings(heartbeat="5m")
    assert settings().daemon.heartbeat.total_seconds() == 2
    assert settings(heartbeat="500ms").daemon.heartbeat.total_seconds() == 0.5
