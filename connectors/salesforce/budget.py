"""This connection's share of the org's rolling 24-hour API allowance.

Salesforce counts API calls over the preceding 24 hours, not per calendar day: once the org's
allowance is spent, calls are refused until the usage of the last 24 hours drops below it. Every
response reports the org-wide count (`Sforce-Limit-Info: api-usage=N/M`).

The connection may have made at most `floor(daily_share * M)` calls in any 24 hours (`share_cap`,
on the decimal written, not its binary float). Its own
calls are remembered with their times, so the share frees up call by call as they age out, and
a refusal says exactly when the work will fit again. `used` seeds the count with calls this
connection made in the last 24 hours in earlier processes (from the state store); their times
are unknown, so they are taken as made at start (they age out 24 hours later at the latest).
Until the first response names `M`, calls are counted and charged once it is known.

When the org's allowance is spent (`api-usage` at its maximum, or a 403 `TotalRequests`),
calls stop at once without touching the API; after `recheck_s` seconds the client asks
`GET limits` again (one call) instead of waiting for midnight, and carries on as soon as the
window has room.

`require(n)` refuses up front, with `BudgetExhausted`, work that needs more calls than remain,
so a run stops cleanly between pages instead of half-way through a write; the next run resumes
from its cursor.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from connectors.errors import BudgetExhausted
from connectors.salesforce.http import LimitInfo

WINDOW_S = 86_400.0
RECHECK_S = 900.0


def _moment(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _decimal(share: float) -> Decimal:
    # the shortest text that reads back as the float: the decimal the configuration wrote
    return Decimal(repr(share))


def share_cap(share: float, org_limit: int) -> int:
    """The calls `share` of an org allowance of `org_limit` gives in 24 hours: `floor(share x
    org_limit)` of the decimal written (0.00896 of 100,000 is 896, where the binary product is
    895.99...), at least 1."""
    return max(1, math.floor(_decimal(share) * org_limit))


def share_text(share: float) -> str:
    """`share` as a percentage with every digit it was written with: `20%`, `0.896%`."""
    return f"{(_decimal(share) * 100).normalize():f}%"


class DailyShare:
    """Calls left for this connection in the rolling 24 hours, from `daily_share` of the org's
    allowance."""

    def __init__(
        self,
        share: float,
        *,
        clock: Callable[[], float],
        used: int = 0,
        recheck_s: float = RECHECK_S,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("daily_share must be in (0, 1]")
        self.share = share
        self.recheck_s = recheck_s
        self._clock = clock
        self._calls: deque[float] = deque([clock()] * max(0, used))
        self._recheck_at: float | None = None  # the org's allowance is spent until re-checked
        self._lock = threading.Lock()
        self.org_used: int | None = None
        self.org_limit: int | None = None

    @property
    def limit(self) -> int | None:
        """Calls this connection may make in 24 hours, once the org's allowance is known."""
        if self.org_limit is None:
            return None
        return share_cap(self.share, self.org_limit)

    @property
    def used(self) -> int:
        """This connection's calls in the last 24 hours."""
        with self._lock:
            self._prune(self._clock())
            return len(self._calls)

    def catch_up(self, recorded: int) -> None:
        """Count at least `recorded` calls in the rolling 24 hours (`connectors.daily_catch_up`):
        those missing from this count are taken as made now, so they leave the window no
        earlier than they did."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            missing = recorded - len(self._calls)
            if missing > 0:
                self._calls.extend([now] * missing)

    def remaining(self) -> int | None:
        """Calls left now, or None before the allowance is known."""
        limit = self.limit
        if limit is None:
            return None
        return max(0, limit - self.used)

    @property
    def recheck_at(self) -> datetime | None:
        """When the org's spent allowance is asked for again (None: not known to be spent)."""
        return datetime.fromtimestamp(self._recheck_at, UTC) if self._recheck_at else None

    def recheck_due(self) -> bool:
        """Whether the org's allowance was spent and it is time to ask `GET limits` again."""
        return self._recheck_at is not None and self._clock() >= self._recheck_at

    def spend(self, *, recheck: bool = False) -> None:
        """Count one call, or raise `BudgetExhausted` when the share or the org's allowance is
        spent; `recheck` is the `GET limits` call that asks whether the org has room again."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            if self._recheck_at is not None and not (recheck and now >= self._recheck_at):
                raise self._org_spent()
            limit = self.limit
            if limit is not None and len(self._calls) >= limit:
                free = self._free_at(1, limit)
                raise BudgetExhausted(
                    f"this connection's share of the org's API allowance ({limit} calls in 24 "
                    f"hours, {share_text(self.share)} of {self.org_limit}) is spent; it frees up "
                    f"from {_moment(free)}, when the run resumes (or raise daily_share)",
                    resume_at=datetime.fromtimestamp(free, UTC),
                )
            self._calls.append(now)

    def require(self, calls: int, what: str) -> None:
        """Raise `BudgetExhausted` now when `what` needs more calls than remain."""
        limit = self.limit
        left = self.remaining()
        if limit is None or left is None or left >= calls:
            return
        with self._lock:
            free = self._free_at(calls, limit) if calls <= limit else None
        when = (
            f"the run resumes from its cursor at {_moment(free)}, when enough of this "
            "connection's calls of the last 24 hours have aged out"
            if free is not None
            else "it can never fit: raise daily_share"
        )
        raise BudgetExhausted(
            f"{what} needs {calls} API calls but {left} remain of this connection's share "
            f"({share_text(self.share)} of the org's {self.org_limit} calls in 24 hours); {when}",
            resume_at=datetime.fromtimestamp(free, UTC) if free is not None else None,
        )

    def observe(self, info: LimitInfo) -> None:
        """Take the org's usage from a response: at its maximum, calls stop until re-checked."""
        with self._lock:
            self.org_used, self.org_limit = info.used, info.limit
            if info.limit and info.used >= info.limit:
                self._mark_spent()
            else:
                self._recheck_at = None

    def org_spent(self) -> BudgetExhausted:
        """Note that Salesforce refused a call because the org's allowance is spent."""
        with self._lock:
            self._mark_spent()
            return self._org_spent()

    def _mark_spent(self) -> None:
        now = self._clock()
        if self._recheck_at is None or self._recheck_at <= now:
            self._recheck_at = now + self.recheck_s

    def _org_spent(self) -> BudgetExhausted:
        assert self._recheck_at is not None
        usage = f" ({self.org_used}/{self.org_limit})" if self.org_limit else ""
        return BudgetExhausted(
            f"the org's API allowance for the last 24 hours is spent{usage}; leadsync asks "
            f"Salesforce again at {_moment(self._recheck_at)} and the run resumes then from its "
            "cursor if calls have aged out of the window",
            resume_at=datetime.fromtimestamp(self._recheck_at, UTC),
        )

    def _prune(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - WINDOW_S:
            self._calls.popleft()

    def _free_at(self, calls: int, limit: int) -> float:
        """When `calls` calls fit under `limit` again (hold the lock; assumes `calls <= limit`)."""
        self._prune(self._clock())
        surplus = len(self._calls) - (limit - calls)
        if surplus <= 0:
            return self._clock()
        return self._calls[surplus - 1] + WINDOW_S
