"""This connection's share of the org's daily API allowance.

Salesforce reports the org-wide usage on every response (`Sforce-Limit-Info: api-usage=N/M`).
The connection may spend `floor(daily_share * M)` calls per UTC day (counted by
`connectors.ratelimit.DailyCap`, calls of this connector instance). Until the first response
names `M`, calls are counted and charged once it is known. `used` seeds the count with calls
this connection already made today in earlier processes (from the state store), so the share
holds per day across restarts. `require(n)` refuses up front, with
`BudgetExhausted`, work that needs more calls than remain, so a run stops cleanly between pages
instead of half-way through a write; the next run resumes from its cursor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

from connectors.errors import BudgetExhausted
from connectors.ratelimit import DailyCap
from connectors.salesforce.http import LimitInfo


class DailyShare:
    """Calls left for this connection today, from `daily_share` of the org's allowance."""

    def __init__(self, share: float, *, today: Callable[[], date], used: int = 0) -> None:
        if not 0 < share <= 1:
            raise ValueError("daily_share must be in (0, 1]")
        self.share = share
        self._today = today
        self._cap: DailyCap | None = None
        self._early = max(0, used)
        self.org_used: int | None = None
        self.org_limit: int | None = None

    @property
    def limit(self) -> int | None:
        """Calls this connection may make today, once the org's allowance is known."""
        return self._cap.limit if self._cap else None

    @property
    def used(self) -> int:
        """Calls counted against the share today."""
        return self._cap.used if self._cap else self._early

    def remaining(self) -> int | None:
        """Calls left today, or None before the allowance is known."""
        if self._cap is None or self._cap.limit is None:
            return None
        return max(0, self._cap.limit - self._cap.used)

    def spend(self) -> None:
        """Count one call, or raise `BudgetExhausted` when the share is spent."""
        if self._cap is None:
            self._early += 1
            return
        self._cap.spend()

    def require(self, calls: int, what: str) -> None:
        """Raise `BudgetExhausted` now when `what` needs more calls than remain today."""
        left = self.remaining()
        if left is not None and left < calls:
            raise BudgetExhausted(
                f"{what} needs {calls} API calls but {left} remain of this connection's share "
                f"({self.share:.0%} of the org's {self.org_limit} daily calls); the run stops "
                "here and resumes from its cursor tomorrow (or raise daily_share)"
            )

    def observe(self, info: LimitInfo) -> None:
        """Take the org's usage from a response; size the share from its allowance."""
        self.org_used, self.org_limit = info.used, info.limit
        allowed = max(1, math.floor(self.share * info.limit))
        if self._cap is None or self._cap.limit != allowed:
            self._cap = DailyCap(allowed, today=self._today, used=min(self.used, allowed))
        self._cap.observe(remaining=info.limit - info.used)
