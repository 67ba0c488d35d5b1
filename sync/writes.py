"""The write path of one run: queue, drain, write, settle.

    planned writes -> queue (in memory, mirrors the outbox) -> batches of `chunk_size`
        -> Connector.write, one API call's part at a time (`Connector.write_parts`), each part
           ledgered before the next goes (on the write thread beside the reading, when allowed)
        -> one `WriteOutcome` per entry (`outcome`: the connector's `WriteAction` carried out)
        -> ledger rows + outbox + dead letters in one transaction (`StateStore.record_writes`);
           server-side jobs whose records are all ledgered forgotten (`sync.journal`)
        -> settle: counts, retries queued again, an outage pause when the CRM was unavailable

The queue holds the outbox entries of this connection and kind that are not being written (the
run holds the lock), so batches are taken from memory; the outbox table is what survives a
crash. A batch the CRM refuses whole is split by the connector (`connectors.batching`), never
here; a `TransientError` raised by `Connector.write` pauses the run's write outage and the
batch is sent again.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime

from connectors.base import Change, Connector, ResentCall, WriteAction, WriteResult
from connectors.errors import TransientError
from connectors.retry import sent_again
from sync.journal import StoreJournal
from sync.outage import Outage
from sync.page_scoring import version_ms
from sync.plan import from_json_values
from sync.run_summary import dead_letter_reason
from sync.state.records import OutboxEntry, RunCounts, WriteOutcome
from sync.state.store import StateStore

log = logging.getLogger("leadsync.engine")

#: Planned writes taken from the queue: outbox entries with the values to write.
Batch = list[tuple[OutboxEntry, Mapping[str, object]]]


def outcome(
    entry: OutboxEntry, result: WriteResult | None, *, max_attempts: int, resent: int = 0
) -> WriteOutcome:
    """What becomes of one outbox entry: the connector's `WriteAction`, carried out. The one
    place that decides about a failed write; it never reads a CRM code. `resent`: the times
    the engine sent the write again after an outage pause, besides the connector's own
    (`WriteResult.resent`)."""
    if result is None:
        result = WriteResult(
            entry.record_id, WriteAction.RETRY, "no_result", "the CRM returned no result"
        )
    code, message = result.error_code, result.message
    resent += len(result.resent)
    match result.action:
        case WriteAction.APPLIED:
            return WriteOutcome(
                entry, "applied", crm_version=version_ms(result.modified_at), resent=resent
            )
        case WriteAction.RETRY if entry.attempts + 1 < max_attempts:
            return WriteOutcome(entry, "retry", code, message, resent=resent)
        case WriteAction.PAUSE_OUTAGE:
            return WriteOutcome(entry, "paused", code, message, resent=resent)
        case WriteAction.GONE:
            return WriteOutcome(entry, "gone", code, message, resent=resent)
        case _:  # DEAD_LETTER, or RETRY with its attempts spent
            return WriteOutcome(entry, "dead_lettered", code, message, resent=resent)


class Writes:
    """The planned writes of one run and their path to the CRM and the ledger.

    With `beside_reading`, `drain` hands each full batch to a write thread and returns: one
    batch at a time, settled before the next goes (`wait_for` settles it early when the run is
    about to plan a record of it). `counts` and `reasons` are the run's, updated as batches
    settle (`counts.retried`: the writes queued to be sent again, the writes the connector sent
    again itself, `WriteResult.resent`, each call of them logged, and those of a batch sent
    again after an outage pause).
    """

    def __init__(  # noqa: PLR0913  collaborators, settings and test seams (clock, sleep)
        self,
        *,
        store: StateStore,
        connector: Connector,
        connection: str,
        kind: str,
        run_id: int,
        chunk_size: int,
        max_attempts: int,
        outage: Outage,
        clock: Callable[[], datetime],
        counts: RunCounts,
        reasons: Counter[str],
        beside_reading: bool,
        score_kinds: Sequence[str] = (),
    ) -> None:
        self._store = store
        #: where a model group's other models keep their results (versions raised on writes)
        self._score_kinds = tuple(score_kinds)
        self._connector = connector
        self._connection = connection
        self._kind = kind
        self._run_id = run_id
        self._size = chunk_size
        self._max_attempts = max_attempts
        self._outage = outage
        self._clock = clock
        self._counts = counts
        self._reasons = reasons
        self._queue: dict[str, tuple[OutboxEntry, Mapping[str, object]]] = {}
        self._journal = StoreJournal(store, connection, kind, clock)
        self._thread = (
            ThreadPoolExecutor(1, thread_name_prefix="leadsync-write") if beside_reading else None
        )
        # the batch being written on the thread: its entries, the future and its record ids
        self._writing: tuple[Batch, Future[list[WriteOutcome]], frozenset[str]] | None = None
        # whether the queue holds every outbox entry of the connection and kind not being
        # written (`load_pending` ran)
        self._mirrors_outbox = False

    def __len__(self) -> int:
        """Entries queued (not counting a batch being written)."""
        return len(self._queue)

    def load_pending(self) -> None:
        """Queue the outbox entries an interrupted or crashed run left behind."""
        for entry in self._store.pending(self._connection, self._kind):
            self._queue[entry.record_id] = (entry, from_json_values(entry.data()["new"]))
        self._mirrors_outbox = True

    def in_outbox(self, record_ids: Collection[str]) -> list[str] | None:
        """Which of `record_ids` have a waiting outbox entry (a new write replaces it), after
        `wait_for` settled a batch in flight holding any of them; None when unknown (the queue
        was not loaded from the outbox)."""
        if not self._mirrors_outbox:
            return None
        queue = self._queue
        return [i for i in record_ids if i in queue]

    def add(self, planned: Sequence[tuple[OutboxEntry, Mapping[str, object]]]) -> None:
        """Queue planned writes (already in the outbox); a record's newer write replaces its
        older one and goes to the back."""
        queue = self._queue
        for entry, values in planned:
            queue.pop(entry.record_id, None)
            queue[entry.record_id] = (entry, values)

    def wait_for(self, record_ids: Collection[str]) -> None:
        """Settle the batch being written when it holds one of `record_ids` (its ledger rows
        remove outbox entries by record id, so it must land before a new entry of them)."""
        if self._writing is not None and not self._writing[2].isdisjoint(record_ids):
            log.debug("waiting for the write batch in flight: it holds records of this page")
            self.settle()

    def drain(self, *, final: bool) -> None:
        """Write queued entries in full batches (and with `final`, the last partial one too,
        waiting for every write to be settled)."""
        size, queue = self._size, self._queue
        while True:
            if queue and (final or len(queue) >= size):
                self.settle()
                batch = [queue.pop(key) for key in list(queue)[:size]]
                if self._thread is not None and not final:
                    future = self._thread.submit(self._write_batch, batch)
                    self._writing = (batch, future, frozenset(e.record_id for e, _ in batch))
                else:
                    self._settle(batch, self._write_batch(batch))
            elif final and self._writing is not None:
                self.settle()  # its retries may be queued again
            else:
                return

    def settle(self) -> None:
        """Wait for the batch being written on the thread, if any, and account for it."""
        writing, self._writing = self._writing, None
        if writing is not None:
            batch, future, _ = writing
            self._settle(batch, future.result())

    def close(self) -> None:
        """After the run's body: settle a batch still being written (the body ended early)
        and stop the write thread."""
        if self._writing is not None:
            try:
                self.settle()
            except Exception:
                # The body's own failure is what the run reports; the batch stays in the outbox
                # unless its ledger rows were committed.
                log.exception("write in flight failed while the run ended")
        if self._thread is not None:
            self._thread.shutdown(wait=True)

    def _write_batch(self, batch: Batch) -> list[WriteOutcome]:
        """Write a batch and ledger every outcome (in the run's thread or the write thread),
        one API call's part at a time: each part's ledger rows are committed before the next
        part is sent, so a crash (kill -9) sends at most the part in flight again."""
        entries = {entry.record_id: entry for entry, _ in batch}
        changes = [Change(entry.record_id, values) for entry, values in batch]
        limit = self._max_attempts
        done: dict[str, WriteOutcome] = {}
        for part in self._connector.write_parts(changes):
            written, again = self._write(list(part))
            self._log_resent(written)
            results = {r.record_id: r for r in written}
            outcomes = [
                outcome(
                    entries[c.record_id],
                    results.get(c.record_id),
                    max_attempts=limit,
                    resent=again,
                )
                for c in part
            ]
            self._store.record_writes(
                self._run_id,
                self._connection,
                self._kind,
                outcomes,
                now=self._clock(),
                score_kinds=self._score_kinds,
            )
            self._journal.settle()
            done.update((o.entry.record_id, o) for o in outcomes)
        return [done[entry.record_id] for entry, _ in batch]

    def _write(self, changes: list[Change]) -> tuple[list[WriteResult], int]:
        """Write a batch, pausing through an outage the connector's retries did not outlast;
        with the times it was sent again after a pause (`connectors.retry.sent_again`: not
        after a refusal for rate nor when no connection was opened)."""
        again = 0
        while True:
            try:
                return self._connector.write(self._kind, changes, journal=self._journal), again
            except TransientError as exc:
                self._outage.wait(exc)
                again += sent_again(exc)

    def _log_resent(self, results: Sequence[WriteResult]) -> None:
        """One warning per call by which the connector sent writes again, with its records."""
        calls: Counter[ResentCall] = Counter()
        for result in results:
            calls.update(result.resent)
        for call, records in calls.items():
            log.warning(
                "write call sent again after a retryable error",
                extra={
                    "connection": self._connection,
                    "kind": self._kind,
                    "endpoint": call.endpoint,
                    "records": records,
                    "reason": call.reason,
                },
            )

    def _settle(self, batch: Batch, outcomes: list[WriteOutcome]) -> None:
        counts, pause = self._counts, None
        for done, (entry, values) in zip(outcomes, batch, strict=True):
            counts.retried += done.resent
            if done.status == "applied":
                counts.written += 1
                continue
            if done.status in ("retry", "paused"):
                # not a failure: counted once written or given up on
                counts.retried += 1
                attempts = entry.attempts + (done.status == "retry")
                self._queue[entry.record_id] = (replace(entry, attempts=attempts), values)
                if done.status == "paused":
                    pause = done
                continue
            counts.failed += 1
            if done.status == "dead_lettered":
                counts.dead_lettered += 1
                self._reasons[dead_letter_reason(done.error_code, done.error)] += 1
        if pause is not None:
            # The CRM stayed unavailable through the connector's retries: an outage, paused
            # like a failed call (re-raised once it outlasts the policy).
            self._outage.wait(TransientError(f"{pause.error_code}: {pause.error}"))
        elif outcomes:
            self._outage.reset()
