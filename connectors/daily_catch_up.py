"""Calls other leadsync processes spent on a connection, counted by a long-lived connector.

A connector seeds its daily cap (HubSpot `daily_budget`, Salesforce `daily_share`) with the
calls the state store holds when it is built. The daemon keeps its connectors for as long as it
runs, while `leadsync backtest`, `preview`, `explain`, `setup` or a manual `sync` spend calls of
the same allowance from other processes and record them in the state store (`sync.call_log`).
Before each job the daemon hands the connector the day's recorded total, and the cap counts
whichever is higher, that total or its own count (its own calls are recorded too, a batch at a
time, so its count may be a few calls ahead of the store's).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class DailyCatchUp(Protocol):
    """A connector whose daily cap can count the calls recorded by other processes."""

    def catch_up(self, recorded: int) -> None:
        """Count at least `recorded` calls in the cap's current day (or rolling window): the
        connection's calls the state store holds for it, every process's."""
        ...
