"""HubSpot's rate limits: a rolling 10-second window per app, a daily counter, and the search
endpoints' own per-second limit.

Headers follow https://developers.hubspot.com/docs/api/usage-details ("Rate limits"):
`X-HubSpot-RateLimit-Daily` and `-Daily-Remaining` (not sent for OAuth-authenticated calls),
`-Interval-Milliseconds`, `-Max`, `-Remaining`, and the deprecated `-Secondly` and
`-Secondly-Remaining`; responses of the search endpoints carry none of them. OAuth-authenticated
calls have no daily limit and a ten-second limit of their own, 100 whatever the tier
(`OAUTH_PER_WINDOW`; developers.hubspot.com/apisbytier: "Apps using OAuth are only subject to a
limit of 100 requests every 10 seconds"), or the general one when a sandbox is started with a
lower one. A 429 names the policy (`TEN_SECONDLY_ROLLING`, `DAILY`, or
`SECONDLY` for search) and has no Retry-After. Search requests and association batch reads are
exempt from the ten-second window (the OpenAPI specs mark them `x-hubspot-rate-limit-exemptions:
["ten-secondly"]`): they count against the day, search against its own per-second limit, the
association endpoints against their own burst limit (HubSpot's associations guide, "Limits":
100 requests per 10 seconds on Free and Starter, 150 on Professional and Enterprise), and carry
no window headers. The day is the account's: it starts at midnight in its time zone
(developers.hubspot.com/apisbytier: "The daily limits reset at midnight based on the time zone
setting of the HubSpot account").
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.httpserver import Response
from sandbox.hubspot import errors

#: Calls per rolling ten seconds an OAuth app's installation may make, whatever the tier.
OAUTH_PER_WINDOW = 100


@dataclass
class _Bucket:
    window: deque[float] = field(default_factory=deque)
    search: deque[float] = field(default_factory=deque)
    associations: deque[float] = field(default_factory=deque)
    day: int = -1
    daily: int = 0


class RateLimiter:
    """Counts requests per app and refuses those over a limit."""

    def __init__(  # noqa: PLR0913  the limits and the test seams, keyword-only
        self,
        *,
        per_window: int = 190,
        daily: int = 1_000_000,
        window_s: float = 10.0,
        search_per_second: int = 5,
        associations_per_window: int = 150,
        clock: Callable[[], float] = time.time,
        zone: dt.tzinfo = dt.UTC,
    ) -> None:
        self.per_window = per_window
        self.associations_per_window = associations_per_window
        self.zone = zone
        self.daily = daily
        self.window_s = window_s
        self.search_per_second = search_per_second
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._buckets.clear()

    def admit(
        self,
        app: str,
        *,
        search: bool,
        oauth: bool,
        exempt: bool = False,
        associations: bool = False,
    ) -> tuple[Response | None, dict[str, str]]:
        """Count one request; returns (a 429 or None, the rate-limit headers to send).

        `exempt` requests (search, association batch reads: the OpenAPI specs mark them
        `x-hubspot-rate-limit-exemptions: ["ten-secondly"]`) count against the day, not the
        ten-second window; search against its own per-second limit, `associations` requests
        against the association endpoints' own ten-second burst limit."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.setdefault(app, _Bucket())
            day = self._day(now)
            if bucket.day != day:
                bucket.day, bucket.daily = day, 0
            window = bucket.window
            while window and window[0] <= now - self.window_s:
                window.popleft()
            refusal: Response | None = None
            # OAuth calls have no daily limit, hence no daily headers (HubSpot changelog "Rate
            # limit headers will now appear for OAuth authenticated calls").
            if not oauth and bucket.daily >= self.daily:
                refusal = errors.rate_limited("DAILY", "You have reached your daily limit.")
            elif not exempt and len(window) >= self._per_window(oauth=oauth):
                refusal = errors.rate_limited(
                    "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."
                )
            elif associations and self._full(bucket.associations, now):
                # the refusal's body is not documented: the ten-second policy's is assumed
                refusal = errors.rate_limited(
                    "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."
                )
            elif search:
                recent = bucket.search
                while recent and recent[0] <= now - 1.0:
                    recent.popleft()
                if len(recent) >= self.search_per_second:
                    refusal = errors.rate_limited(
                        "SECONDLY", "You have reached your secondly limit."
                    )
                else:
                    recent.append(now)
            if refusal is None:
                if associations:
                    bucket.associations.append(now)
                elif not exempt:
                    window.append(now)
                bucket.daily += 1
            headers = {} if exempt else self._headers(bucket, now, oauth=oauth)
        return refusal, headers

    def _per_window(self, *, oauth: bool) -> int:
        """The ten-second limit of a private app's calls, or of an OAuth app's."""
        return min(self.per_window, OAUTH_PER_WINDOW) if oauth else self.per_window

    def _full(self, burst: deque[float], now: float) -> bool:
        """Whether the association endpoints' window holds its limit (older calls dropped)."""
        while burst and burst[0] <= now - self.window_s:
            burst.popleft()
        return len(burst) >= self.associations_per_window

    def _day(self, now: float) -> int:
        return dt.datetime.fromtimestamp(now, self.zone).date().toordinal()

    def used_today(self, app: str) -> int:
        """Calls `app` made in the account's current day."""
        with self._lock:
            bucket = self._buckets.get(app)
            if bucket is None or bucket.day != self._day(self.clock()):
                return 0
            return bucket.daily

    def _headers(self, bucket: _Bucket, now: float, *, oauth: bool) -> dict[str, str]:
        used = len(bucket.window)
        limit = self._per_window(oauth=oauth)
        secondly = max(1, limit * 1.0 / self.window_s)
        last_second = 0
        for moment in reversed(bucket.window):
            if moment <= now - 1.0:
                break
            last_second += 1
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.window_s * 1000)),
            "X-HubSpot-RateLimit-Max": str(limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, limit - used)),
            "X-HubSpot-RateLimit-Secondly": str(int(secondly)),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, int(secondly) - last_second)),
        }
        if not oauth:
            headers["X-HubSpot-RateLimit-Daily"] = str(self.daily)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, self.daily - bucket.daily))
        return headers
