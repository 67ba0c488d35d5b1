"""`leadsync doctor`: a checklist per connection, for the day of the install and the day it breaks.

Config valid (loading it is the first check: a bad file exits 2 with every located problem), the
state store reachable, migrated and intact (or not there yet: doctor creates none), then per
connection: the CRM reachable and its clock
close to ours, the credentials accepted, the scopes and permissions there, every output property
present with the right type and visible, the daily budget's headroom, and on Salesforce, for
models with email rules, whether list-email results are read. Each line says what
was found and, when something is wrong, what to do. Exit 0 when nothing failed (warnings
allowed), 1 otherwise. Nothing in the CRM changes; the one thing kept is the HubSpot account's
time zone when doctor had to ask for it, in the state store where runs keep it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime

import click
import requests
import sqlalchemy as sa

from cli.commands.runs import Context, config_options, open_store
from cli.render import table
from config.loader import load_config, load_models
from config.redaction import redact
from config.settings import ConnectionSettings
from connectors.base import Connector
from connectors.errors import (
    AuthError,
    BudgetExhausted,
    ConnectorError,
    MissingPermission,
    PermanentError,
)
from sync.account_day import DailyWindow, daily_window, remember_zone
from sync.call_log import CallLog
from sync.connections import hubspot_options, metered_connector, salesforce_options
from sync.engine import utc_now
from sync.state.errors import database_name
from sync.state.migrations import LATEST
from sync.state.store import StateStore

OK, WARN, FAIL = "ok", "warn", "FAIL"
#: Clock skew against the CRM that deserves a warning, and one that fails the check (seconds):
#: incremental reads start at the saved watermark minus `read.overlap`, and decay is computed
#: from our clock, so minutes of skew lose changes or age engagement wrongly.
SKEW_WARN_S, SKEW_FAIL_S = 30.0, 120.0
#: Share of the daily cap used that deserves a warning.
BUDGET_WARN = 0.8


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    scope: str
    name: str
    status: str
    detail: str


def check_state_store(ctx: Context) -> list[Check]:
    """The state store: reachable, at the schema version this leadsync understands, intact."""
    store = ctx.store
    checks = [Check("state", "reachable", OK, f"{store.dialect} state store opened")]
    with store.engine.connect() as conn:
        version = conn.execute(
            sa.select(sa.func.max(store.t.schema_version.c.version))
        ).scalar_one()
    problems = store.integrity_problems()
    intact = not problems
    if store.dialect == "sqlite":
        integrity = "PRAGMA quick_check: ok" if intact else "; ".join(problems[:3])
    else:
        integrity = "PostgreSQL checks its own pages"
    migrated = version == LATEST
    checks.append(
        Check(
            "state",
            "migrated",
            OK if migrated else FAIL,
            f"schema version {version}"
            + ("" if migrated else f", this leadsync expects {LATEST}: restart to migrate"),
        )
    )
    checks.append(
        Check(
            "state",
            "integrity",
            OK if intact else FAIL,
            integrity if intact else f"{integrity}: restore the database from a backup",
        )
    )
    return checks


def crm_url(conn: ConnectionSettings) -> tuple[str, str | None, float]:
    """(base URL, CA bundle, timeout) of the connection's CRM."""
    if conn.hubspot is not None:
        hub = hubspot_options(conn.hubspot)
        return hub.base_url, hub.ca_bundle, hub.timeout
    assert conn.salesforce is not None
    sf = salesforce_options(conn.salesforce)
    return sf.login_url, sf.ca_bundle, sf.timeout


def check_clock(conn: ConnectionSettings, now: Callable[[], datetime]) -> Check:
    """Our clock against the `Date` header of the CRM's answer (any status will do)."""
    url, ca_bundle, timeout = crm_url(conn)
    try:
        response = requests.get(url, timeout=timeout, verify=ca_bundle or True)
    except requests.RequestException as exc:
        return Check(
            conn.name,
            "CRM reachable",
            FAIL,
            f"{url}: {type(exc).__name__}; check base_url/login_url, the network and ca_bundle",
        )
    header = response.headers.get("Date")
    if not header:
        return Check(conn.name, "clock skew", WARN, f"{url} sent no Date header to compare")
    skew = (now() - parsedate_to_datetime(header)).total_seconds()
    status = OK if abs(skew) < SKEW_WARN_S else WARN if abs(skew) < SKEW_FAIL_S else FAIL
    detail = f"{skew:+.0f} s against {url}"
    if status != OK:
        detail += "; synchronise this host's clock (NTP)"
    return Check(conn.name, "clock skew", status, detail)


def check_schema(ctx: Context, conn: ConnectionSettings, connector: Connector) -> list[Check]:
    """Credentials, scopes and every output property of every object (no changes made)."""
    checks: list[Check] = []
    for obj in conn.objects:
        try:
            report = connector.ensure_schema(obj.kind, ctx.outputs_for(conn.name, obj), apply=False)
        except AuthError as exc:
            return [Check(conn.name, "credentials", FAIL, f"{exc}; check the token or client")]
        except (MissingPermission, PermanentError) as exc:
            return [
                Check(conn.name, "credentials", OK, "accepted"),
                Check(conn.name, "scopes and permissions", FAIL, str(exc)),
            ]
        if not checks:
            checks += [
                Check(conn.name, "credentials", OK, "accepted"),
                Check(conn.name, "scopes and permissions", OK, "schema readable"),
            ]
        bad = [f for f in report.fields if f.state not in ("ok", "created", "updated")]
        if not bad:
            checks.append(
                Check(
                    conn.name,
                    f"{obj.kind} outputs",
                    OK,
                    f"{len(report.fields)} properties present with the right types",
                )
            )
            continue
        missing = [f.crm_name for f in bad if f.state == "missing"]
        conflicts = [f"{f.crm_name} ({f.detail})" for f in bad if f.state == "conflict"]
        lacking = [f"{f.crm_name} ({f.detail})" for f in bad if f.state == "incomplete"]
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}: run `leadsync setup --apply`")
        if lacking:
            parts.append(
                f"incomplete {', '.join(lacking)}: run `leadsync setup --apply` to add them"
            )
        if conflicts:
            parts.append(f"wrong type {', '.join(conflicts)}: fix or delete them in the CRM")
        checks.append(Check(conn.name, f"{obj.kind} outputs", FAIL, "; ".join(parts)))
    return checks


def check_model_properties(
    ctx: Context, conn: ConnectionSettings, connector: Connector
) -> list[Check]:
    """Whether the CRM has every property each model of the connection reads, as `validate
    --config` checks: a misspelt name would otherwise make its rule silently never fire."""
    from cli.crm_properties import unknown_in_crm

    checks: list[Check] = []
    for obj in conn.objects:
        model = ctx.model_for(conn.name, obj)
        unknown = unknown_in_crm(
            conn=conn, connector=connector, kind=obj.kind, model=model, model_path=obj.model
        )
        if unknown is None:
            continue
        name = f"{obj.kind} model properties"
        if not unknown:
            detail = f"model '{model.name}': every property it reads is in the CRM"
            checks.append(Check(conn.name, name, OK, detail))
            continue
        more = f"; and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        detail = (
            f"model '{model.name}': {unknown[0]}{more}; its rules never fire until fixed "
            "(`leadsync validate --config` lists each)"
        )
        checks.append(Check(conn.name, name, FAIL, detail))
    return checks


def check_budget(
    ctx: Context, conn: ConnectionSettings, connector: Connector, calls: CallLog | None = None
) -> Check:
    """Today's calls against the connection's daily cap, as far as it is known (with
    doctor's own, recorded through `calls` first), and when the HubSpot account's day
    resets."""
    org_limit = 0
    if conn.salesforce is not None:
        from connectors.salesforce import SalesforceConnector

        assert isinstance(connector, SalesforceConnector)
        _, org_limit = connector.org_allowance()
    day = _day(ctx, conn, connector, calls)
    used = day.calls
    note = f"; {day.note}" if day.note else ""
    if conn.hubspot is not None:
        cap = conn.hubspot.daily_budget
        if not cap:
            detail = f"{used:,} calls {day.label}, no daily_budget{note}"
            return Check(conn.name, "budget headroom", OK, detail)
        where = "daily_budget"
    else:
        assert conn.salesforce is not None
        daily_share = salesforce_options(conn.salesforce).daily_share
        from connectors.salesforce.budget import share_cap, share_text

        cap = share_cap(daily_share, org_limit)
        where = f"{share_text(daily_share)} of the org's {org_limit:,}"
    share = used / cap
    status = OK if share < BUDGET_WARN else WARN if share < 1 else FAIL
    detail = f"{used:,} of {cap:,} calls {day.label} ({where}, {share:.0%}){note}"
    if status != OK:
        detail += "; raise the cap or space the full rescores"
    return Check(conn.name, "budget headroom", status, detail)


def _day(
    ctx: Context, conn: ConnectionSettings, connector: Connector, calls: CallLog | None
) -> DailyWindow:
    """The connection's daily window; for HubSpot in the account's time zone, asked of the
    account (one call) unless the state store saw it lately. A zone asked is kept in the state
    store as runs keep it (`remember_zone`), so `status` and later processes place the day
    where doctor did; before the first run the store is an empty one in memory, and nothing
    is kept."""
    now = utc_now()
    day = daily_window(ctx.store, conn, now)
    looked_up = None
    if conn.hubspot is not None and day.given_zone is None:
        from connectors.hubspot import HubSpotConnector

        assert isinstance(connector, HubSpotConnector)
        looked_up = connector.account_zone()
        if looked_up is not None:
            remember_zone(ctx.store, conn.name, looked_up, now=now)
    if calls is not None:
        calls.flush()
    return daily_window(ctx.store, conn, now, looked_up=looked_up)


def check_list_email(ctx: Context, conn: ConnectionSettings, connector: Connector) -> list[Check]:
    """On Salesforce, when a model scores email engagement: whether list-email results
    (`ListEmailSentResult`, API 67.0+) are read, and which of their engagement fields the org
    has (a warning when none: list-email opens then count only through EmailStatus)."""
    email = {"email_open", "email_click", "email_reply"}
    wants = any(
        email & set(ctx.configured(conn.name, obj.kind).event_types) for obj in conn.objects
    )
    if conn.salesforce is None or not wants:
        return []
    from connectors.salesforce import SalesforceConnector

    assert isinstance(connector, SalesforceConnector)
    access = connector.list_email_access()
    status = OK if access.version else WARN
    return [Check(conn.name, "list email results", status, access.note)]


@contextmanager
def _connector(ctx: Context, conn: ConnectionSettings) -> Iterator[tuple[Connector, CallLog]]:
    # The zone the store knows spares a lookup; doctor's own calls are not held to the cap
    # (it must still diagnose a spent day), so the window's calls do not seed it.
    day = daily_window(ctx.store, conn, utc_now())
    with metered_connector(ctx.store, conn, command="doctor", day=replace(day, calls=0)) as (
        connector,
        calls,
    ):
        yield connector, calls


def check_connection(ctx: Context, conn: ConnectionSettings) -> list[Check]:
    """Every check of one connection; a failure that makes the rest meaningless stops there."""
    reach = check_clock(conn, utc_now)
    checks = [reach]
    if reach.status == FAIL and reach.name == "CRM reachable":
        return checks
    try:
        with _connector(ctx, conn) as (connector, calls):
            schema = check_schema(ctx, conn, connector)
            checks += schema
            # outputs missing or of the wrong type (setup's to fix) leave the rest meaningful;
            # refused credentials or permissions do not
            if not any(c.name in {"credentials", "scopes and permissions"} and c.status == FAIL
                       for c in schema):  # fmt: skip
                checks += check_model_properties(ctx, conn, connector)
                checks.append(check_budget(ctx, conn, connector, calls))
                checks += check_list_email(ctx, conn, connector)
    except BudgetExhausted as exc:
        checks.append(Check(conn.name, "budget headroom", FAIL, str(exc)))
    except ConnectorError as exc:
        checks.append(Check(conn.name, "CRM answers", FAIL, f"{type(exc).__name__}: {exc}"))
    return checks


@click.command("doctor")
@config_options
@click.option("--connection", help="Only this connection (default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def doctor_command(
    *, config: str, secrets_dir: str | None, connection: str | None, fmt: str
) -> int:
    """Check the config, the state store and each connection's CRM access; change nothing."""
    loaded = load_config(config, secrets_dir=secrets_dir)
    settings = loaded.settings
    url = settings.state_url.get_secret_value()
    # Before the first run there is no state to check, and looking must not create it: the
    # checks below that read the state (calls today) read an empty one in memory.
    fresh = not StateStore.exists(url, table_prefix=settings.state_table_prefix)
    store = StateStore.open("sqlite://", now=utc_now()) if fresh else open_store(settings)
    ctx = Context(loaded, load_models(loaded), store)
    try:
        checks = [Check("config", "valid", OK, f"{config}: {len(ctx.models)} model(s) loaded")]
        if fresh:
            checks.append(
                Check(
                    "state",
                    "reachable",
                    OK,
                    f"no state yet: {database_name(url)} holds none; the first run creates it",
                )
            )
        else:
            checks += check_state_store(ctx)
        for conn in ctx.connections(connection):
            checks += check_connection(ctx, conn)
    finally:
        ctx.store.close()
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    if fmt == "json":
        body = {"ok": failed == 0, "checks": [asdict(c) for c in checks]}
        click.echo(redact(json.dumps(body, indent=2)))
    else:
        click.echo(redact(table(("scope", "check", "result", "detail"), [
            (c.scope, c.name, c.status, c.detail) for c in checks
        ])))  # fmt: skip
        click.echo(f"\n{len(checks)} checks: {failed} failed, {warned} warnings")
    return 1 if failed else 0


def register(group: click.Group) -> None:
    """Add `doctor` to the `leadsync` group."""
    group.add_command(doctor_command)
