"""Commands that talk to the CRMs: run, sync, setup, status, retry-dead-letters.

Exit codes (as for every command): 0 the command did its job (a sync that dead-lettered some
records still finished); 1 it could not finish (authentication, an outage beyond the retries,
a budget spent before any progress, another process running the connection); 2 a configuration
or usage error.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import sqlalchemy.exc

from cli.render import ProgressLine, failures, plan_report, summary_table, table
from cli.times import time_option
from config.errors import UserError
from config.loader import LoadedConfig, load_config, load_configured
from config.model_group import ModelGroup
from config.settings import ConnectionSettings, ObjectSettings, Settings
from connectors.base import OutputField
from connectors.outputs import output_fields
from scoring.model import ScoringModel
from sync.account_day import DailyWindow, daily_window
from sync.connections import (
    metered_connector,
    outage_policy,
    run_options,
    salesforce_options,
)
from sync.daemon import Daemon, full_trigger
from sync.engine import Engine, utc_now
from sync.lock import LockBusy
from sync.logs import setup_logging
from sync.run_summary import RunResult, shortened
from sync.shutdown import Watchdog, stop_aware_sleep, stop_checkpoint
from sync.state.errors import StateDatabaseError, database_name
from sync.state.records import RunStatus
from sync.state.store import StateStore

DEFAULT_CONFIG = "leadsync.yaml"
log = logging.getLogger("leadsync.daemon")


@dataclass
class Context:
    """A loaded configuration with its models and state store."""

    loaded: LoadedConfig
    models: dict[tuple[str, str], ScoringModel]
    store: StateStore
    #: Kinds scored by several models (or with an output prefix): the group the engine runs.
    groups: dict[tuple[str, str], ModelGroup] = field(default_factory=dict)

    def configured(self, connection: str, kind: str) -> ScoringModel | ModelGroup:
        """What a run of `connection`'s `kind` scores with: its model or its group."""
        return self.groups.get((connection, kind)) or self.models[(connection, kind)]

    def model_for(self, connection: str, obj: ObjectSettings) -> ScoringModel:
        """The model of one `objects` entry of `connection`."""
        group = self.groups.get((connection, obj.kind))
        if group is None:
            return self.models[(connection, obj.kind)]
        return next(s.model for s in group.slots if s.namespace == obj.namespace)

    def outputs_for(self, connection: str, obj: ObjectSettings) -> tuple[OutputField, ...]:
        """The output properties one `objects` entry writes."""
        model = self.model_for(connection, obj)
        return output_fields(model.grades, model.labels, namespace=obj.namespace, model=model.name)

    def run_models(self) -> dict[tuple[str, str], ScoringModel | ModelGroup]:
        """`configured` for every connection and kind."""
        return {key: self.configured(*key) for key in self.models}

    @property
    def settings(self) -> Settings:
        """The validated settings."""
        return self.loaded.settings

    def connections(self, name: str | None) -> list[ConnectionSettings]:
        """All connections, or the one named (a UserError listing the names otherwise)."""
        return chosen(self.settings, name)


def chosen(settings: Settings, name: str | None) -> list[ConnectionSettings]:
    """All connections of `settings`, or the one named (a UserError listing the names
    otherwise)."""
    if name is None:
        return list(settings.connections)
    return [settings.connection(name)]


def open_context(config: str, secrets_dir: str | None, *, with_models: bool = True) -> Context:
    """Load and validate the config (and its models), and open the state store."""
    loaded = load_config(config, secrets_dir=secrets_dir)
    models, groups = load_configured(loaded) if with_models else ({}, {})
    return Context(loaded, models, open_store(loaded.settings), groups)


def open_store(settings: Settings) -> StateStore:
    """The state store of `settings`; a SQLite file and its folder are created private."""
    url = settings.state_url.get_secret_value()
    try:
        return StateStore.open(url, now=utc_now(), table_prefix=settings.state_table_prefix)
    except sqlalchemy.exc.OperationalError as exc:
        raise click.ClickException(
            f"cannot open the state database: {str(exc.orig).splitlines()[0]}"
        ) from None


def _tell_user(name: str) -> None:
    click.echo(f"\n{name}: finishing the page in flight", err=True)


@contextlib.contextmanager
def stop_on_signals(
    stop: threading.Event,
    notify: Callable[[str], None] = _tell_user,
    *,
    grace: float | None = None,
) -> Iterator[None]:
    """SIGTERM and SIGINT set `stop` (the run finishes its page and saves its cursor); with
    `grace`, a `Watchdog` ends the process that many seconds later if it is still there (a
    hanging CRM), abandoning the calls in flight."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    watchdog = Watchdog(grace) if grace is not None else None

    def handler(signum: int, _frame: Any) -> None:
        notify(signal.Signals(signum).name)
        stop.set()
        if watchdog is not None:
            watchdog.arm()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        if watchdog is not None:
            watchdog.disarm()
        for sig, old in previous.items():
            signal.signal(sig, old)


def config_options(fn: Any) -> Any:
    """`--config` and `--secrets-dir`, shared by every command here."""
    fn = click.option(
        "--secrets-dir",
        type=click.Path(file_okay=False),
        envvar="LEADSYNC_SECRETS_DIR",
        help="Folder of secret files for ${VAR} and LEADSYNC_* settings (default /run/secrets).",
    )(fn)
    return click.option(
        "--config",
        "-c",
        "config",
        default=DEFAULT_CONFIG,
        envvar="LEADSYNC_CONFIG",
        show_default=True,
        help="The leadsync YAML configuration.",
    )(fn)


@click.command("sync")
@config_options
@click.option("--connection", help="Run only this connection (default: all).")
@click.option("--full", is_flag=True, help="Rescore every record, not only what changed.")
@click.option("--dry-run", is_flag=True, help="Compute and show the plan; write nothing.")
@time_option("--now", "now", "Score as of this ISO-8601 time.", hidden=True)
@click.option("--verbose", "-v", is_flag=True, help="Log each run's start and end.")
def sync_command(  # noqa: PLR0913  click passes each option as a keyword
    *,
    config: str,
    secrets_dir: str | None,
    connection: str | None,
    full: bool,
    dry_run: bool,
    now: datetime | None,
    verbose: bool,
) -> int:
    """Run every (or one) connection once now, then print a summary."""
    ctx = open_context(config, secrets_dir)
    setup_logging("INFO" if verbose else "WARNING", "text")
    stop = threading.Event()
    stderr = sys.stderr
    progress = ProgressLine(stderr, enabled=stderr.isatty())
    results: list[RunResult] = []
    grace = ctx.settings.daemon.shutdown_grace.total_seconds()
    with stop_on_signals(stop, grace=grace):
        for conn in ctx.connections(connection):
            if stop.is_set():
                break
            with metered_connector(
                ctx.store,
                conn,
                command="sync",
                day=daily_window(ctx.store, conn, utc_now()),
                sleep=stop_aware_sleep(stop),
                checkpoint=stop_checkpoint(stop),
            ) as (connector, calls):
                for kind in conn.kinds:
                    if stop.is_set():
                        break
                    engine = Engine(
                        ctx.store,
                        connector,
                        connection=conn.name,
                        stop=stop,
                        outage=outage_policy(conn),
                        on_progress=progress.update,
                        calls=calls,
                    )
                    options = run_options(conn, full=full, dry_run=dry_run)
                    try:
                        result = engine.run(kind, ctx.configured(conn.name, kind), options, now=now)
                    except LockBusy as exc:
                        result = RunResult(conn.name, kind, "-", dry_run, RunStatus.BUSY, utc_now())
                        result.error = str(exc)
                    results.append(result)
                    progress.finish()
    ctx.store.close()
    click.echo(summary_table(results))
    if dry_run:
        for result in results:
            click.echo("\n" + plan_report(result))
    lines = failures(results)
    if lines:
        click.echo("\n" + "\n".join(lines))
    return 0 if all(r.finished for r in results) else 1


@click.command("run")
@config_options
def run_command(*, config: str, secrets_dir: str | None) -> int:
    """Run the daemon: every connection on its schedule, with /healthz, /readyz, /metrics."""
    ctx = open_context(config, secrets_dir)
    setup_logging(
        ctx.settings.logging.level,
        ctx.settings.logging.format,
        personal_data=ctx.settings.logging.personal_data,
    )
    daemon = Daemon(ctx.settings, ctx.run_models(), ctx.store)

    def notify(name: str) -> None:
        log.info("stop requested; finishing the pages in flight", extra={"signal": name})

    grace = ctx.settings.daemon.shutdown_grace.total_seconds()
    with stop_on_signals(daemon.stop, notify, grace=grace):
        try:
            daemon.start()
        except OSError as exc:
            d = ctx.settings.daemon
            raise UserError(
                f"daemon.port: cannot listen on {d.host}:{d.port} ({exc.strerror}); "
                "choose another daemon.port"
            ) from None
        daemon.wait()
    ctx.store.close()
    return 0


@click.command("setup")
@config_options
@click.option("--connection", help="Only this connection (default: all).")
@click.option("--apply", is_flag=True, help="Create or update the properties/fields.")
def setup_command(
    *, config: str, secrets_dir: str | None, connection: str | None, apply: bool
) -> int:
    """Show (and with --apply, make) leadsync's output properties in each CRM."""
    ctx = open_context(config, secrets_dir)
    conflict = missing = incomplete = False
    for conn in ctx.connections(connection):
        with metered_connector(ctx.store, conn, command="setup") as (connector, _):
            for obj in conn.objects:
                outputs = ctx.outputs_for(conn.name, obj)
                report = connector.ensure_schema(obj.kind, outputs, apply=apply)
                prefix = f" ({obj.output_prefix}*)" if obj.output_prefix else ""
                click.echo(f"{conn.name} ({conn.crm}) {obj.kind}{prefix}:")
                rows = [(f.name, f.crm_name, f.state, f.detail) for f in report.fields]
                click.echo(table(("output", "CRM name", "state", "detail"), rows))
                for action in report.actions:
                    click.echo(f"  {action}")
                click.echo("")
                conflict |= any(f.state == "conflict" for f in report.fields)
                missing |= any(f.state == "missing" for f in report.fields)
                incomplete |= any(f.state == "incomplete" for f in report.fields)
    ctx.store.close()
    if missing and not apply:
        click.echo("properties are missing: run `leadsync setup --apply` to create them")
    if incomplete and not apply:
        click.echo(
            "some properties lack options the model needs: run `leadsync setup --apply` to add "
            "them (the properties and their stored scores stay)"
        )
    if conflict:
        click.echo("some properties exist with another type: fix or delete them in the CRM")
        return 1
    return 0


@click.command("status")
@config_options
@click.option("--connection", help="Only this connection (default: all).")
@click.option(
    "--runs",
    "limit",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="How many recent runs.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Ask each Salesforce org for its daily API allowance (one API call each).",
)
def status_command(
    *, config: str, secrets_dir: str | None, connection: str | None, limit: int, live: bool
) -> int:
    """Per connection: last runs, next runs, errors, dead letters, API calls today."""
    loaded = load_config(config, secrets_dir=secrets_dir)
    settings = loaded.settings
    url = settings.state_url.get_secret_value()
    if not StateStore.exists(url, table_prefix=settings.state_table_prefix):
        # Looking must not create the state store (nor a SQLite file and its folder).
        for conn in chosen(settings, connection):
            click.echo(f"== {conn.name} ({conn.crm}: {', '.join(o.kind for o in conn.objects)})")
            click.echo(
                f"no state yet: {database_name(url)} holds no leadsync state; the first "
                "`leadsync sync` or `leadsync run` creates it\n"
            )
        return 0
    ctx = Context(loaded, {}, open_store(settings))
    now = utc_now()
    damaged = ctx.store.integrity_problems()
    if damaged:
        ctx.store.close()
        raise StateDatabaseError(
            f"state database {database_name(ctx.store.engine.url)}: integrity check failed: "
            f"{'; '.join(damaged)} (restore it from a backup or move it aside; the next run "
            "then starts a new state)"
        )
    for conn in ctx.connections(connection):
        store = ctx.store
        runs = store.runs(conn.name, limit=limit)
        click.echo(f"== {conn.name} ({conn.crm}: {', '.join(conn.kinds)})")
        if runs:
            rows = [
                (
                    r.id, r.kind, ("dry run, " if r.dry_run else "") + r.mode, r.status,
                    r.started_at,
                    round((r.finished_at - r.started_at).total_seconds(), 1)
                    if r.finished_at else None,
                    r.counts.read, r.counts.written, r.counts.failed, r.counts.retried,
                    r.counts.answered_calls, r.counts.rate_limited, shortened(r.error or "", 60),
                )
                for r in runs
            ]  # fmt: skip
            header = (
                "run", "kind", "mode", "status", "started (UTC)", "seconds", "read", "written",
                "failed", "retried", "API calls", "refused", "error",
            )  # fmt: skip
            click.echo(table(header, rows))
        else:
            click.echo("no runs yet")
        last_done = next((r.finished_at for r in runs if r.finished_at and not r.dry_run), None)
        every = conn.schedule.incremental_every
        next_incremental = (last_done + every) if last_done else None
        next_full = full_trigger(conn).get_next_fire_time(None, now)
        click.echo(
            f"next incremental: {_when(next_incremental, now, every)}   "
            f"next full rescore: {next_full.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        )
        letters = store.dead_letters(conn.name)
        day = daily_window(store, conn, now)
        click.echo(
            f"API calls {day.label}: {_against_budget(store, conn, day, live=live)}"
            + (f"; {day.note}" if day.note else "")
            + f"   outbox pending: {store.pending_count(conn.name):,}"
            + f"   dead letters: {len(letters):,}"
        )
        for letter in letters[:5]:
            code = f"{letter.error_code}: " if letter.error_code else ""
            click.echo(f"  dead letter {letter.kind}/{letter.record_id}: {code}{letter.error}")
        if len(letters) > 5:
            codes = Counter(f"{d.kind} {d.error_code or 'error'}" for d in letters)
            click.echo(
                f"  ... and {len(letters) - 5:,} more; open dead letters by kind and code: "
                + ", ".join(f"{name} {count:,}" for name, count in codes.most_common())
            )
        click.echo("")
    ctx.store.close()
    return 0


def _against_budget(
    store: StateStore, conn: ConnectionSettings, day: DailyWindow, *, live: bool
) -> str:
    """Today's calls against the connection's daily cap, as far as it is known, and the
    commands that spent them."""
    used = day.calls
    if conn.hubspot is not None:
        budget = conn.hubspot.daily_budget
        return (
            f"{used:,}"
            + (f" of {budget:,} (daily_budget)" if budget else "")
            + _by_command(store, conn, day)
        )
    assert conn.salesforce is not None
    from connectors.salesforce.budget import RECHECK_S, share_cap, share_text

    daily_share = salesforce_options(conn.salesforce).daily_share
    share = share_text(daily_share)
    if not live:
        # The org's allowance arrives with every Salesforce reply but is not stored.
        return (
            f"{used:,} of {share} of the org's daily allowance (the allowance is not known "
            "offline; `status --live` asks Salesforce, 1 API call)" + _by_command(store, conn, day)
        )
    from connectors.errors import BudgetExhausted
    from connectors.salesforce import SalesforceConnector

    refusal: BudgetExhausted | None = None
    with metered_connector(store, conn, command="status", day=day) as (connector, _):
        assert isinstance(connector, SalesforceConnector)
        try:
            org_used, org_limit = connector.org_allowance()
        except BudgetExhausted as exc:
            refusal = exc
            seen_used, seen_limit = connector.usage.daily_used, connector.usage.daily_limit
    day = replace(day, calls=store.api_calls_since(conn.name, day.since))  # with that call
    if refusal is not None:
        # status is no run: what the refusal says about the allowance is part of the status
        if not seen_limit or seen_used is None or seen_used < seen_limit:
            return f"{day.calls:,} of {share} of the org's daily allowance; {refusal}"
        return (
            f"{day.calls:,} of {share_cap(daily_share, seen_limit):,} ({share} of the org's "
            f"{seen_limit:,} daily calls); the org's whole allowance is spent ({seen_used:,} of "
            f"{seen_limit:,} calls in its rolling 24 hours, other clients' included): Salesforce "
            "refuses calls until enough of them are 24 hours old, and runs ask it again "
            f"{RECHECK_S / 60:.0f} minutes after each refusal" + _by_command(store, conn, day)
        )
    allowed = share_cap(daily_share, org_limit)
    return (
        f"{day.calls:,} of {allowed:,} ({share} of the org's {org_limit:,} daily calls; the "
        f"whole org used {org_used:,} in its rolling 24 hours)" + _by_command(store, conn, day)
    )


def _by_command(store: StateStore, conn: ConnectionSettings, day: DailyWindow) -> str:
    """`; by command: sync 532, backtest 101`: the window's calls by the command that spent
    them, most first (empty when none were spent)."""
    spent = store.api_calls_by_command(conn.name, day.since)
    if not spent:
        return ""
    return "; by command: " + ", ".join(f"{command} {n:,}" for command, n in spent.items())


def _when(moment: datetime | None, now: datetime, every: timedelta) -> str:
    if moment is None:
        return "when the daemon starts"
    if moment <= now:
        return "due now (when the daemon runs)"
    return f"{moment:%Y-%m-%d %H:%M} UTC (every {every})"


@click.command("retry-dead-letters")
@config_options
@click.option("--connection", help="Only this connection (default: all).")
def retry_command(*, config: str, secrets_dir: str | None, connection: str | None) -> int:
    """Fetch dead-lettered records again, rescore them and write what is due."""
    ctx = open_context(config, secrets_dir)
    setup_logging("WARNING", "text")
    stop = threading.Event()
    results: list[RunResult] = []
    with stop_on_signals(stop):
        for conn in ctx.connections(connection):
            kinds = [k for k in conn.kinds if ctx.store.dead_letters(conn.name, k)]
            if not kinds:
                continue
            with metered_connector(
                ctx.store,
                conn,
                command="retry-dead-letters",
                day=daily_window(ctx.store, conn, utc_now()),
            ) as (connector, calls):
                for kind in kinds:
                    engine = Engine(
                        ctx.store, connector, connection=conn.name, stop=stop,
                        outage=outage_policy(conn), calls=calls,
                    )  # fmt: skip
                    try:
                        results.append(
                            engine.retry_dead_letters(
                                kind,
                                ctx.configured(conn.name, kind),
                                run_options(conn, full=False, dry_run=False),
                            )
                        )
                    except LockBusy as exc:
                        busy = RunResult(conn.name, kind, "retry", False, RunStatus.BUSY, utc_now())
                        busy.error = str(exc)
                        results.append(busy)
    ctx.store.close()
    if not results:
        click.echo("no dead letters")
        return 0
    click.echo(summary_table(results))
    lines = failures(results)
    if lines:
        click.echo("\n" + "\n".join(lines))
    return 0 if all(r.finished for r in results) else 1


def register(group: click.Group) -> None:
    """Add the CRM commands to the `leadsync` group."""
    for command in (run_command, sync_command, setup_command, status_command, retry_command):
        group.add_command(command)
