"""The daemon: jobs per connection, metrics, health and readiness endpoints."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

from config.model_loader import parse_model
from config.settings import Settings
from connectors.errors import AuthError
from sync.account_day import daily_window
from sync.daemon import Daemon
from sync.metrics import Metrics
from tests.sync.fakes import BASE, POINTS_MODEL, FakeCRM

NOW = BASE + timedelta(days=1)


def settings(**daemon) -> Settings:
    conn = {
        "crm": "hubspot",
        "hubspot": {"access_token": "t"},
        "objects": [{"kind": "contact", "model": "m.yaml"}],
        "schedule": {"incremental_every": "1m"},
    }
    return Settings.model_validate(
        {
            "connections": [{**conn, "name": "one"}, {**conn, "name": "two"}],
            "daemon": {"port": 0, **daemon},
        }
    )


@pytest.fixture
def daemon(store):
    crms = {"one": FakeCRM(30), "two": FakeCRM(20)}
    model = parse_model(POINTS_MODEL)
    d = Daemon(
        settings(),
        {("one", "contact"): model, ("two", "contact"): model},
        store,
        connector_factory=lambda conn: crms[conn.name],
        clock=lambda: NOW,
        metrics=Metrics(),
    )
    d.crms = crms  # type: ignore[attr-defined]
    yield d
    d.shutdown()


def get(daemon, path):
    url = f"http://127.0.0.1:{daemon.health.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def sample(daemon, name, **labels):
    return daemon.metrics.registry.get_sample_value(name, labels)


def test_jobs_run_each_connection_and_feed_metrics_and_readiness(daemon):
    daemon.start(run_now=False)
    assert get(daemon, "/readyz")[0] in (200, 503)
    for name in ("one", "two"):
        (result,) = daemon.run_job(name, full=True)
        assert (result.status, result.counts.written) == ("succeeded", daemon.crms[name].n)
    assert sample(daemon, "leadsync_runs_total", connection="one", kind="contact",
                  mode="full", status="succeeded") >= 1  # fmt: skip
    assert sample(daemon, "leadsync_records_total", connection="two", kind="contact",
                  outcome="written") == 20  # fmt: skip
    assert sample(daemon, "leadsync_api_calls_total", connection="one", crm="hubspot") >= 2
    assert sample(daemon, "leadsync_last_success_timestamp_seconds", connection="one",
                  kind="contact") == NOW.timestamp()  # fmt: skip
    assert sample(daemon, "leadsync_dead_letters", connection="one") == 0
    status, body = get(daemon, "/readyz")
    assert status == 200
    assert json.loads(body)["connections"]["two"]["last_status"] == "succeeded"
    assert get(daemon, "/healthz") == (200, '{"status": "ok"}')
    status, text = get(daemon, "/metrics")
    assert status == 200 and 'leadsync_records_total{connection="one"' in text
    assert get(daemon, "/nope")[0] == 404


def test_schedule_has_an_incremental_and_a_full_job_per_connection(daemon):
    ran = threading.Event()

    def executed(event: JobExecutionEvent) -> None:
        if event.job_id == "two:incremental":
            ran.set()

    daemon.scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
    daemon.start()
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    assert sorted(jobs) == ["one:full", "one:incremental", "retention", "two:full",
                            "two:incremental"]  # fmt: skip
    for job_id in ("one:full", "one:incremental"):
        assert (jobs[job_id].max_instances, jobs[job_id].coalesce) == (1, True)
    assert (
        str(jobs["one:full"].trigger)
        == "cron[month='*', day='*', day_of_week='*', hour='2', minute='0']"
    )
    assert jobs["one:incremental"].trigger.interval == timedelta(minutes=1)
    # the first incremental run of each connection starts at once (a full read: no watermark)
    assert ran.wait(timeout=30), "the first incremental run of 'two' never ran"
    assert sample(daemon, "leadsync_runs_total", connection="two", kind="contact", mode="full",
                  status="succeeded") == 1  # fmt: skip


def test_readiness_fails_when_the_last_run_failed(daemon):
    daemon.crms["two"].raise_on_read = AuthError("401: token rejected")
    daemon.start(run_now=False)
    daemon.run_job("one", full=True)
    (failed,) = daemon.run_job("two", full=True)
    assert failed.status == "failed"
    status, body = get(daemon, "/readyz")
    details = json.loads(body)
    assert status == 503 and details["ready"] is False
    assert details["connections"]["two"] == {
        "ready": False,
        "last_status": "failed",
        "last_success": None,
        "last_error": "AuthError: 401: token rejected",
    }
    assert details["connections"]["one"]["ready"] is True


class SignallingLock:
    """A lock that tells when a second job is waiting for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.contended = threading.Event()

    def acquire(self, timeout: float = -1) -> bool:
        if self._lock.acquire(blocking=False):
            return True
        self.contended.set()
        return self._lock.acquire(timeout=timeout)

    def release(self) -> None:
        self._lock.release()


def test_jobs_of_one_connection_queue_instead_of_overlapping(daemon):
    lock = daemon.locks["one"] = SignallingLock()
    crm = daemon.crms["one"]
    entered, release = threading.Event(), threading.Event()
    active, peak = [0], [0]
    original = crm.iter_pages

    def slow_pages(*args, **kwargs):
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        entered.set()
        release.wait(10)
        try:
            yield from original(*args, **kwargs)
        finally:
            active[0] -= 1

    crm.iter_pages = slow_pages
    results = []
    first = threading.Thread(target=lambda: results.append(daemon.run_job("one", full=False)))
    second = threading.Thread(target=lambda: results.append(daemon.run_job("one", full=True)))
    first.start()
    entered.wait(10)
    second.start()
    assert lock.contended.wait(10), "the second job never waited for the first"
    release.set()
    first.join(10)
    second.join(10)
    assert peak[0] == 1
    assert sorted(r[0].status for r in results) == ["succeeded", "succeeded"]


def test_shutdown_marks_not_alive(daemon):
    daemon.start()
    daemon.stop.set()
    daemon.wait()
    assert daemon.readiness.alive is False
    assert not daemon.scheduler.running


class CatchingCRM(FakeCRM):
    """A fake CRM whose daily cap is told of every process's recorded calls."""

    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.caught: list[int] = []

    def catch_up(self, recorded: int) -> None:
        self.caught.append(recorded)


def test_before_each_job_the_kept_connector_counts_the_calls_other_processes_recorded(store):
    crm = CatchingCRM(30)
    d = Daemon(
        settings(),
        {
            ("one", "contact"): parse_model(POINTS_MODEL),
            ("two", "contact"): parse_model(POINTS_MODEL),
        },
        store,
        connector_factory=lambda conn: crm,
        clock=lambda: NOW,
        metrics=Metrics(),
    )
    try:
        (first,) = d.run_job("one", full=True)
        assert crm.caught == []  # a connector just built was seeded with the store's count
        # a backtest in another process spent 123 calls of the same allowance meanwhile
        store.record_api_calls("one", command="backtest", run_id=None, calls=123,
                               rate_limited=0, at=NOW)  # fmt: skip
        recorded = daily_window(store, d.settings.connections[0], NOW).calls
        assert recorded == first.counts.api_calls + 123
        d.run_job("one", full=False)
        assert crm.caught == [recorded]
    finally:
        d.shutdown()
