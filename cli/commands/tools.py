"""Model tools for RevOps admins: explain, history, preview, backtest and calibrate.

Offline variants read a model file and a CRM export (`--model M --input FILE`); live variants
read the leadsync config (`--config F`), the CRM through its connector and the state store.
None of them writes to the CRM. Exit codes as for every command (0 done, 1 could not finish,
2 user error).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cli.commands.runs import Context, config_options, open_context
from cli.crm_properties import unknown_in_crm
from cli.inputs import IdColumnOption, read_input
from cli.times import time_option
from config.account_links import ACCOUNT_LINKS, ACCOUNT_MEMBERS
from config.account_models import resolve_sources
from config.crm_events import unprovided_event_problems
from config.errors import Problem, ProblemsError, UserError
from config.model_group import Slot
from config.model_loader import load_model
from config.settings import ConnectionSettings
from connectors.account_match import AccountMatcher
from connectors.base import Connector
from connectors.history import HistoryReader
from connectors.salesforce.ids import KIND_PREFIXES, NotASalesforceId, case_safe_id, kind_of
from revops import account_context, crm_outcomes, history, preview
from revops import backtest as bt
from revops import html_report as report
from revops import text_summary as summary
from revops.calibrate import Target, calibrate
from revops.outcomes import Labelled, label
from revops.point_in_time import CutoffPolicy, Rewound, rewind
from scoring import explain
from scoring.coerce import to_datetime
from scoring.explain import Explanation
from scoring.model import ScoringModel
from scoring.types import Record
from sync.account_day import daily_window, remember_zone
from sync.connections import metered_connector
from sync.run import member_request, read_fields, with_accounts

_PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}

ModelOption = click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scoring-model YAML file (offline mode, with --input).",
)
InputOption = click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Records: JSONL (with events) or CSV (delimiter detected).",
)
ReportOption = click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML report with charts.",
)


def _warn(problem: Problem) -> None:
    click.echo(f"warning: {problem}", err=True)


def _records(
    model: ScoringModel, model_path: Path, path: Path, id_column: str | None
) -> list[Record]:
    records = read_input(
        model=model, model_path=model_path, input_path=path, on_problem=_warn, id_column=id_column
    )
    if not records:
        raise UserError(f"{path}: no records to read")
    return records


def _write(path: Path, text: str, what: str, *, force: bool) -> None:
    """Write `text` to `path`, creating its folder when missing (a report asked for in a new
    folder must not fail after all the work)."""
    if path.exists() and not force:
        raise UserError(f"{path} exists; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write the {what}: {exc.strerror}") from None
    click.echo(f"wrote {what} {path}", err=True)


def _offline(model_path: Path | None, input_path: Path | None) -> bool:
    """True for `--model M --input FILE`, False for the live variant (`--config`)."""
    if model_path is not None and input_path is not None:
        return True
    if model_path is None and input_path is None:
        return False
    raise click.UsageError("give both --model and --input (offline), or neither and --config")


@contextmanager
def _live_connector(ctx: Context, conn: ConnectionSettings) -> Iterator[Connector]:
    """A connector for `conn`, closed afterwards; the tools' reads count against the
    connection's daily cap like a sync's and are recorded in the state store under the
    command's name (`backtest`), and the account time zone it looks up is kept."""
    command = click.get_current_context().info_name or "tool"
    day = daily_window(ctx.store, conn, datetime.now(UTC))
    with metered_connector(ctx.store, conn, command=command, day=day) as (connector, _):
        try:
            yield connector
        finally:
            zone = connector.usage.account_zone
            if zone is not None:
                remember_zone(ctx.store, conn.name, zone, now=datetime.now(UTC))


def _object(
    ctx: Context,
    connection: str | None,
    kind: str | None,
    record: str | None = None,
    candidate: Path | None = None,
) -> tuple[ConnectionSettings, str]:
    """The connection and object kind a live command works on: the only one, or the named;
    when the connection scores several, the one a `candidate` model file scores, or on
    Salesforce the one `record`'s id prefix names."""
    conns = ctx.connections(connection)
    if len(conns) > 1:
        names = ", ".join(c.name for c in conns)
        raise UserError(f"the config has several connections ({names}); pick one with --connection")
    conn = conns[0]
    kinds = conn.kinds
    if kind is None:
        if len(kinds) > 1:
            named = _kind_of_model(candidate) or _kind_of_id(conn, record)
            if named in kinds:
                return conn, named
            raise UserError(f"{conn.name} scores {', '.join(kinds)}; pick one with --kind")
        return conn, kinds[0]
    if kind not in kinds:
        raise UserError(f"{conn.name} has no {kind!r} object; it scores {', '.join(kinds)}")
    return conn, kind


def _kind_of_model(path: Path | None) -> str | None:
    """The object a model file scores; None without one or when it does not load (the command
    reports that itself, located)."""
    if path is None:
        return None
    try:
        return load_model(path).object
    except UserError:
        return None


def _kind_of_id(conn: ConnectionSettings, record: str | None) -> str | None:
    """The kind a Salesforce record id's key prefix names (00Q a lead, 003 a contact, 001 an
    account); None elsewhere or for text that is no id."""
    if conn.crm != "salesforce" or record is None:
        return None
    try:
        return kind_of(case_safe_id(record))
    except NotASalesforceId:
        return None


def _record_id(conn: ConnectionSettings, text: str, kind: str) -> str:
    """A record id from the command line in the form the CRM returns and the state stores:
    on Salesforce the 18-character id (a 15-character one from a URL or a report gets its
    suffix); text that is no id, or the id of another kind leadsync scores (a Contact's `003`
    given as a lead), is refused before any API call."""
    if conn.crm != "salesforce":
        return text
    try:
        record_id = case_safe_id(text)
    except NotASalesforceId as exc:
        raise UserError(str(exc)) from None
    other = kind_of(record_id)
    if other is not None and other != kind:
        raise UserError(
            f"{text!r} is a {other} id (prefix {KIND_PREFIXES[other]}), not a {kind}'s "
            f"({KIND_PREFIXES.get(kind, 'another prefix')}): give --kind {other}"
        )
    return record_id


def _own_outputs(
    record: Record, ctx: Context, connection: str, kind: str, picked: Picked
) -> Record:
    """The record with only the picked model's outputs, under their canonical names."""
    group = ctx.groups.get((connection, kind))
    if group is None:
        return record
    slot = next(s for s in group.slots if s.state_kind == picked.state_kind)
    return replace(record, outputs=slot.own(record.outputs))


def model_name_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--model-name` for commands that read one model of a kind scored by several."""
    return click.option(
        "--model-name",
        help="With --config: the model (its name or output prefix part, e.g. pl_a), when the "
        "kind has several (default: the first).",
    )(fn)


@dataclass(frozen=True, slots=True)
class Picked:
    """One configured model of a kind: the model, its file and where its results are stored."""

    model: ScoringModel
    path: Path
    state_kind: str
    #: where the account results its `account.` rules read are stored (None: the account
    #: kind's first model's)
    accounts: str | None = None


def _pick(ctx: Context, conn: ConnectionSettings, kind: str, name: str | None) -> Picked:
    """The model `name` of `conn`'s `kind` (the first when None)."""
    entries = conn.models_of(kind)
    group = ctx.groups.get((conn.name, kind))
    if group is None:
        if name is not None and name != ctx.models[(conn.name, kind)].name:
            raise UserError(f"{conn.name} scores {kind} with one model; drop --model-name")
        return Picked(ctx.models[(conn.name, kind)], entries[0].model, kind)
    try:
        slot = group.slot(name)
    except KeyError:
        names = ", ".join(s.model.name for s in group.slots)
        raise UserError(f"{conn.name} has no {kind} model {name!r}; its models: {names}") from None
    path = next(o.model for o in entries if o.namespace == slot.namespace)
    return Picked(slot.model, path, slot.state_kind, slot.accounts)


def _candidate(ctx: Context, conn: ConnectionSettings, kind: str, path: Path) -> ScoringModel:
    """A model file to try on `conn`'s `kind`, its score roll-ups' `model` resolved against the
    connection's people models as the configuration resolves the live ones."""
    model = load_model(path)
    unprovided = unprovided_event_problems(conn.crm, path, model)
    if unprovided:
        raise ProblemsError(unprovided)
    slots: dict[tuple[str, str], list[Slot]] = {}
    for person in ACCOUNT_MEMBERS.get((conn.crm, kind), ()):
        key = (conn.name, person)
        group = ctx.groups.get(key)
        if group is not None:
            slots[key] = list(group.slots)
        elif key in ctx.models:
            slots[key] = [Slot(ctx.models[key], "", person)]
    resolved, messages = resolve_sources(model, conn, kind, slots)
    if messages:
        raise UserError(f"{path}: " + "; ".join(messages))
    return resolved


def _known_in_crm(
    conn: ConnectionSettings, connector: Connector, kind: str, model: ScoringModel, path: Path
) -> None:
    """Refuse, located in the model file, the properties `model` reads that the CRM lacks,
    before any record is read (a misspelt name would otherwise read as "no data")."""
    unknown = unknown_in_crm(
        conn=conn, connector=connector, kind=kind, model=model, model_path=path
    )
    if unknown:
        raise ProblemsError(unknown)


def _account_model(
    ctx: Context, conn: ConnectionSettings, kind: str, picked: Picked
) -> ScoringModel | None:
    """The account model whose results the people of `kind` read through `account.` rules
    (the account kind's first, or the one the entry names with `account_model`); None when
    the connection scores no accounts."""
    link = ACCOUNT_LINKS.get((conn.crm, kind))
    if link is None:
        return None
    group = ctx.groups.get((conn.name, link[1]))
    if group is not None and picked.accounts is not None:
        return next(s.model for s in group.slots if s.state_kind == picked.accounts)
    return ctx.models.get((conn.name, link[1]))


def live_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--connection` and `--kind` for commands that read one object of one connection."""
    fn = click.option("--kind", help="Object kind, when the connection scores several.")(fn)
    return click.option("--connection", help="Connection name, when the config has several.")(fn)


@click.command("explain")
@click.argument("record_id")
@ModelOption
@InputOption
@IdColumnOption
@config_options
@live_options
@model_name_option
@time_option("--now", "now", "Explain as of this ISO-8601 time (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def explain_command(  # noqa: PLR0913  click passes each option as a keyword
    *,
    record_id: str,
    model_path: Path | None,
    input_path: Path | None,
    id_column: str | None,
    config: str,
    secrets_dir: str | None,
    connection: str | None,
    kind: str | None,
    model_name: str | None,
    now: datetime | None,
    fmt: str,
) -> None:
    """Show how RECORD_ID gets its score: every rule, cap, threshold and the qualification.

    With --config and a past --now, the record is taken back to that moment: events after it
    left out, properties set to their value then where the CRM keeps their history, and the
    account its account. rules read scored as it was then."""
    clock = datetime.now(UTC)
    past = now is not None and now < clock
    now = now or clock
    rewound: Rewound | None = None
    account_lines: list[str] = []
    if _offline(model_path, input_path):
        assert model_path is not None and input_path is not None
        model = load_model(model_path)
        records = read_input(
            model=model,
            model_path=model_path,
            input_path=input_path,
            on_problem=_warn,
            id_column=id_column,
        )
        found = next((r for r in records if r.id == record_id), None)
        if found is None:
            by = f"in column {id_column!r}" if id_column else "(ids: --id-column COLUMN)"
            raise UserError(f"{input_path}: no record with id {record_id!r} {by}")
        explanation = explain(found, model, now)
    else:
        ctx = open_context(config, secrets_dir)
        try:
            conn, obj_kind = _object(ctx, connection, kind, record_id)
            record_id = _record_id(conn, record_id, obj_kind)
            picked = _pick(ctx, conn, obj_kind, model_name)
            model = picked.model
            with _live_connector(ctx, conn) as connector:
                fetched = connector.fetch(
                    obj_kind,
                    [record_id],
                    sorted(read_fields(model, conn.crm, obj_kind)),
                    sorted(model.event_types),
                    members=member_request(model),
                )
                if not fetched:
                    raise UserError(f"{conn.name}: no {obj_kind} with id {record_id!r} in the CRM")
                link = _account_link(ctx, conn, obj_kind, connector, record_id)
                tie = account_context.link_of(conn.crm, obj_kind, model)
                link_history = False
                if past and isinstance(connector, HistoryReader):
                    names = account_context.history_names(conn.crm, obj_kind, model)
                    known = connector.property_history(obj_kind, [record_id], names)
                    rewound = rewind(
                        fetched[0],
                        now,
                        known.values.get(record_id),
                        sorted(model.properties),
                        known.tracked,
                    )
                    fetched = [rewound.record]
                    # the account field's history takes the tie back too (`history_names`)
                    link_history = tie is not None and tie[0] in known.tracked
                if past and tie is not None:
                    # the stored account result is today's: score the account at that moment
                    fetched, accounts = account_context.accounts_at(
                        fetched,
                        [now],
                        connector=connector,
                        crm=conn.crm,
                        kind=obj_kind,
                        model=model,
                        account_model=_account_model(ctx, conn, obj_kind, picked),
                        link_history=link_history,
                    )
                    account_lines = accounts.lines(now.isoformat())
            if not account_lines:
                fetched = list(
                    with_accounts(
                        fetched,
                        model,
                        crm=conn.crm,
                        kind=obj_kind,
                        store=ctx.store,
                        connection=conn.name,
                        accounts=picked.accounts,
                    )
                )
            previous = ctx.store.previous_scores(conn.name, picked.state_kind, [record_id]).get(
                record_id
            )
            fetched = [_own_outputs(fetched[0], ctx, conn.name, obj_kind, picked)]
            explanation = explain(fetched[0], model, now, previous, account_link=link)
        finally:
            ctx.store.close()
    _echo_explanation(explanation, fmt, rewound, account_lines)


def _echo_explanation(
    explanation: Explanation, fmt: str, rewound: Rewound | None, account_lines: list[str]
) -> None:
    """Print an explanation with what it says about the moment it was taken back to."""
    if fmt == "json":
        data = explanation.to_dict()
        if rewound is not None or account_lines:
            moment = {} if rewound is None else rewound.to_dict()
            data["point_in_time"] = {**moment, "accounts": account_lines}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(explanation.to_text())
    lines = [*([] if rewound is None else rewound.lines()), *account_lines]
    if lines:
        click.echo("\n".join(lines))


def _account_link(
    ctx: Context, conn: ConnectionSettings, kind: str, connector: Connector, record_id: str
) -> str | None:
    """How a person is tied to their account, when the connection scores accounts and its
    CRM ties people by a rule (`connectors.account_match.AccountMatcher`)."""
    scores_accounts = any(
        name == conn.name and model.rollup is not None for (name, _), model in ctx.models.items()
    )
    if not scores_accounts or not isinstance(connector, AccountMatcher):
        return None
    return connector.account_links(kind, [record_id]).get(record_id)


@click.command("history")
@click.argument("record_id")
@config_options
@live_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def history_command(  # noqa: PLR0913  click passes each option as a keyword
    *,
    record_id: str,
    config: str,
    secrets_dir: str | None,
    connection: str | None,
    kind: str | None,
    fmt: str,
) -> None:
    """Show RECORD_ID's score changes over time from the ledger, with reasons and versions."""
    ctx = open_context(config, secrets_dir, with_models=False)
    try:
        conn, obj_kind = _object(ctx, connection, kind, record_id)
        record_id = _record_id(conn, record_id, obj_kind)
        entries = history.record_history(ctx.store, conn.name, obj_kind, record_id)
    finally:
        ctx.store.close()
    if fmt == "json":
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2, default=str))
        return
    click.echo(history.render(entries, record_id))


def point_in_time_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options that place each record's cutoff (see `revops.point_in_time`)."""
    fn = click.option(
        "--window-days",
        type=click.FloatRange(min=0),
        help="Records without an outcome date are scored this many days after creation "
        "(default: the median age at cutoff of the records with one).",
    )(fn)
    fn = click.option(
        "--horizon-days",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        help="Score each record this many days before its outcome date.",
    )(fn)
    fn = click.option(
        "--created-column", help="With --input: column with each record's creation date."
    )(fn)
    fn = time_option("--as-of", "as_of", "Score as of this date at the latest.")(fn)
    return click.option(
        "--outcome-date", help="With --input: column with the date of the outcome."
    )(fn)


def _labelled_offline(  # noqa: PLR0913  the command options it passes on
    model: ScoringModel,
    model_path: Path,
    input_path: Path,
    *,
    outcome: str | None,
    outcome_date: str | None,
    as_of: datetime | None,
    created: str | None = None,
    policy: CutoffPolicy | None = None,
    id_column: str | None = None,
) -> Labelled:
    if outcome is None:
        raise click.UsageError("--outcome COLUMN is required with --input")
    records = _records(model, model_path, input_path, id_column)
    return label(
        records,
        outcome=outcome,
        outcome_date=outcome_date,
        created=created,
        as_of=as_of,
        default_now=datetime.now(UTC),
        source=str(input_path),
        policy=policy,
    )


@dataclass(frozen=True, slots=True)
class Study:
    """What backtest and calibrate work on: a model, its file text and labelled records."""

    model: ScoringModel
    text: str
    source: str
    labelled: Labelled
    outcome: str
    #: The CRM the records were read from (`--config`), None for a file (`--input`).
    crm: str | None = None


def _study(  # noqa: PLR0913  the command options it passes on, keyword-only
    *,
    model_path: Path | None,
    input_path: Path | None,
    outcome: str | None,
    outcome_date: str | None,
    created_column: str | None,
    as_of: datetime | None,
    horizon_days: float,
    window_days: float | None,
    config: str,
    secrets_dir: str | None,
    connection: str | None,
    kind: str | None,
    id_column: str | None = None,
    model_name: str | None = None,
) -> Study:
    """The model and labelled records, from a file (`--input`) or the CRM (`--config`).

    With `--config`, `--model` names a candidate to try on the live records instead of the
    configured model.
    """
    policy = CutoffPolicy(horizon_days=horizon_days, window_days=window_days)
    if input_path is not None:
        if model_path is None:
            raise click.UsageError("--input needs --model")
        # Without the dates they move, these options would change nothing, silently.
        if horizon_days and not outcome_date:
            raise click.UsageError(
                "--horizon-days needs --outcome-date with --input (the cutoff is the outcome "
                "date minus the horizon)"
            )
        if window_days is not None and not created_column:
            raise click.UsageError(
                "--window-days needs --created-column with --input (records without an "
                "outcome date are scored that many days after their creation)"
            )
        model = load_model(model_path)
        labelled = _labelled_offline(
            model,
            model_path,
            input_path,
            outcome=outcome,
            outcome_date=outcome_date,
            as_of=as_of,
            created=created_column,
            policy=policy,
            id_column=id_column,
        )
        return Study(model, _read(model_path), str(model_path), labelled, outcome or "")
    if outcome_date or created_column or id_column:
        raise click.UsageError("--outcome-date, --created-column and --id-column go with --input")
    ctx = open_context(config, secrets_dir)
    try:
        conn, obj_kind = _object(ctx, connection, kind, candidate=model_path)
        picked = _pick(ctx, conn, obj_kind, model_name)
        path = model_path or picked.path
        model = _candidate(ctx, conn, obj_kind, path) if model_path else picked.model
        if model.object != obj_kind:
            raise UserError(f"{path}: scores {model.object} records, {conn.name} {obj_kind}")
        with _live_connector(ctx, conn) as connector:
            _known_in_crm(conn, connector, obj_kind, model, path)
            labelled = crm_outcomes.labelled_from_crm(
                connector,
                conn.crm,
                obj_kind,
                model,
                as_of=as_of,
                now=datetime.now(UTC),
                outcome=outcome,
                policy=policy,
                history=connector if isinstance(connector, HistoryReader) else None,
            )
            labelled = account_context.at_cutoffs(
                labelled,
                connector=connector,
                crm=conn.crm,
                kind=obj_kind,
                model=model,
                account_model=_account_model(ctx, conn, obj_kind, picked),
            )
    finally:
        ctx.store.close()
    return Study(model, _read(path), str(path), labelled, crm_outcomes.OUTCOME, conn.crm)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read the model: {exc.strerror}") from None


@click.command("backtest")
@ModelOption
@InputOption
@click.option(
    "--outcome",
    help="With --input: column saying whether the record converted (yes/no, 1/0...). With "
    "--config: converted (default) or won (Salesforce leads converted with a won opportunity; "
    "the default of HubSpot companies and Salesforce Accounts: a won deal on the account; and "
    "of Salesforce Contacts: a contact role on a won opportunity).",
)
@point_in_time_options
@IdColumnOption
@config_options
@live_options
@model_name_option
@ReportOption
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def backtest_command(*, report_path: Path | None, fmt: str, **options: Any) -> None:
    """Measure how well a model's scores predicted conversions (AUC, lift, leakage).

    Offline: --model M --input FILE --outcome COLUMN. Live: --config F (the configured model, or
    a candidate with --model M), each record scored as it was at its cutoff.
    """
    study = _study(**options)
    result = bt.run(study.labelled, study.model, outcome=study.outcome)
    if fmt == "json":
        click.echo(json.dumps(bt.to_dict(result), indent=2, default=str))
    else:
        click.echo(summary.backtest_text(result))
    if report_path is not None:
        _write(report_path, report.backtest_report(result), "report", force=True)


def _target(  # noqa: PLR0913  the command options it checks, keyword-only
    *,
    precision: float | None,
    capacity: int | None,
    per: str,
    arrivals: float | None,
    date_column: tuple[str, str] | None,
    labelled: Labelled,
) -> Target:
    if precision is not None and capacity is not None:
        raise UserError("give --target-precision or --capacity, not both")
    if precision is not None:
        if not 0 < precision < 1:
            raise click.BadParameter(
                "a share between 0 and 1, e.g. 0.3", param_hint="--target-precision"
            )
        return Target(precision=precision, description=f"a precision of {100 * precision:.0f}%")
    if capacity is None:
        return Target()
    if arrivals is None:
        if date_column is None:
            raise UserError(
                f"--capacity needs the number of records arriving per {per}: pass "
                f"--arrivals N, or --date-column COLUMN with each record's creation date"
            )
        name, column = date_column
        dates = [to_datetime(r.properties.get(column)) for r in labelled.records]
        known = [d for d in dates if d is not None]
        if len(known) < 2:
            raise UserError(f"{name}: fewer than two records have a date")
        span = (max(known) - min(known)).total_seconds() / 86400.0
        periods = max(span / _PERIOD_DAYS[per], 1.0)
        arrivals = len(labelled.records) / periods
    # A share of 1 or more: the capacity does not bind (`revops.calibrate.Target`).
    share = capacity / arrivals if arrivals > 0 else math.inf
    return Target(
        share=share,
        description=f"at most {capacity:,} qualified per {per} of about "
        f"{_arrivals_text(arrivals)} arrivals",
    )


def _arrivals_text(arrivals: float) -> str:
    """`317`, or `8.6` below 10 (a floor of 8 would hide that 9 arrive)."""
    return f"{arrivals:.1f}" if arrivals < 10 else f"{math.floor(arrivals):,}"


def _date_column(
    date_column: str | None, created_column: str | None, study: Study
) -> tuple[str, str] | None:
    """Where arrivals are dated, as (how to name it, the records' column): `--date-column`,
    else the records' creation date (`--created-column` offline, the CRM's own field live)."""
    if date_column is not None:
        return f"--date-column {date_column}", date_column
    if created_column is not None:
        return f"--created-column {created_column}", created_column
    if study.crm is not None:
        field = crm_outcomes.CREATED_FIELD[study.crm]
        return f"the creation date ({field})", crm_outcomes.CREATED
    return None


@click.command("calibrate")
@ModelOption
@InputOption
@click.option(
    "--outcome",
    help="With --input: column saying whether the record converted. With --config: converted "
    "(default) or won (the default for HubSpot companies and Salesforce Accounts: a won deal "
    "on the account; and for Salesforce Contacts: a contact role on a won opportunity).",
)
@point_in_time_options
@IdColumnOption
@config_options
@live_options
@model_name_option
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the proposed model (never the current model file).",
)
@click.option("--force", is_flag=True, help="Overwrite --out (and --report) if they exist.")
@click.option(
    "--exclude-leaky",
    is_flag=True,
    help="Drop the rules whose properties look filled after the outcome (see the leakage list).",
)
@click.option(
    "--propose",
    "propose_rules",
    is_flag=True,
    help="Also propose bands for numeric properties and rules for values, kept in the file when "
    "they earn points and gain on held-out folds by at least two standard errors.",
)
@click.option("--target-precision", type=float, help="Qualify so that this share converts.")
@click.option("--capacity", type=int, help="Qualify at most this many records per --per.")
@click.option("--per", type=click.Choice(sorted(_PERIOD_DAYS)), default="week", show_default=True)
@click.option("--arrivals", type=float, help="Records arriving per --per (for --capacity).")
@click.option(
    "--date-column",
    help="Creation-date column to measure arrivals (for --capacity; default: --created-column, "
    "or with --config the CRM's creation date, createdate or CreatedDate).",
)
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True)
@ReportOption
def calibrate_command(  # noqa: PLR0913  click passes each option as a keyword
    *,
    out_path: Path,
    force: bool,
    exclude_leaky: bool,
    propose_rules: bool,
    target_precision: float | None,
    capacity: int | None,
    per: str,
    arrivals: float | None,
    date_column: str | None,
    folds: int,
    report_path: Path | None,
    **options: Any,
) -> None:
    """Propose points and thresholds from data; report held-out AUC before and after.

    Offline: --model M --input FILE --outcome COLUMN. Live: --config F [--connection C], on the
    CRM's records and outcomes, each record as it was at its cutoff.
    """
    if options["model_path"] is not None and out_path.resolve() == options["model_path"].resolve():
        raise UserError(f"--out {out_path} is the current model; write the proposal elsewhere")
    for path in (out_path, report_path):
        if path is not None and path.exists() and not force:
            raise UserError(f"{path} exists; pass --force to overwrite it")
    study = _study(**options)
    if Path(study.source).resolve() == out_path.resolve():
        raise UserError(f"--out {out_path} is the current model; write the proposal elsewhere")
    target = _target(
        precision=target_precision,
        capacity=capacity,
        per=per,
        arrivals=arrivals,
        date_column=_date_column(date_column, options["created_column"], study),
        labelled=study.labelled,
    )
    result = calibrate(
        study.text,
        study.model,
        study.labelled,
        target,
        source=study.source,
        out_name=str(out_path),
        folds=folds,
        outcome=study.outcome,
        exclude_leaky=exclude_leaky,
        propose_rules=propose_rules,
        ignore=[c for c in (options["outcome_date"], options["created_column"], date_column) if c]
        + [crm_outcomes.OUTCOME_DATE, crm_outcomes.CREATED],
    )
    _write(out_path, result.text, "proposed model", force=True)
    click.echo(summary.calibration_text(result, str(out_path)))
    if report_path is not None:
        _write(report_path, report.calibration_report(result), "report", force=True)


@click.command("preview")
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The candidate model to compare with the live one.",
)
@config_options
@live_options
@model_name_option
@click.option(
    "--from-state",
    is_flag=True,
    help="Rescore the records kept in the state store (inputs of their last sync) instead of "
    "reading the CRM.",
)
@click.option("--samples", type=click.IntRange(0, 50), default=5, show_default=True)
@time_option("--now", "now", "Score both models as of this ISO-8601 time (default: now).")
@ReportOption
def preview_command(  # noqa: PLR0913  click passes each option as a keyword
    *,
    model_path: Path,
    config: str,
    secrets_dir: str | None,
    connection: str | None,
    kind: str | None,
    model_name: str | None,
    from_state: bool,
    samples: int,
    now: datetime | None,
    report_path: Path | None,
) -> None:
    """Shadow-score the population with a candidate model against the live one; write nothing."""
    ctx = open_context(config, secrets_dir)
    try:
        conn, obj_kind = _object(ctx, connection, kind, candidate=model_path)
        candidate = _candidate(ctx, conn, obj_kind, model_path)
        picked = _pick(ctx, conn, obj_kind, model_name)
        live = picked.model
        if candidate.object != live.object:
            raise UserError(
                f"{model_path}: scores {candidate.object} records, the live model {live.object}"
            )
        now = now or datetime.now(UTC)
        if from_state:
            result = preview.preview_from_state(
                ctx.store,
                connection=conn.name,
                kind=obj_kind,
                stored_as=picked.state_kind,
                live=live,
                candidate=candidate,
                now=now,
                samples=samples,
            )
        else:
            with _live_connector(ctx, conn) as connector:
                _known_in_crm(conn, connector, obj_kind, candidate, model_path)
                result = preview.preview_from_crm(
                    connector,
                    ctx.store,
                    connection=conn.name,
                    kind=obj_kind,
                    stored_as=picked.state_kind,
                    live=live,
                    candidate=candidate,
                    now=now,
                    samples=samples,
                    accounts=picked.accounts,
                )
    finally:
        ctx.store.close()
    click.echo(preview.render(result))
    if report_path is not None:
        _write(report_path, report.preview_report(result), "report", force=True)


def register(group: click.Group) -> None:
    """Add the model tools to the `leadsync` group."""
    for command in (
        explain_command,
        history_command,
        preview_command,
        backtest_command,
        calibrate_command,
    ):
        group.add_command(command)
