"""One run of one connection and record kind (DESIGN.md section 2).

    lock -> position (cursor, overlap, resume) -> drain the outbox left by a crash
         -> for each page: score (previous result from the store) -> plan -> commit page
            (outbox + scores + cursor) -> write full batches -> ledger
         -> write the rest -> commit the watermark with the run's outcome

Full runs write full chunks as pages go; incremental runs hold their writes until reading is
done (up to `INCREMENTAL_HOLD_CHUNKS` chunks), so a search ordered by modification time does not
meet our own fresh writes again in the same run.
On a stop request the run finishes its page, commits it and leaves planned writes in the outbox
(durable) for the next run.

Crash safety: a page's planned writes enter the outbox in the same transaction that moves the
cursor past the page, and leave it in the same transaction that appends their ledger rows. A
process killed anywhere leaves either the page unread (it is read again) or its writes in the
outbox (the next run writes them first: writes set absolute values, so a write the CRM already
applied is applied again harmlessly and ledgered once). Incremental runs re-read our own writes
(they bump the CRM's modification time) and find nothing material to change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from connectors.base import Change, Connector, Page, WriteResult
from connectors.errors import BudgetExhausted, ConnectorError, PermanentError, TransientError
from scoring.types import Record, ScoreResult
from sync.lock import run_lock
from sync.outage import Outage, OutagePolicy, Stopped, event_sleep
from sync.plan import PlannedChange, from_json_values, plan_record
from sync.state.inputs import InputsEncoder
from sync.state.records import CursorState, OutboxEntry, RunCounts, WriteOutcome
from sync.state.store import StateStore
from sync.summary import PlanSummary, RunResult

log = logging.getLogger("leadsync.engine")

#: Per-record write error codes worth another attempt (compared case-insensitively).
TRANSIENT_WRITE_CODES = frozenset(
    {
        "transient",
        "rate_limited",
        "rate_limit",
        "timeout",
        "unavailable",
        "server_error",
        "internal_error",
        "unable_to_lock_row",
        "request_running_too_long",
        "429",
        "500",
        "502",
        "503",
        "504",
    }
)


_NOTHING: tuple[None, None] = (None, None)

#: Incremental runs hold their writes until reading ends, up to this many chunks (memory bound;
#: past it a write may meet its record again later in the same run, which then plans nothing).
INCREMENTAL_HOLD_CHUNKS = 20


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


Scorer = Callable[[Record, Any, datetime, ScoreResult | None], ScoreResult]


def default_scorer(
    record: Record, model: Any, now: datetime, previous: ScoreResult | None
) -> ScoreResult:
    """`scoring.score`, imported when first used."""
    from scoring import score

    return score(record, model, now, previous)


def utc_now() -> datetime:
    """The wall clock, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunOptions:
    """How one run behaves; built from the connection's configuration and command options."""

    full: bool = False
    dry_run: bool = False
    min_points_change: float = 3.0
    overlap: timedelta = timedelta(minutes=2)
    chunk_size: int = 1000
    max_attempts: int = 3
    sample_size: int = 10


@dataclass
class Progress:
    """Sent to `on_progress` after every page."""

    connection: str
    kind: str
    counts: RunCounts


class Engine:
    """Runs one connection against one connector and one state store."""

    def __init__(
        self,
        store: StateStore,
        connector: Connector,
        *,
        connection: str,
        clock: Callable[[], datetime] = utc_now,
        stop: threading.Event | None = None,
        sleep: Callable[[float], bool] | None = None,
        outage: OutagePolicy | None = None,
        scorer: Scorer = default_scorer,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.store = store
        self.connector = connector
        self.connection = connection
        self.clock = clock
        self.stop = stop or threading.Event()
        self.sleep = sleep or event_sleep(self.stop)
        self.outage_policy = outage or OutagePolicy()
        self.scorer = scorer
        self.on_progress = on_progress

    # public ----------------------------------------------------------------------------------

    def run(
        self, kind: str, model: Model, options: RunOptions, *, now: datetime | None = None
    ) -> RunResult:
        """Run once; `now` is the scoring time (the clock when None). Raises `LockBusy`."""
        if options.dry_run:
            return self._run(kind, model, options, now)
        with run_lock(self.store, self.connection):
            self.store.mark_crashed(self.connection, now=self.clock())
            return self._run(kind, model, options, now)

    def retry_dead_letters(
        self, kind: str, model: Model, options: RunOptions, *, now: datetime | None = None
    ) -> RunResult:
        """Fetch every dead-lettered record again, rescore it and write what is material."""
        with run_lock(self.store, self.connection):
            self.store.mark_crashed(self.connection, now=self.clock())
            run = _Run(self, kind, model, options, now or self.clock(), mode="retry")
            return run.execute(self._retry_body)

    # internals -------------------------------------------------------------------------------

    def _run(self, kind: str, model: Model, options: RunOptions, now: datetime | None) -> RunResult:
        cursor = self.store.get_cursor(self.connection, kind)
        resuming = bool(cursor.resume) and not (options.full and cursor.resume_mode != "full")
        if resuming:
            mode = cursor.resume_mode or "full"
            since = cursor.resume_since
        else:
            mode = "full" if options.full or cursor.watermark is None else "incremental"
            since = None if mode == "full" else _minus(cursor.watermark, options.overlap)
        run = _Run(self, kind, model, options, now or self.clock(), mode=mode)
        run.cursor = cursor
        run.since = since
        run.resume = cursor.resume if resuming else None
        run.high_water = cursor.high_water if resuming else None
        if resuming and cursor.resume_started is not None:
            run.started = cursor.resume_started
        return run.execute(self._sync_body)

    def _sync_body(self, run: _Run) -> None:
        if not run.options.dry_run:
            run.load_pending()
            run.drain(final=True)
        for page in run.pages():
            run.process(page.records, page_cursor=page.cursor)
            if self.stop.is_set():
                run.status = "interrupted"
                return
        if not run.options.dry_run:
            run.drain(final=True)
        run.status = "succeeded"

    def _retry_body(self, run: _Run) -> None:
        letters = self.store.dead_letters(self.connection, run.kind)
        size = run.options.chunk_size
        for start in range(0, len(letters), size):
            chunk = letters[start : start + size]
            ids = [letter.record_id for letter in chunk]
            records = run.outage.call(partial(self._fetch, run, ids))
            found = {r.id for r in records}
            gone = [letter.id for letter in chunk if letter.record_id not in found]
            self.store.resolve_dead_letters(
                gone, resolution="record no longer exists", now=self.clock()
            )
            planned = run.process(records, page_cursor=None)
            run.drain(final=True)
            self.store.resolve_dead_letters(
                [x.id for x in chunk if x.record_id in found and x.record_id not in planned],
                resolution="the CRM already holds the current score",
                now=self.clock(),
            )
            if self.stop.is_set():
                run.status = "interrupted"
                break
        if run.status == "running":
            run.status = "succeeded"

    def _fetch(self, run: _Run, ids: list[str]) -> list[Record]:
        return self.connector.fetch(run.kind, ids, run.model.properties, run.model.event_types)


def _minus(watermark: datetime | None, overlap: timedelta) -> datetime | None:
    return None if watermark is None else watermark - overlap


class _Run:
    """The mutable state of one run (kept out of `Engine` so the engine stays reusable)."""

    def __init__(
        self,
        engine: Engine,
        kind: str,
        model: Model,
        options: RunOptions,
        now: datetime,
        *,
        mode: str,
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.connector = engine.connector
        self.connection = engine.connection
        self.kind = kind
        self.model = model
        self.options = options
        self.now = now
        self.mode = mode
        self.status = "running"
        self.counts = RunCounts()
        self.cursor = CursorState()
        self.since: datetime | None = None
        self.resume: str | None = None
        self.high_water: datetime | None = None
        self.started = now  # when the reading began, in the CRM's time (a resumed run's start)
        self.run_id = 0
        self.queue: dict[str, tuple[OutboxEntry, Mapping[str, object]]] = {}
        self.inputs = InputsEncoder(model.properties, model.event_types)
        self.outage = Outage(engine.outage_policy, engine.sleep, f"{self.connection}/{kind}")
        self.result = RunResult(
            connection=self.connection,
            kind=kind,
            mode=mode,
            dry_run=options.dry_run,
            status="running",
            started_at=engine.clock(),
            plan=PlanSummary(sample_size=options.sample_size),
        )

    def execute(self, body: Callable[[_Run], None]) -> RunResult:
        started = time.monotonic()
        usage = self.connector.usage
        calls0, limited0 = usage.calls, usage.rate_limited
        self.run_id = self.store.start_run(
            self.connection,
            self.kind,
            mode=self.mode,
            dry_run=self.options.dry_run,
            started_at=self.result.started_at,
            model_version=self.model.version,
        )
        self.result.run_id = self.run_id
        log.info(
            "run started",
            extra={
                "connection": self.connection,
                "kind": self.kind,
                "mode": self.mode,
                "run_id": self.run_id,
                "dry_run": self.options.dry_run,
                "since": self.since.isoformat() if self.since else None,
                "resuming": self.resume is not None,
            },
        )
        try:
            body(self)
        except Stopped:
            self.status = "interrupted"
        except BudgetExhausted as exc:
            self._fail(exc, paused=self.counts.read > 0 or self.counts.written > 0)
        except ConnectorError as exc:
            self._fail(exc)
        except Exception as exc:
            self.result.error = f"internal error: {type(exc).__name__}: {exc}"
            raise
        finally:
            usage = self.connector.usage
            self.counts.api_calls = usage.calls - calls0
            self.counts.rate_limited = usage.rate_limited - limited0
            self.result.status = self.status if self.status != "running" else "failed"
            self.result.counts = self.counts
            self.result.finished_at = self.engine.clock()
            self.result.elapsed_s = time.monotonic() - started
            self.result.pauses = self.outage.pauses
            complete = None
            if (
                self.result.status == "succeeded"
                and self.mode != "retry"
                and not self.options.dry_run
            ):
                complete = (self.connection, self.kind, self._new_watermark())
            self.store.finish_run(
                self.run_id,
                status=self.result.status,  # type: ignore[arg-type]
                counts=self.counts,
                finished_at=self.result.finished_at,
                error=self.result.error,
                complete_cursor=complete,
            )
            log.info(
                "run finished",
                extra={
                    "connection": self.connection,
                    "kind": self.kind,
                    "mode": self.mode,
                    "run_id": self.run_id,
                    "status": self.result.status,
                    "elapsed_s": round(self.result.elapsed_s, 3),
                    "error": self.result.error,
                    **self.counts.as_dict(),
                },
            )
        return self.result

    def _fail(self, exc: ConnectorError, *, paused: bool = False) -> None:
        self.status = "paused" if paused else "failed"
        self.result.error = f"{type(exc).__name__}: {exc}"
        self.result.error_type = type(exc).__name__

    def _new_watermark(self) -> datetime | None:
        """Where the next incremental read may start (before its overlap), never backwards.

        Every record modified before this run's reading began was indexed `overlap` later at
        the latest and read by the run, so the watermark can move to `started - overlap` even
        when nothing changed (a quiet CRM does not make every run re-read our last writes). The
        highest modification time read counts up to `started` only: a full read is not ordered
        by time, so a record changed after it was read can hide behind a later one.
        """
        candidates = [self.started - self.options.overlap]
        if self.cursor.watermark is not None:
            candidates.append(self.cursor.watermark)
        if self.high_water is not None:
            candidates.append(min(self.high_water, self.started))
        return max(candidates)

    # reading ---------------------------------------------------------------------------------

    def pages(self) -> Iterator[Page]:
        token = self.resume
        iterator: Iterator[Page] | None = None
        while True:
            try:
                if iterator is None:
                    iterator = iter(
                        self.connector.iter_pages(
                            self.kind,
                            self.model.properties,
                            self.model.event_types,
                            since=self.since,
                            resume=token,
                        )
                    )
                page = next(iterator)
            except StopIteration:
                return
            except TransientError as exc:
                iterator = None
                self.outage.wait(exc)
                continue
            self.outage.reset()
            yield page
            token = page.cursor or token

    def process(self, records: Sequence[Record], *, page_cursor: str | None) -> set[str]:
        """Score and plan one page, then commit it (and write full batches); returns the ids
        of the records with a planned write."""
        previous = self.store.previous_state(self.connection, self.kind, [r.id for r in records])
        plan = self.result.plan
        scores: list[tuple[str, ScoreResult]] = []
        inputs: dict[str, str] = {}
        outbox: list[OutboxEntry] = []
        values: dict[str, Mapping[str, object]] = {}
        encode = self.inputs.encode
        for record in records:
            before, stored_inputs = previous.get(record.id, _NOTHING)
            result = self.engine.scorer(record, self.model, self.now, before)
            snapshot = encode(record)
            if result != before or snapshot != stored_inputs:
                scores.append((record.id, result))
                inputs[record.id] = snapshot
            plan.add_result(result)
            if record.updated_at is not None and (
                self.high_water is None or record.updated_at > self.high_water
            ):
                self.high_water = record.updated_at
            change = plan_record(
                record,
                result,
                min_points_change=self.options.min_points_change,
                scored_at=self.now,
                lifecycle_stage=self.model.qualify_lifecycle_stage,
            )
            if change is None:
                self.counts.unchanged += 1
                continue
            plan.add_change(change)
            outbox.append(_entry(change, self.model.version))
            values[record.id] = change.new
        self.counts.pages += 1
        self.counts.read += len(records)
        self.counts.scored += len(records)
        self.counts.planned += len(outbox)
        if not self.options.dry_run:
            cursor = None
            if self.mode != "retry":
                cursor = replace(
                    self.cursor,
                    resume=page_cursor,
                    resume_mode=self.mode,
                    resume_since=self.since,
                    resume_run_id=self.run_id,
                    resume_started=self.started,
                    high_water=self.high_water,
                )
            self.store.save_page(
                self.run_id,
                self.connection,
                self.kind,
                cursor=cursor,
                outbox=outbox,
                scores=scores,
                inputs=inputs,
                counts=self.counts,
                now=self.engine.clock(),
            )
            for entry in outbox:
                self.queue.pop(entry.record_id, None)
                self.queue[entry.record_id] = (entry, values[entry.record_id])
            held = self.options.chunk_size * INCREMENTAL_HOLD_CHUNKS
            if self.mode == "full" or len(self.queue) >= held:
                self.drain(final=False)
        if self.engine.on_progress is not None:
            self.engine.on_progress(Progress(self.connection, self.kind, self.counts))
        return {entry.record_id for entry in outbox}

    # writing ---------------------------------------------------------------------------------

    def load_pending(self) -> None:
        """Queue the outbox entries an interrupted or crashed run left behind."""
        for entry in self.store.pending(self.connection, self.kind):
            self.queue[entry.record_id] = (entry, from_json_values(entry.data()["new"]))

    def drain(self, *, final: bool) -> None:
        """Write queued entries in full batches (and with `final`, the last partial one too).

        The queue mirrors the outbox table of this connection and kind (the run holds the lock),
        so batches are taken from memory; the table is what survives a crash.
        """
        size = self.options.chunk_size
        while self.queue and (final or len(self.queue) >= size):
            batch = [self.queue[key] for key in list(self.queue)[:size]]
            changes = [Change(entry.record_id, values) for entry, values in batch]
            results = {r.record_id: r for r in self._write(changes)}
            outcomes = [self._outcome(entry, results.get(entry.record_id)) for entry, _ in batch]
            self.store.record_writes(
                self.run_id, self.connection, self.kind, outcomes, now=self.engine.clock()
            )
            for outcome, (entry, values) in zip(outcomes, batch, strict=True):
                del self.queue[entry.record_id]
                if outcome.status == "applied":
                    self.counts.written += 1
                    continue
                self.counts.failed += 1
                if outcome.status == "retry":
                    self.queue[entry.record_id] = (
                        replace(entry, attempts=entry.attempts + 1),
                        values,
                    )
                    continue
                self.counts.dead_lettered += 1
                reason = f"{outcome.error_code or 'error'}: {outcome.error or ''}"
                self.result.dead_letter_reasons[reason[:120]] += 1

    def _write(self, changes: list[Change]) -> list[WriteResult]:
        """Write, splitting a batch the CRM refused as a whole to find the records at fault."""
        try:
            return self.outage.call(lambda: self.connector.write(self.kind, changes))
        except PermanentError as exc:
            if len(changes) == 1:
                return [WriteResult(changes[0].record_id, "failed", "rejected", str(exc)[:500])]
            middle = len(changes) // 2
            return self._write(changes[:middle]) + self._write(changes[middle:])

    def _outcome(self, entry: OutboxEntry, result: WriteResult | None) -> WriteOutcome:
        if result is not None and result.status == "ok":
            return WriteOutcome(entry, "applied")
        code = result.error_code if result is not None else "no_result"
        message = result.message if result is not None else "the CRM returned no result"
        transient = result is None or str(code).lower() in TRANSIENT_WRITE_CODES
        if transient and entry.attempts + 1 < self.options.max_attempts:
            return WriteOutcome(entry, "retry", code, message)
        return WriteOutcome(entry, "dead_lettered", code, message)


def _entry(change: PlannedChange, model_version: str) -> OutboxEntry:
    return OutboxEntry.build(
        change.record_id,
        # `dumps` writes datetimes as `to_json_values` would (ISO-8601), without the copies
        new=change.new,
        old=change.old,
        contributions=[
            {"rule": c.rule, "dimension": c.dimension, "points": c.points, "detail": c.detail}
            for c in change.result.contributions
        ],
        reasons=list(change.reasons),
        model_version=model_version,
    )
