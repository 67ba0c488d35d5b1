"""`leadsync run`: every connection on its schedule, in one process, until SIGTERM.

APScheduler (3.x, background scheduler) holds per connection an incremental job (interval) and a
full rescore (cron, in the connection's time zone), each `max_instances=1, coalesce=True`, plus a
daily retention job. The two jobs of one connection queue on an in-process lock, so a full
rescore due while an incremental run is going waits for it instead of being dropped; the run lock
(`sync.lock`) keeps other processes out. A stop request (SIGTERM/SIGINT sets `stop`) lets each
running engine finish its page and save its cursor; `shutdown` then waits for the jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import ConnectionSettings, Settings
from connectors.base import Connector
from scoring.model import ScoringModel
from sync.connections import build_connector, calls_today, outage_policy, run_options
from sync.engine import Engine, utc_now
from sync.health import HealthServer, Readiness
from sync.lock import LockBusy
from sync.metrics import Metrics
from sync.run_summary import RunResult
from sync.state.store import StateStore

log = logging.getLogger("leadsync.daemon")
UTC_ZONE = "UTC"


def stale_after(settings: Settings, conn: ConnectionSettings) -> timedelta:
    """How old a connection's last success may be for `/readyz` to pass."""
    configured = settings.daemon.stale_after
    return configured or conn.schedule.incremental_every * 3 + timedelta(minutes=10)


def full_trigger(conn: ConnectionSettings) -> CronTrigger:
    """The full-rescore trigger of `conn`, in its time zone."""
    return CronTrigger.from_crontab(conn.schedule.full_cron, timezone=conn.schedule.timezone)


def incremental_trigger(conn: ConnectionSettings) -> IntervalTrigger:
    """The incremental trigger of `conn`."""
    return IntervalTrigger(
        seconds=conn.schedule.incremental_every.total_seconds(), timezone=UTC_ZONE
    )


class Daemon:
    """The scheduler, the health endpoint and the jobs of every configured connection."""

    def __init__(
        self,
        settings: Settings,
        models: dict[tuple[str, str], ScoringModel],
        store: StateStore,
        *,
        connector_factory: Callable[[ConnectionSettings], Connector] | None = None,
        clock: Callable[[], datetime] = utc_now,
        stop: threading.Event | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.models = models
        self.store = store
        self.connector_factory = connector_factory or self._build_connector
        self.clock = clock
        self.stop = stop or threading.Event()
        self.metrics = metrics or Metrics()
        self.connectors: dict[str, Connector] = {}
        self.locks = {c.name: threading.Lock() for c in settings.connections}
        self.readiness = Readiness({c.name: stale_after(settings, c) for c in settings.connections})
        self.scheduler = BackgroundScheduler(
            timezone=UTC_ZONE,
            executors={"default": ThreadPoolExecutor(max(2, 2 * len(settings.connections)))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        self.health: HealthServer | None = None

    def start(self, *, run_now: bool = True) -> None:
        """Seed readiness from stored runs, schedule the jobs (the first incremental run at once
        unless `run_now` is False) and serve the endpoints."""
        now = self.clock()
        for conn in self.settings.connections:
            for row in self.store.runs(conn.name, limit=20):
                if row.finished_at is not None and not row.dry_run:
                    self.readiness.record(conn.name, row.status, row.finished_at, row.error)
                    break
            self.scheduler.add_job(
                self.run_job,
                incremental_trigger(conn),
                args=[conn.name],
                kwargs={"full": False},
                id=f"{conn.name}:incremental",
                name=f"{conn.name} incremental",
                **({"next_run_time": now} if run_now else {}),
            )
            self.scheduler.add_job(
                self.run_job,
                full_trigger(conn),
                args=[conn.name],
                kwargs={"full": True},
                id=f"{conn.name}:full",
                name=f"{conn.name} full rescore",
            )
        self.scheduler.add_job(
            self.prune, CronTrigger(hour=3, minute=17, timezone=UTC_ZONE), id="retention"
        )
        daemon = self.settings.daemon
        self.health = HealthServer(
            daemon.host,
            daemon.port,
            metrics=self.metrics,
            readiness=self.readiness,
            clock=self.clock,
        ).start()
        self.scheduler.start()
        log.info(
            "daemon started",
            extra={
                "connections": [c.name for c in self.settings.connections],
                "health": f"http://{daemon.host}:{self.health.port}/healthz",
            },
        )
        self.prune()

    def _build_connector(self, conn: ConnectionSettings) -> Connector:
        # Seeded with today's stored calls so a restarted daemon keeps the daily cap.
        return build_connector(conn, daily_used=calls_today(self.store, conn, self.clock()))

    def run_job(self, name: str, *, full: bool) -> list[RunResult]:
        """One scheduled run of connection `name` (every kind, in configured order)."""
        lock = self.locks[name]
        while not lock.acquire(timeout=0.5):
            if self.stop.is_set():
                return []
        try:
            return self._run_locked(self.settings.connection(name), full=full)
        except Exception as exc:  # a job must never take the scheduler down
            log.exception("run crashed", extra={"connection": name})
            self.readiness.record(name, "failed", self.clock(), f"{type(exc).__name__}: {exc}")
            return []
        finally:
            lock.release()

    def _run_locked(self, conn: ConnectionSettings, *, full: bool) -> list[RunResult]:
        connector = self.connectors.get(conn.name)
        if connector is None:
            connector = self.connectors[conn.name] = self.connector_factory(conn)
        results: list[RunResult] = []
        for obj in conn.objects:
            if self.stop.is_set():
                break
            engine = Engine(
                self.store,
                connector,
                connection=conn.name,
                clock=self.clock,
                stop=self.stop,
                outage=outage_policy(conn),
            )
            try:
                result = engine.run(
                    obj.kind,
                    self.models[(conn.name, obj.kind)],
                    run_options(conn, full=full, dry_run=False),
                )
            except LockBusy as exc:
                log.info("run skipped", extra={"connection": conn.name, "reason": str(exc)})
                return results
            self.metrics.observe(
                result,
                crm=conn.crm,
                dead_letters=self.store.dead_letter_count(conn.name),
                pending=self.store.pending_count(conn.name),
            )
            results.append(result)
        if results and all(r.status != "interrupted" for r in results):
            worst = next((r for r in results if r.status != "succeeded"), results[-1])
            self.readiness.record(conn.name, worst.status, self.clock(), worst.error)
        return results

    def prune(self) -> None:
        """Apply the retention settings."""
        removed = self.store.prune(self.settings.retention, now=self.clock())
        if any(removed.values()):
            log.info("retention applied", extra=removed)

    def wait(self) -> None:
        """Block until `stop` is set, then shut down."""
        while not self.stop.wait(1.0):
            pass
        self.shutdown()

    def shutdown(self) -> None:
        """Let running jobs finish their page, then stop everything."""
        self.stop.set()
        self.readiness.alive = False
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.health is not None:
            self.health.stop()
        for connector in self.connectors.values():
            connector.close()
        log.info("daemon stopped")
