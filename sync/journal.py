"""The engine's `connectors.base.WriteJournal`: write jobs and calls noted in the state store.

A Salesforce Bulk API job applies its rows on the server whatever becomes of the process that
uploaded them, and so does a composite call of several sObject Collections. The connector notes
each job or call here (durably, before its data goes); once every record of it has its outcome
in the ledger (none waits in the outbox), `settle` forgets it. A run killed in between leaves
the note, and the next write of those records reconciles them (the job's results, or the
records read back) instead of sending them again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sync.state.store import StateStore

__all__ = ["StoreJournal"]


class StoreJournal:
    """The write jobs of one connection and kind, kept in `store`."""

    def __init__(
        self, store: StateStore, connection: str, kind: str, clock: Callable[[], datetime]
    ) -> None:
        self._store = store
        self._connection = connection
        self._kind = kind
        self._clock = clock
        self._open: bool | None = None  # unknown until asked: a crashed run may have left some

    def started(self, job: str, rows: Mapping[str, str]) -> None:
        """Note `job` and its rows' digests (committed when this returns)."""
        self._store.note_write_job(self._connection, self._kind, job, rows, now=self._clock())
        self._open = True

    def jobs(self) -> list[tuple[str, dict[str, str]]]:
        """The noted jobs not settled yet, oldest first (no query once none is known open)."""
        if self._open is False:
            return []
        found = self._store.write_jobs(self._connection, self._kind)
        self._open = bool(found)
        return found

    def settle(self) -> None:
        """After a part's outcomes are ledgered: forget the jobs whose records all have theirs
        (a no-op, without a query, while no job is open)."""
        if self._open is not False:
            self._open = self._store.settle_write_jobs(self._connection, self._kind) > 0
