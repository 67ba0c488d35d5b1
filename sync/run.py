"""One run, built whole: where it reads from (`Position`), its collaborators (`RunContext`) and
its state while it goes (`Run`: counts, status, the highest modification time read).

`Run.start` stores the `running` row and builds everything the run uses (page scorer, read and
write outages sharing one `Contact`, the write path `sync.writes.Writes`) before the `Run`
exists; nothing is set on it from outside afterwards. `Run.execute(body)` runs a body (a sync
or a dead-letter retry, in `sync.engine`), which returns the run's `RunStatus`, and stores the
outcome whatever happens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, cast

from config.account_links import ACCOUNT_LINKS
from config.model_group import ModelGroup, Slot
from config.redaction import redact
from config.settings import ReadSettings, WriteSettings
from connectors.base import (
    AccountChange,
    AccountResults,
    Connector,
    MemberRequest,
    Page,
    ReadHints,
)
from connectors.engagement_gates import EngagementGates
from connectors.errors import (
    BudgetExhausted,
    ConnectorError,
    MissingPermission,
    SourceUnavailable,
    TransientError,
    UnknownField,
)
from scoring.account_link import account_id, account_values, with_account
from scoring.model import ScoringModel, event_horizon_days, rules_reading
from scoring.spec import ModelSpec
from scoring.types import Record, ScoreResult
from sync.account_day import learned_zone, remember_zone
from sync.call_log import CallLog
from sync.group_scoring import GroupScorer, scorer_for
from sync.outage import Contact, Outage, OutagePolicy, Stopped
from sync.page_scoring import PageScorer, Rejected, Scorer, version_ms, version_scored
from sync.progress import ProgressLog
from sync.run_summary import SAMPLE_SIZE, PlanSummary, RunResult, dead_letter_reason
from sync.state.inputs import decode_inputs
from sync.state.records import (
    CursorState,
    OutboxEntry,
    RunCounts,
    RunStatus,
    WriteOutcome,
    loads,
)
from sync.state.store import StateStore
from sync.writes import Writes

log = logging.getLogger("leadsync.engine")

Mode = Literal["full", "incremental", "retry"]

#: Incremental runs hold their writes until reading ends, up to this many chunks (memory bound;
#: past it a write may meet its record again later in the same run, which then plans nothing).
INCREMENTAL_HOLD_CHUNKS = 20

#: Payload of the dead letter of a record that was not scored: nothing to write.
_UNSCORED_PAYLOAD = '{"new":{},"old":{},"reasons":[]}'

#: A connection's configuration when nothing is configured
_WRITE, _READ = WriteSettings(), ReadSettings()


class Model(Protocol):
    """What the engine needs of a scoring model (`scoring.model.ScoringModel`)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def properties(self) -> frozenset[str]: ...
    @property
    def event_types(self) -> frozenset[str]: ...
    @property
    def qualify_lifecycle_stage(self) -> str | None: ...
    @property
    def spec(self) -> ModelSpec: ...


def read_fields(model: Model, crm: str, kind: str) -> frozenset[str]:
    """The fields a run reads: the model's, and the account link when its rules read
    `account.` fields."""
    link = ACCOUNT_LINKS.get((crm, kind))
    if link is None or not getattr(model, "account_fields", None):
        return model.properties
    return model.properties | {link[0]}


def account_inputs(model: Model, crm: str, kind: str) -> frozenset[str]:
    """What people's input snapshots keep of their account when their model reads its result:
    the `account.` values scored with and the field naming the account, so a later run can
    tell who has not seen the account's current result (`ReadHints.account_results`)."""
    link = ACCOUNT_LINKS.get((crm, kind))
    fields = getattr(model, "account_fields", None)
    if link is None or not fields:
        return frozenset()
    return frozenset(fields) | {link[0]}


def with_accounts(  # noqa: PLR0913  the records, their model and where their accounts are stored, keyword-only
    records: Sequence[Record],
    model: Model,
    *,
    crm: str,
    kind: str,
    store: StateStore,
    connection: str,
    accounts: str | None = None,
) -> Sequence[Record]:
    """People whose model reads `account.` fields, each with their account's latest stored
    result (scored by the account model of the same connection whose results are stored under
    `accounts`, by default the account kind's first): no second read of the CRM. The records
    must carry the account link (`read_fields`)."""
    link = ACCOUNT_LINKS.get((crm, kind))
    if link is None or not getattr(model, "account_fields", None):
        return records
    field, account_kind = link
    owners = {r.id: account_id(r.properties.get(field)) for r in records}
    ids = {i for i in owners.values() if i is not None}
    found = store.previous_scores(connection, accounts or account_kind, ids)
    return [with_account(r, found.get(owners[r.id] or "")) for r in records]


def member_request(*models: Model) -> MemberRequest | None:
    """What the connector reads of each account's people when a model rolls them up (what all
    of `models` read, each model of a `ModelGroup` included: one read serves them all), else
    None."""
    each = [m for model in models for m in _models(model)]
    plans = [p for p in (getattr(m, "rollup", None) for m in each) if p is not None]
    if not plans:  # plans exist on scoring.ScoringModel of account models only
        return None
    properties = frozenset().union(*(p.properties for p in plans))
    event_types = frozenset().union(*(p.event_types for p in plans))
    windows = [r.within_days for p in plans for r in p.rules if r.kind != "score"]
    horizon = None if None in windows or not windows else max(w for w in windows if w is not None)
    # each model's scores rolled up, with when that model wrote them (point in time)
    scores = {
        (ns, r.score) for p in plans for ns, r in zip(p.namespaces, p.rules, strict=True) if r.score
    }
    outputs = frozenset({ns + name for ns, name in scores} | {ns + "scored_at" for ns, _ in scores})
    return MemberRequest(properties, event_types, horizon, outputs)


def _models(model: Model) -> Sequence[Model]:
    return [slot.model for slot in slots_of(model, "")]


def slots_of(model: Model, kind: str) -> tuple[Slot, ...]:
    """The models a run of `kind` scores with, as slots: a group's own, else the one model under
    the kind's own state key. The one place that tells a group from a plain model."""
    if isinstance(model, ModelGroup):
        return model.slots
    return (Slot(cast(ScoringModel, model), "", kind),)


@dataclass(frozen=True)
class RunOptions:
    """How one run behaves; built from the connection's configuration and command options.

    The defaults are the configuration's (`config.settings`), stated there once.
    """

    full: bool = False
    dry_run: bool = False
    min_points_change: float = _WRITE.min_points_change
    overlap: timedelta = _READ.overlap
    chunk_size: int = _WRITE.chunk_size
    max_attempts: int = 3
    sample_size: int = SAMPLE_SIZE


@dataclass
class Progress:
    """Sent to `on_progress` after every page."""

    connection: str
    kind: str
    counts: RunCounts


def utc_now() -> datetime:
    """The wall clock, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Position:
    """Where a run reads from: its mode, `since` (None: everything), the page cursor to resume
    after, the highest modification time a resumed run had read, when its reading began (None:
    now) and the stored cursor row it started from."""

    mode: Mode
    since: datetime | None = None
    resume: str | None = None
    high_water: datetime | None = None
    started: datetime | None = None
    cursor: CursorState = field(default_factory=CursorState)

    @classmethod
    def of(cls, cursor: CursorState, options: RunOptions) -> Position:
        """Resume an interrupted run (same mode and `since`; a requested full run discards an
        interrupted incremental one), else full (`since=None`) or incremental
        (`since = watermark - overlap`)."""
        if cursor.resume and not (options.full and cursor.resume_mode != "full"):
            mode: Mode = "incremental" if cursor.resume_mode == "incremental" else "full"
            return cls(
                mode,
                cursor.resume_since,
                cursor.resume,
                cursor.high_water,
                cursor.resume_started,
                cursor,
            )
        if options.full or cursor.watermark is None:
            return cls("full", cursor=cursor)
        return cls("incremental", cursor.watermark - options.overlap, cursor=cursor)


@dataclass(frozen=True)
class RunContext:
    """The collaborators a run uses, taken from its engine when the run starts."""

    store: StateStore
    connector: Connector
    connection: str
    clock: Callable[[], datetime]
    sleep: Callable[[float], bool]
    outage: OutagePolicy
    scorer: Scorer
    on_progress: Callable[[Progress], None] | None = None
    calls: CallLog | None = None


class Run:
    """One run of one connection and kind; see the module docstring."""

    def __init__(  # noqa: PLR0913  collaborators, settings and test seams (clock, sleep)
        self,
        context: RunContext,
        *,
        kind: str,
        model: Model,
        options: RunOptions,
        position: Position,
        started: datetime,
        run_id: int,
        scorer: PageScorer | GroupScorer,
        read_outage: Outage,
        write_outage: Outage,
        writes: Writes,
        result: RunResult,
    ) -> None:
        self.context = context
        self.kind = kind
        self.model = model
        self.options = options
        self.position = position
        self.started = started  # when the reading began, in the CRM's time
        self.run_id = run_id
        self.scorer = scorer
        self.read_outage = read_outage
        self.write_outage = write_outage
        self.writes = writes
        self.result = result
        self.counts = result.counts
        self.status = RunStatus.RUNNING
        self.high_water = position.high_water
        self.progress = ProgressLog(context.connector, context.clock, self._log)
        #: the models the run scores with (`slots_of`); several for a model group
        self.slots = slots_of(model, kind)

    @classmethod
    def start(  # noqa: PLR0913  collaborators, settings and test seams (clock, sleep)
        cls,
        context: RunContext,
        *,
        kind: str,
        model: Model,
        options: RunOptions,
        position: Position,
        now: datetime,
    ) -> Run:
        """Store the `running` row and build the run; `now` is the scoring time."""
        started_at = context.clock()
        run_id = context.store.start_run(
            context.connection,
            kind,
            mode=position.mode,
            dry_run=options.dry_run,
            started_at=started_at,
            model_version=model.version,
        )
        counts = RunCounts()
        result = RunResult(
            connection=context.connection,
            kind=kind,
            mode=position.mode,
            dry_run=options.dry_run,
            status=RunStatus.RUNNING,
            started_at=started_at,
            run_id=run_id,
            counts=counts,
            plan=PlanSummary(sample_size=options.sample_size),
        )
        what, contact = f"{context.connection}/{kind}", Contact()
        write_outage = Outage(context.outage, context.sleep, f"{what} writes", contact)
        writes = Writes(
            store=context.store,
            connector=context.connector,
            connection=context.connection,
            kind=kind,
            run_id=run_id,
            chunk_size=options.chunk_size,
            max_attempts=options.max_attempts,
            outage=write_outage,
            clock=context.clock,
            counts=counts,
            reasons=result.dead_letter_reasons,
            beside_reading=position.mode == "full"
            and not options.dry_run
            and context.connector.concurrent_writes,
            score_kinds=[s.state_kind for s in slots_of(model, kind)[1:]],
        )
        connector = context.connector
        scorer = scorer_for(
            model,
            now=now,
            min_points_change=options.min_points_change,
            sample_size=options.sample_size,
            scorer=context.scorer,
            kept=(
                connector.engagement_gates(kind, model.event_types)
                if isinstance(connector, EngagementGates)
                else frozenset()
            )
            | account_inputs(model, connector.crm, kind),
        )
        return cls(
            context,
            kind=kind,
            model=model,
            options=options,
            position=position,
            started=position.started or now,
            run_id=run_id,
            scorer=scorer,
            read_outage=Outage(context.outage, context.sleep, what, contact),
            write_outage=write_outage,
            writes=writes,
            result=result,
        )

    def execute(self, body: Callable[[Run], RunStatus]) -> RunResult:
        """Run `body` and store the outcome: status, counts, error and, for a succeeded run
        that read (not a retry, not a dry run), the new watermark, in one transaction; and
        the CRM account's time zone when the connector looked it up during the run."""
        context, result = self.context, self.result
        started = time.monotonic()
        usage = context.connector.usage
        calls0, limited0, zone0 = usage.calls, usage.rate_limited, usage.account_zone
        if context.calls is not None:
            context.calls.begin_run(self.run_id)
        self._log(
            "run started", since=_iso(self.position.since), resuming=bool(self.position.resume)
        )
        try:
            self.status = body(self)
        except Stopped:
            self.status = RunStatus.INTERRUPTED
        except BudgetExhausted as exc:
            progress = self.counts.read > 0 or self.counts.written > 0
            self._fail(exc, RunStatus.PAUSED if progress else RunStatus.FAILED)
        except ConnectorError as exc:
            self._fail(exc, RunStatus.FAILED)
        except Exception as exc:
            result.error = redact(f"internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            self.writes.close()
            usage = context.connector.usage
            self.counts.api_calls = usage.calls - calls0
            self.counts.rate_limited = usage.rate_limited - limited0
            if context.calls is not None:
                context.calls.end_run(self.counts.api_calls, self.counts.rate_limited)
            if self.status is RunStatus.RUNNING:
                self.status = RunStatus.FAILED
            result.status = self.status
            result.finished_at = context.clock()
            result.elapsed_s = time.monotonic() - started
            result.pauses = self.read_outage.pauses + self.write_outage.pauses
            complete = None
            if (
                self.status is RunStatus.SUCCEEDED
                and self.position.mode != "retry"
                and not self.options.dry_run
            ):
                complete = (context.connection, self.kind, self.new_watermark())
            context.store.finish_run(
                self.run_id,
                status=self.status,
                counts=self.counts,
                finished_at=result.finished_at,
                error=result.error,
                complete_cursor=complete,
            )
            zone = learned_zone(zone0, usage)
            if zone is not None:
                remember_zone(context.store, context.connection, zone, now=result.finished_at)
            self._log(
                "run finished",
                status=str(self.status),
                elapsed_s=round(result.elapsed_s, 3),
                error=result.error,
                **self.counts.as_dict(),
            )
        return result

    def _log(self, message: str, **extra: object) -> None:
        context = self.context
        log.info(
            message,
            extra={
                "connection": context.connection,
                "kind": self.kind,
                "mode": self.position.mode,
                "run_id": self.run_id,
                "dry_run": self.options.dry_run,
                **extra,
            },
        )

    def _fail(self, exc: ConnectorError, status: RunStatus) -> None:
        self.status = status
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, UnknownField) and exc.fields:
            source = getattr(self.model, "source", None)
            error += f" (model {self.model.name!r}" + (f", {source})" if source else ")")
        self.result.error = redact(error)
        self.result.error_type = type(exc).__name__

    def new_watermark(self) -> datetime | None:
        """Where the next incremental read may start (before its overlap), never backwards.

        Every record modified before this run's reading began was indexed `overlap` later at
        the latest and read by the run, so the watermark can move to `started - overlap` even
        when nothing changed (a quiet CRM does not make every run re-read our last writes). The
        highest modification time read counts up to `started` only: a full read is not ordered
        by time, so a record changed after it was read can hide behind a later one.
        """
        candidates = [self.started - self.options.overlap]
        if self.position.cursor.watermark is not None:
            candidates.append(self.position.cursor.watermark)
        if self.high_water is not None:
            candidates.append(min(self.high_water, self.started))
        return max(candidates)

    # reading ---------------------------------------------------------------------------------

    def pages(self) -> Iterator[Page]:
        """The connector's pages from the run's position, pausing through outages and
        reading on from the last page cursor."""
        token = self.position.resume
        iterator: Iterator[Page] | None = None
        connector, model = self.context.connector, self.model
        while True:
            try:
                if iterator is None:
                    iterator = iter(
                        connector.iter_pages(
                            self.kind,
                            read_fields(model, connector.crm, self.kind),
                            model.event_types,
                            since=self.position.since,
                            resume=token,
                            hints=self.hints(),
                            members=member_request(model),
                        )
                    )
                page = next(iterator)
            except StopIteration:
                return
            except SourceUnavailable as exc:
                raise MissingPermission(self.unavailable(exc)) from None
            except TransientError as exc:
                iterator = None
                self.read_outage.wait(exc)
                continue
            self.read_outage.reset()
            yield page
            token = page.cursor or token

    def hints(self) -> ReadHints:
        """What the connector may leave out: events older than the model can score, in
        incremental runs records whose version is already scored (they are not scored), and
        what the model last scored each record with (`stored`)."""
        since = {}
        model = self.model
        models = [s.model for s in self.slots]
        for event_type in model.event_types:
            horizons = [
                event_horizon_days(m.spec, event_type)
                for m in models
                if event_type in m.event_types
            ]
            # a model reading this type at any age (None) needs every occurrence
            if horizons and None not in horizons:
                since[event_type] = self.scorer.now - timedelta(
                    days=max(h or 0.0 for h in horizons)
                )
        scored = self.scored if self.skips_scored else None
        # a group's models keep their inputs apart: no one snapshot to take events from
        stored = self.stored if isinstance(self.scorer, PageScorer) else None
        incremental = self.position.mode == "incremental"
        accounts = self.accounts_seen if incremental else None
        results = (
            self.account_results if incremental and getattr(model, "account_fields", None) else None
        )
        return ReadHints(
            events_since=since,
            scored=scored,
            stored=stored,
            accounts_seen=accounts,
            account_results=results,
        )

    @property
    def skips_scored(self) -> bool:
        """Whether records whose version is already scored are left alone: in incremental
        runs, unless the model rolls up people (an account's score moves with its people
        while its own modification time stays)."""
        return self.position.mode == "incremental" and member_request(self.model) is None

    def scored(self, versions: Sequence[tuple[str, datetime | None]]) -> set[str]:
        """Of `(record id, updated_at)` pairs, the ids whose version is scored already (by
        every model of a group)."""
        context = self.context
        kinds = [(s.state_kind, s.model.version) for s in self.slots]
        ids = [i for i, _ in versions]
        done = {i for i, _ in versions}
        for kind, version in kinds:
            # two numbers a record, not the stored result and inputs `previous_rows` reads
            stored = context.store.scored_versions(context.connection, kind, ids)
            done &= {
                record_id
                for record_id, updated in versions
                if record_id in stored and version_scored(updated, *stored[record_id], version)
            }
        return done

    def accounts_seen(self, changes: Sequence[AccountChange]) -> set[str]:
        """Of accounts modified in an incremental read's window, the ids whose change the
        people need not be scored again for. The previous run looked at everything modified
        before this run's watermark, so an account modified before it is seen. Of the others:
        those the CRM says were last changed by our own write (`by_us`), or (when it cannot say)
        whose version the account model already scored or produced by its own write
        (`crm_version`); unless that model scored a change of someone else's at or after the
        watermark (`changed_version`), which its write may hide and the people may not have
        seen."""
        link = ACCOUNT_LINKS.get((self.context.connector.crm, self.kind))
        watermark = version_ms(self.position.cursor.watermark)
        if link is None or watermark is None:
            return set()
        context = self.context
        rows = context.store.previous_rows(context.connection, link[1], [c.id for c in changes])
        seen = set()
        for change in changes:
            modified = version_ms(change.modified)
            if modified is not None and modified < watermark:
                seen.add(change.id)
                continue
            row = rows.get(change.id)
            if row is None or (
                row.changed_version is not None and row.changed_version >= watermark
            ):
                continue
            if change.by_us or (
                change.by_us is None
                and row.crm_version is not None
                and modified is not None
                and modified <= row.crm_version
            ):
                seen.add(change.id)
        return seen

    def account_results(self) -> AccountResults:
        """The accounts whose values people read changed since this kind's last succeeded
        run started (the last time its people were read with their accounts' results), each
        with the `account.` values the model reads now. An account row saved again with the
        same values (its inputs moved: its people's new scores, say) is not one of them."""
        context = self.context
        link = ACCOUNT_LINKS.get((context.connector.crm, self.kind))
        if link is None:
            return AccountResults("", {})
        since = context.store.last_succeeded_start(context.connection, self.kind)
        values: dict[str, dict[str, object]] = {}
        if since is None:  # no succeeded run to compare with: the next full run catches up
            return AccountResults(link[0], values)
        for slot in self.slots:
            fields = getattr(slot.model, "account_fields", None)
            if not fields:
                continue
            rows = context.store.values_changed_since(
                context.connection, slot.accounts or link[1], since
            )
            for account, text in rows.items():
                now = account_values(ScoreResult.from_dict(loads(text)))
                values.setdefault(account, {}).update((f, v) for f, v in now.items() if f in fields)
        return AccountResults(link[0], values)

    def stored(self, record_ids: Sequence[str]) -> dict[str, Record]:
        """The input snapshots this model last scored `record_ids` with, as records."""
        context = self.context
        rows = context.store.previous_rows(context.connection, self.kind, record_ids)
        version = self.model.version
        return {
            record_id: decode_inputs(record_id, self.kind, row.inputs)
            for record_id, row in rows.items()
            if row.inputs is not None and row.model_version == version
        }

    def unavailable(self, exc: SourceUnavailable) -> str:
        """The message of a run that needs a source the CRM refused: the source, the model's
        rules that read it and the fix."""
        rules = rules_reading(self.model.spec, exc.event_types, exc.fields)
        serves = [*exc.event_types, *(f"{prefix}<property>" for prefix in exc.fields)]
        return (
            f"{exc}. Model {self.model.name!r} needs it for its {', '.join(serves)} "
            f"rules ({', '.join(repr(r) for r in rules)}); nothing was scored without them. "
            f"Fix: {exc.fix}"
        )

    def _with_accounts(self, records: Sequence[Record]) -> list[Sequence[Record]]:
        """The page as each model of the run scores it (one for a plain model): people with
        the account results their model's `account.` rules read, one store query per account
        model read."""
        context = self.context
        reads = [(slot.model, slot.accounts) for slot in self.slots]
        done: dict[str | None, Sequence[Record]] = {}
        views = []
        for model, accounts in reads:
            if not getattr(model, "account_fields", None):
                views.append(records)
                continue
            if accounts not in done:
                done[accounts] = with_accounts(
                    records,
                    model,
                    crm=context.connector.crm,
                    kind=self.kind,
                    store=context.store,
                    connection=context.connection,
                    accounts=accounts,
                )
            views.append(done[accounts])
        return views

    def process(
        self, records: Sequence[Record], *, page_cursor: str | None, rescore: bool = False
    ) -> set[str]:
        """Score and plan one page, then commit it: its outbox entries, scores and the cursor
        after it together (and write full batches); the ids of its records with a planned
        write. `rescore` (`Page.rescore`): score every record, even one whose version is
        scored (its account changed)."""
        context, counts = self.context, self.counts
        store, connection = context.store, context.connection
        ids = [r.id for r in records]
        views = self._with_accounts(records)
        scorer = self.scorer
        skip = self.skips_scored and not rescore
        if isinstance(scorer, GroupScorer):
            kinds = [slot.state_kind for slot in scorer.group.slots]
            stored = {k: store.previous_rows(connection, k, ids) for k in kinds}
            page = scorer.score(views, stored, skip_scored=skip)
        else:
            previous = store.previous_rows(connection, self.kind, ids)
            page = scorer.score(views[0], previous, skip_scored=skip)
        self.result.plan.merge(page.plan)
        if page.high_water is not None and (
            self.high_water is None or page.high_water > self.high_water
        ):
            self.high_water = page.high_water
        counts.pages += 1
        counts.read += page.read
        counts.scored += page.read - page.skipped - len(page.rejected)
        counts.unchanged += page.unchanged
        counts.planned += len(page.writes)
        planned = {write.entry.record_id for write in page.writes}
        if not self.options.dry_run:
            self.writes.wait_for(planned)
            store.save_page(
                self.run_id,
                connection,
                self.kind,
                cursor=self._cursor_after(page_cursor),
                outbox=[write.entry for write in page.writes],
                scores=page.scores,
                counts=counts,
                now=context.clock(),
                extra_scores=page.extra_scores,
                replaces=self.writes.in_outbox(planned),
            )
            if page.rejected:
                self._dead_letter_unscored(page.rejected)
            self.writes.add([(write.entry, write.values) for write in page.writes])
            held = self.options.chunk_size * INCREMENTAL_HOLD_CHUNKS
            if self.position.mode == "full" or len(self.writes) >= held:
                self.writes.drain(final=False)
        self.progress.page(counts)
        if context.on_progress is not None:
            context.on_progress(Progress(connection, self.kind, counts))
        return planned

    def _cursor_after(self, page_cursor: str | None) -> CursorState | None:
        """The cursor row that resumes after this page (a retry run keeps none)."""
        position = self.position
        if position.mode == "retry":
            return None
        return replace(
            position.cursor,
            resume=page_cursor,
            resume_mode=position.mode,
            resume_since=position.since,
            resume_run_id=self.run_id,
            resume_started=self.started,
            high_water=self.high_water,
        )

    def _dead_letter_unscored(self, rejected: Sequence[Rejected]) -> None:
        """Open dead letters for records the scorer refused or failed on (no write planned;
        `retry-dead-letters` reads and scores them again)."""
        context, version = self.context, self.model.version
        outcomes = [
            WriteOutcome(
                OutboxEntry(r.record_id, _UNSCORED_PAYLOAD, version, self.run_id),
                "dead_lettered",
                r.code,
                r.message,
            )
            for r in rejected
        ]
        context.store.record_writes(
            self.run_id, context.connection, self.kind, outcomes, now=context.clock()
        )
        for r in rejected:
            self.counts.dead_lettered += 1
            self.result.dead_letter_reasons[dead_letter_reason(r.code, r.message)] += 1
            log.warning(
                "record not scored, dead-lettered",
                extra={"connection": context.connection, "record_id": r.record_id, "code": r.code},
            )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
