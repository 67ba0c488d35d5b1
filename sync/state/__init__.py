"""Persistent state of leadsync: runs, cursors, outbox, ledger, dead letters, latest scores."""

from sync.state.records import (
    CursorState,
    DeadLetter,
    LedgerRow,
    OutboxEntry,
    RunCounts,
    RunRow,
    WriteOutcome,
)
from sync.state.store import StateStore

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
