"""`leadsync run`: every connection on its schedule, in one process, until SIGTERM.

APScheduler (3.x, background scheduler) holds per connection an incremental job (interval) and a
full rescore (cron, in the connection's time zone), each `max_instances=1, coalesce=True`, plus a
daily retention job. The two jobs of one connection queue on an in-process lock, so a full
rescore due while an incremental run is going waits for it instead of being dropped; the run lock
(`sync.lock`) keeps other processes out. A stop request (SIGTERM/SIGINT sets `stop`) lets each
running engine finish its page and save its cursor; `shutdown` then waits for the jobs.

Several daemons may share one state store: only the replica holding the leadership
(`sync.leadership`) schedules the connections' jobs. The others stand by (`/readyz` 200 with
`"role": "standby"`) and try to take it on every heartbeat; the leader proves its hold on every
heartbeat and, the moment it cannot (its database is gone), stops its runs and stands by.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor as CheckPool
from concurrent.futures import TimeoutError as CheckTimeout
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import ConnectionSettings, Settings
from connectors.base import Connector
from connectors.daily_catch_up import DailyCatchUp
from sync.account_day import daily_window
from sync.alerts import Alert, Alerter, WebhookSender
from sync.call_log import CallLog
from sync.connections import build_connector, outage_policy, run_options
from sync.engine import Engine, utc_now
from sync.health import HealthServer, Readiness
from sync.leadership import Leadership, leadership_for
from sync.lock import LockBusy
from sync.metrics import Metrics
from sync.run import Model
from sync.run_summary import RunResult
from sync.shutdown import stop_aware_sleep, stop_checkpoint
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

    def __init__(  # noqa: PLR0913  collaborators, settings and test seams (clock, sleep)
        self,
        settings: Settings,
        models: Mapping[tuple[str, str], Model],
        store: StateStore,
        *,
        connector_factory: Callable[[ConnectionSettings], Connector] | None = None,
        clock: Callable[[], datetime] = utc_now,
        stop: threading.Event | None = None,
        metrics: Metrics | None = None,
        leadership: Leadership | None = None,
        heartbeat_s: float | None = None,
        send_alert: Callable[[Alert], None] | None = None,
    ) -> None:
        self.settings = settings
        self.models = models
        self.store = store
        self.connector_factory = connector_factory or self._build_connector
        self.clock = clock
        self.stop = stop or threading.Event()
        self.metrics = metrics or Metrics()
        self.connectors: dict[str, Connector] = {}
        #: per connection, where its connector's calls are recorded (command `run`)
        self.call_logs = {
            c.name: CallLog(store, c.name, command="run", clock=clock) for c in settings.connections
        }
        self.locks = {c.name: threading.Lock() for c in settings.connections}
        self.readiness = Readiness({c.name: stale_after(settings, c) for c in settings.connections})
        self.scheduler = BackgroundScheduler(
            timezone=UTC_ZONE,
            executors={"default": ThreadPoolExecutor(max(2, 2 * len(settings.connections)))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        self.health: HealthServer | None = None
        self.leadership = leadership or leadership_for(store)
        alerts = settings.alerts
        self.alerter = Alerter(
            alerts,
            store,
            send_alert or WebhookSender(alerts.webhooks, timeout=alerts.timeout.total_seconds()),
            clock=clock,
        )
        self.heartbeat_s = (
            heartbeat_s if heartbeat_s is not None else settings.daemon.heartbeat.total_seconds()
        )
        self.role = "standby"
        # Set when the runs of the current term must stop: at shutdown, and when the leadership
        # is lost (another replica may take over, so this one must not write on).
        self.term_stop = threading.Event()
        self._checks = CheckPool(max_workers=1, thread_name_prefix="leadership")
        self._check_in_flight: Future[bool] | None = None
        self._heartbeat = threading.Thread(target=self._beat_forever, name="heartbeat", daemon=True)

    def start(self, *, run_now: bool = True) -> None:
        """Seed readiness from stored runs, serve the endpoints and take the leadership if it is
        free (then schedule the jobs, the first incremental run at once unless `run_now` is
        False); otherwise stand by and try again on every heartbeat."""
        self._seed_readiness()
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
        self.beat(run_now=run_now)
        self._heartbeat.start()
        log.info(
            "daemon started",
            extra={
                "connections": [c.name for c in self.settings.connections],
                "health": f"http://{daemon.host}:{self.health.port}/healthz",
                "role": self.role,
            },
        )
        self.prune()

    def _seed_readiness(self) -> None:
        for conn in self.settings.connections:
            for row in self.store.runs(conn.name, limit=20):
                if row.finished_at is not None and not row.dry_run:
                    self.readiness.record(conn.name, row.status, row.finished_at, row.error)
                    break

    def _schedule_connections(self, *, run_now: bool) -> None:
        now = self.clock()
        for conn in self.settings.connections:
            self.scheduler.add_job(
                self.run_job,
                incremental_trigger(conn),
                args=[conn.name],
                kwargs={"full": False},
                id=f"{conn.name}:incremental",
                name=f"{conn.name} incremental",
                replace_existing=True,
                **({"next_run_time": now} if run_now else {}),
            )
            self.scheduler.add_job(
                self.run_job,
                full_trigger(conn),
                args=[conn.name],
                kwargs={"full": True},
                id=f"{conn.name}:full",
                name=f"{conn.name} full rescore",
                replace_existing=True,
            )

    def _unschedule_connections(self) -> None:
        for conn in self.settings.connections:
            for job_id in (f"{conn.name}:incremental", f"{conn.name}:full"):
                if self.scheduler.get_job(job_id) is not None:
                    self.scheduler.remove_job(job_id)

    def beat(self, *, run_now: bool = True) -> str:
        """One heartbeat: a leader proves its hold (and stands down when it cannot), a standby
        tries to take the leadership (and schedules the jobs when it does). Returns the role."""
        if self.stop.is_set():
            return self.role
        if self.role == "leader":
            if not self._check(self.leadership.holds):
                self._stand_down()
        elif self._check(self.leadership.try_acquire):
            self._take_over(run_now=run_now)
        hung = self._check_in_flight is not None
        self.readiness.set_role(
            self.role, "state database not answering" if hung else self.leadership.last_error
        )
        return self.role

    def _check(self, fn: Callable[[], bool]) -> bool:
        """`fn()` on the check thread, False when it raises or takes longer than a heartbeat
        lease (a hung database connection must not hang the heartbeat)."""
        if self._check_in_flight is not None:
            if not self._check_in_flight.done():
                return False
            self._check_in_flight = None
        future = self._checks.submit(fn)
        try:
            return bool(future.result(timeout=max(5.0, 3 * self.heartbeat_s)))
        except CheckTimeout:
            self._check_in_flight = future
            log.error("state database not answering; standing by")
            return False
        except Exception as exc:
            log.error("leadership check failed", extra={"error": f"{type(exc).__name__}: {exc}"})
            return False

    def _take_over(self, *, run_now: bool) -> None:
        self.role = "leader"
        self.term_stop = threading.Event()
        self._seed_readiness()
        self._schedule_connections(run_now=run_now)
        self.metrics.leader.set(1)
        log.info("leadership taken: scheduling the connections")

    def _stand_down(self) -> None:
        self.role = "standby"
        self.term_stop.set()
        self._unschedule_connections()
        self.metrics.leader.set(0)
        log.error("leadership lost: runs stopped, standing by")

    def _beat_forever(self) -> None:
        while not self.stop.wait(self.heartbeat_s):
            try:
                self.beat()
            except Exception:  # the heartbeat must outlive any one failure
                log.exception("heartbeat failed")

    def _build_connector(self, conn: ConnectionSettings) -> Connector:
        # Seeded with today's stored calls so a restarted daemon keeps the daily cap.
        return build_connector(
            conn,
            day=daily_window(self.store, conn, self.clock()),
            sleep=stop_aware_sleep(self.stop),  # retry waits end on shutdown
            meter=self.call_logs[conn.name],
            checkpoint=stop_checkpoint(self.stop),  # so do long reads, between their calls
        )

    def run_job(self, name: str, *, full: bool) -> list[RunResult]:
        """One scheduled run of connection `name` (every kind, in configured order)."""
        lock = self.locks[name]
        term_stop = self.term_stop
        while not lock.acquire(timeout=0.5):
            if term_stop.is_set():
                return []
        try:
            if term_stop.is_set():
                return []
            results = self._run_locked(self.settings.connection(name), full=full, stop=term_stop)
            self._alert(name, results)
            return results
        except Exception as exc:  # a job must never take the scheduler down
            log.exception("run crashed", extra={"connection": name})
            self.readiness.record(name, "failed", self.clock(), f"{type(exc).__name__}: {exc}")
            return []
        finally:
            lock.release()

    def _alert(self, name: str, results: list[RunResult]) -> None:
        connector = self.connectors.get(name)
        try:
            self.alerter.after_job(name, results, connector.usage if connector else None)
        except Exception:  # alerting must never fail a job
            log.exception("alerting failed", extra={"connection": name})

    def _run_locked(
        self, conn: ConnectionSettings, *, full: bool, stop: threading.Event
    ) -> list[RunResult]:
        connector = self.connectors.get(conn.name)
        if connector is None:
            connector = self.connectors[conn.name] = self.connector_factory(conn)
        elif isinstance(connector, DailyCatchUp):
            # other processes (tools, a manual sync) spent calls of the same allowance since
            connector.catch_up(daily_window(self.store, conn, self.clock()).calls)
        results: list[RunResult] = []
        for kind in conn.kinds:
            if stop.is_set():
                break
            engine = Engine(
                self.store,
                connector,
                connection=conn.name,
                clock=self.clock,
                stop=stop,
                outage=outage_policy(conn),
                calls=self.call_logs[conn.name],
            )
            try:
                result = engine.run(
                    kind,
                    self.models[(conn.name, kind)],
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
        """Apply the retention settings (the leader's job; a standby leaves the store alone)."""
        if self.role != "leader":
            return
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
        self.term_stop.set()
        self.readiness.alive = False
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self._heartbeat.is_alive():
            self._heartbeat.join()
        self._checks.shutdown(wait=False, cancel_futures=True)
        self.leadership.release()
        if self.health is not None:
            self.health.stop()
        for connector in self.connectors.values():
            connector.close()
        for calls in self.call_logs.values():
            calls.close()
        log.info("daemon stopped")
