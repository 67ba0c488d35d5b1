"""Persistent state of leadsync: runs, cursors, outbox, ledger, dead letters, latest scores."""

from sync.state.store import (
    CursorState,
    DeadLetter,
    LedgerRow,
    OutboxEntry,
    RunCounts,
    RunRow,
    StateStore,
    WriteOutcome,
)

__all__ = [
    "CursorState",
    "DeadLetter",
    "LedgerRow",
    "OutboxEntry",
    "RunCounts",
    "RunRow",
    "StateStore",
    "WriteOutcome",
]
