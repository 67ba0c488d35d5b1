"""A run's progress as a log line, so a long run (a rate-limit storm, a large full rescore)
shows how far it got while it goes, not only when it ends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from connectors.base import Connector
from sync.state.records import RunCounts

__all__ = ["PROGRESS_EVERY", "ProgressLog"]

#: At most one `run progress` line per this much of the run's clock.
PROGRESS_EVERY = timedelta(seconds=30)


class ProgressLog:
    """Emits `run progress` (records read and written so far, API calls made, and the share of
    them the CRM refused for rate) after a page, at most once per `every`."""

    def __init__(
        self,
        connector: Connector,
        clock: Callable[[], datetime],
        emit: Callable[..., None],
        every: timedelta = PROGRESS_EVERY,
    ) -> None:
        self._connector = connector
        self._clock = clock
        self._emit = emit
        self._every = every
        usage = connector.usage
        self._calls0, self._limited0 = usage.calls, usage.rate_limited
        self._last = clock()

    def page(self, counts: RunCounts) -> None:
        """Called after each page; logs when `every` has passed since the last line."""
        now = self._clock()
        if now - self._last < self._every:
            return
        self._last = now
        usage = self._connector.usage
        calls = usage.calls - self._calls0
        refused = usage.rate_limited - self._limited0
        self._emit(
            "run progress",
            read=counts.read,
            written=counts.written,
            planned=counts.planned,
            api_calls=calls,
            rate_limited=refused,
            refused_share=round(refused / calls, 3) if calls else 0.0,
        )
