"""One run of one connection and record kind (DESIGN.md section 2).

    lock -> position (cursor, overlap, resume) -> drain the outbox left by a crash
         -> for each page: score (previous result from the store) -> plan -> commit page
            (outbox + scores + cursor) -> write full batches -> ledger
         -> write the rest -> commit the watermark with the run's outcome

Scoring and planning a page is pure (`sync.page_scoring`); a run is built whole by
`sync.run.Run.start` and its writes go through `sync.writes.Writes`. In full runs of a connector
that allows it (`Connector.concurrent_writes`), each full batch of writes goes out on a write thread
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

import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial

from connectors.base import Connector
from scoring.types import Record
from sync.call_log import CallLog
from sync.gc_tuning import fewer_collections
from sync.lock import run_lock
from sync.outage import OutagePolicy, event_sleep
from sync.page_scoring import Scorer, default_scorer
from sync.run import (
    INCREMENTAL_HOLD_CHUNKS,
    Model,
    Position,
    Progress,
    Run,
    RunContext,
    RunOptions,
    member_request,
    read_fields,
    utc_now,
)
from sync.run_summary import RunResult
from sync.state.ledger import GONE_RESOLUTION
from sync.state.records import RunStatus
from sync.state.store import StateStore

__all__ = [
    "INCREMENTAL_HOLD_CHUNKS",
    "Engine",
    "Model",
    "Progress",
    "RunOptions",
    "utc_now",
]


class Engine:
    """Runs one connection against one connector and one state store."""

    def __init__(  # noqa: PLR0913  collaborators, settings and test seams (clock, sleep)
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
        calls: CallLog | None = None,
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
        # the log the connector reports its calls to; without one, each run records its calls
        # when it ends, as the connector's usage counted them
        self.calls = calls or CallLog(store, connection, command="sync", clock=clock)

    def run(
        self, kind: str, model: Model, options: RunOptions, *, now: datetime | None = None
    ) -> RunResult:
        """Run once; `now` is the scoring time (the clock when None). Raises `LockBusy`."""
        with fewer_collections():
            if options.dry_run:
                return self._sync(kind, model, options, now)
            with run_lock(self.store, self.connection):
                self.store.mark_crashed(self.connection, now=self.clock())
                return self._sync(kind, model, options, now)

    def retry_dead_letters(
        self, kind: str, model: Model, options: RunOptions, *, now: datetime | None = None
    ) -> RunResult:
        """Fetch every dead-lettered record again, rescore it and write what is material."""
        with fewer_collections(), run_lock(self.store, self.connection):
            self.store.mark_crashed(self.connection, now=self.clock())
            run = self._start(kind, model, options, Position("retry"), now)
            return run.execute(self._retry_body)

    def _start(
        self,
        kind: str,
        model: Model,
        options: RunOptions,
        position: Position,
        now: datetime | None,
    ) -> Run:
        context = RunContext(
            store=self.store,
            connector=self.connector,
            connection=self.connection,
            clock=self.clock,
            sleep=self.sleep,
            outage=self.outage_policy,
            scorer=self.scorer,
            on_progress=self.on_progress,
            calls=self.calls,
        )
        return Run.start(
            context,
            kind=kind,
            model=model,
            options=options,
            position=position,
            now=now or self.clock(),
        )

    def _sync(
        self, kind: str, model: Model, options: RunOptions, now: datetime | None
    ) -> RunResult:
        position = Position.of(self.store.get_cursor(self.connection, kind), options)
        return self._start(kind, model, options, position, now).execute(self._sync_body)

    def _sync_body(self, run: Run) -> RunStatus:
        if not run.options.dry_run:
            run.writes.load_pending()
            run.writes.drain(final=True)
        for page in run.pages():
            run.process(page.records, page_cursor=page.cursor, rescore=page.rescore)
            if self.stop.is_set():
                return RunStatus.INTERRUPTED
        if not run.options.dry_run:
            run.writes.drain(final=True)
        return RunStatus.SUCCEEDED

    def _retry_body(self, run: Run) -> RunStatus:
        letters = self.store.dead_letters(self.connection, run.kind)
        size = run.options.chunk_size
        for start in range(0, len(letters), size):
            chunk = letters[start : start + size]
            ids = [letter.record_id for letter in chunk]
            records = run.read_outage.call(partial(self._fetch, run, ids))
            found = {r.id for r in records}
            gone = [letter.id for letter in chunk if letter.record_id not in found]
            self.store.resolve_dead_letters(gone, resolution=GONE_RESOLUTION, now=self.clock())
            planned = run.process(records, page_cursor=None)
            run.writes.drain(final=True)
            self.store.resolve_dead_letters(
                [x.id for x in chunk if x.record_id in found and x.record_id not in planned],
                resolution="the CRM already holds the current score",
                now=self.clock(),
            )
            if self.stop.is_set():
                return RunStatus.INTERRUPTED
        return RunStatus.SUCCEEDED

    def _fetch(self, run: Run, ids: list[str]) -> list[Record]:
        model = run.model
        fields = read_fields(model, self.connector.crm, run.kind)
        return self.connector.fetch(
            run.kind, ids, fields, model.event_types, members=member_request(model)
        )
