"""One run of one connection and record kind (DESIGN.md section 2).

    lock -> position (cursor, overlap, resume) -> drain the outbox left by a crash
         -> for each page: score (previous result from the store) -> plan -> commit page
            (outbox + scores + cursor) -> write full batches -> ledger
         -> write the rest -> commit the watermark with the run's outcome

Scoring and planning a page is pure (`sync.page_scoring`). In full runs of a connector that
allows it (`Connector.concurrent_writes`), each full batch of writes goes out on a write thread
while the run reads and scores on; one batch at a time, and a page that plans a record of the
batch in flight waits for that batch first.

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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol

from config.settings import ReadSettings, WriteSettings
from connectors.base import Change, Connector, Page, WriteAction, WriteResult
from connectors.errors import BudgetExhausted, ConnectorError, TransientError
from scoring.types import Record
from sync.gc_tuning import fewer_collections
from sync.lock import run_lock
from sync.outage import Contact, Outage, OutagePolicy, Stopped, event_sleep
from sync.page_scoring import PageScorer, Rejected, Scorer, default_scorer
from sync.plan import from_json_values
from sync.run_summary import SAMPLE_SIZE, PlanSummary, RunResult
from sync.state.ledger import GONE_RESOLUTION
from sync.state.records import CursorState, OutboxEntry, RunCounts, WriteOutcome
from sync.state.store import StateStore

log = logging.getLogger("leadsync.engine")

#: Planned writes taken from the queue: outbox entries with the values to write.
Batch = list[tuple[OutboxEntry, Mapping[str, object]]]

#: Incremental runs hold their writes until reading ends, up to this many chunks (memory bound;
#: past it a write may meet its record again later in the same run, which then plans nothing).
INCREMENTAL_HOLD_CHUNKS = 20

#: Payload of the dead letter of a record that was not scored: nothing to write.
_UNSCORED_PAYLOAD = '{"new":{},"old":{},"reasons":[]}'


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


def utc_now() -> datetime:
    """The wall clock, timezone-aware."""
    return datetime.now(UTC)


#: A connection's configuration when nothing is configured
_WRITE, _READ = WriteSettings(), ReadSettings()


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
        with fewer_collections():
            if options.dry_run:
                return self._run(kind, model, options, now)
            with run_lock(self.store, self.connection):
                self.store.mark_crashed(self.connection, now=self.clock())
                return self._run(kind, model, options, now)

    def retry_dead_letters(
        self, kind: str, model: Model, options: RunOptions, *, now: datetime | None = None
    ) -> RunResult:
        """Fetch every dead-lettered record again, rescore it and write what is material."""
        with fewer_collections(), run_lock(self.store, self.connection):
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
            self.store.resolve_dead_letters(gone, resolution=GONE_RESOLUTION, now=self.clock())
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
        self.scorer = PageScorer(
            model,
            now=now,
            min_points_change=options.min_points_change,
            sample_size=options.sample_size,
            scorer=engine.scorer,
        )
        self.background: ThreadPoolExecutor | None = None
        if mode == "full" and not options.dry_run and engine.connector.concurrent_writes:
            self.background = ThreadPoolExecutor(1, thread_name_prefix="leadsync-write")
        # the batch being written on `background`: its entries, the future and its record ids
        self.writing: tuple[Batch, Future[list[WriteOutcome]], frozenset[str]] | None = None
        contact = Contact()
        self.outage = Outage(
            engine.outage_policy, engine.sleep, f"{self.connection}/{kind}", contact
        )
        self.write_outage = Outage(
            engine.outage_policy, engine.sleep, f"{self.connection}/{kind} writes", contact
        )
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
            self._stop_writing()
            usage = self.connector.usage
            self.counts.api_calls = usage.calls - calls0
            self.counts.rate_limited = usage.rate_limited - limited0
            self.result.status = self.status if self.status != "running" else "failed"
            self.result.counts = self.counts
            self.result.finished_at = self.engine.clock()
            self.result.elapsed_s = time.monotonic() - started
            self.result.pauses = self.outage.pauses + self.write_outage.pauses
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

    def _stop_writing(self) -> None:
        """After the body: settle a batch still being written (the body ended early) and stop
        the write thread."""
        if self.writing is not None:
            try:
                self.settle_write()
            except Exception:
                # The body's own failure is what the run reports; the batch stays in the outbox
                # unless its ledger rows were committed.
                log.exception("write in flight failed while the run ended")
        if self.background is not None:
            self.background.shutdown(wait=True)

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
        """Score and plan one page, then commit it: its outbox entries, scores and the cursor
        after it together (and write full batches); the ids of its records with a planned
        write."""
        previous = self.store.previous_rows(self.connection, self.kind, [r.id for r in records])
        page = self.scorer.score(records, previous)
        self.result.plan.merge(page.plan)
        if page.high_water is not None and (
            self.high_water is None or page.high_water > self.high_water
        ):
            self.high_water = page.high_water
        self.counts.pages += 1
        self.counts.read += page.read
        self.counts.scored += page.read - len(page.rejected)
        self.counts.unchanged += page.unchanged
        self.counts.planned += len(page.writes)
        if not self.options.dry_run:
            if self.writing is not None and not self.writing[2].isdisjoint(
                write.entry.record_id for write in page.writes
            ):
                self.settle_write()  # its ledger rows remove outbox entries by record id
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
                outbox=[write.entry for write in page.writes],
                scores=page.scores,
                counts=self.counts,
                now=self.engine.clock(),
            )
            if page.rejected:
                self._dead_letter_unscored(page.rejected)
            queue = self.queue
            for write in page.writes:
                record_id = write.entry.record_id
                queue.pop(record_id, None)
                queue[record_id] = (write.entry, write.values)
            held = self.options.chunk_size * INCREMENTAL_HOLD_CHUNKS
            if self.mode == "full" or len(queue) >= held:
                self.drain(final=False)
        if self.engine.on_progress is not None:
            self.engine.on_progress(Progress(self.connection, self.kind, self.counts))
        return {write.entry.record_id for write in page.writes}

    def _dead_letter_unscored(self, rejected: Sequence[Rejected]) -> None:
        """Open dead letters for records the scorer refused or failed on (no write planned;
        `retry-dead-letters` reads and scores them again)."""
        version = self.model.version
        outcomes = [
            WriteOutcome(
                OutboxEntry(r.record_id, _UNSCORED_PAYLOAD, version, self.run_id),
                "dead_lettered",
                r.code,
                r.message,
            )
            for r in rejected
        ]
        self.store.record_writes(
            self.run_id, self.connection, self.kind, outcomes, now=self.engine.clock()
        )
        for r in rejected:
            self.counts.dead_lettered += 1
            self.result.dead_letter_reasons[f"{r.code}: {r.message}"[:120]] += 1
            log.warning(
                "record not scored, dead-lettered",
                extra={"connection": self.connection, "record_id": r.record_id, "code": r.code},
            )

    # writing ---------------------------------------------------------------------------------

    def load_pending(self) -> None:
        """Queue the outbox entries an interrupted or crashed run left behind."""
        for entry in self.store.pending(self.connection, self.kind):
            self.queue[entry.record_id] = (entry, from_json_values(entry.data()["new"]))

    def drain(self, *, final: bool) -> None:
        """Write queued entries in full batches (and with `final`, the last partial one too,
        waiting for every write to be settled).

        The queue holds the outbox entries of this connection and kind not being written (the
        run holds the lock), so batches are taken from memory; the table is what survives a
        crash. When the connector allows it (`concurrent_writes`, full runs), a batch is written
        on the write thread while the run reads and scores on; one batch at a time, settled
        before the next goes.
        """
        size = self.options.chunk_size
        queue = self.queue
        while True:
            if queue and (final or len(queue) >= size):
                self.settle_write()
                batch = [queue.pop(key) for key in list(queue)[:size]]
                if self.background is not None and not final:
                    future = self.background.submit(self._write_batch, batch)
                    self.writing = (batch, future, frozenset(e.record_id for e, _ in batch))
                else:
                    self._settle(batch, self._write_batch(batch))
            elif final and self.writing is not None:
                self.settle_write()  # its retries may be queued again
            else:
                return

    def settle_write(self) -> None:
        """Wait for the batch being written on the thread, if any, and account for it."""
        writing, self.writing = self.writing, None
        if writing is not None:
            batch, future, _ = writing
            self._settle(batch, future.result())

    def _write_batch(self, batch: Batch) -> list[WriteOutcome]:
        """Write a batch and ledger every outcome (in the run's thread or the write thread)."""
        changes = [Change(entry.record_id, values) for entry, values in batch]
        results = {r.record_id: r for r in self._write(changes)}
        outcomes = [self._outcome(entry, results.get(entry.record_id)) for entry, _ in batch]
        self.store.record_writes(
            self.run_id, self.connection, self.kind, outcomes, now=self.engine.clock()
        )
        return outcomes

    def _settle(self, batch: Batch, outcomes: list[WriteOutcome]) -> None:
        pause: WriteOutcome | None = None
        for outcome, (entry, values) in zip(outcomes, batch, strict=True):
            if outcome.status == "applied":
                self.counts.written += 1
                continue
            self.counts.failed += 1
            if outcome.status in ("retry", "paused"):
                attempts = entry.attempts + (outcome.status == "retry")
                self.queue[entry.record_id] = (replace(entry, attempts=attempts), values)
                if outcome.status == "paused":
                    pause = outcome
            elif outcome.status == "dead_lettered":
                self.counts.dead_lettered += 1
                reason = f"{outcome.error_code or 'error'}: {outcome.error or ''}"
                self.result.dead_letter_reasons[reason[:120]] += 1
        if pause is not None:
            # The CRM stayed unavailable through the connector's retries: an outage, paused
            # like a failed call (re-raised once it outlasts the policy).
            self.write_outage.wait(TransientError(f"{pause.error_code}: {pause.error}"))
        elif outcomes:
            self.write_outage.reset()

    def _write(self, changes: list[Change]) -> list[WriteResult]:
        """Write a batch, pausing through an outage the connector's retries did not outlast."""
        while True:
            try:
                return self.connector.write(self.kind, changes)
            except TransientError as exc:
                self.write_outage.wait(exc)

    def _outcome(self, entry: OutboxEntry, result: WriteResult | None) -> WriteOutcome:
        """What becomes of one entry: the connector's `WriteAction`, carried out (the one
        place the engine decides about a failed write)."""
        if result is None:
            result = WriteResult(
                entry.record_id, WriteAction.RETRY, "no_result", "the CRM returned no result"
            )
        code, message = result.error_code, result.message
        match result.action:
            case WriteAction.APPLIED:
                return WriteOutcome(entry, "applied")
            case WriteAction.RETRY if entry.attempts + 1 < self.options.max_attempts:
                return WriteOutcome(entry, "retry", code, message)
            case WriteAction.PAUSE_OUTAGE:
                return WriteOutcome(entry, "paused", code, message)
            case WriteAction.GONE:
                return WriteOutcome(entry, "gone", code, message)
            case _:  # DEAD_LETTER, or RETRY with its attempts spent
                return WriteOutcome(entry, "dead_lettered", code, message)
