"""Client-side API budgets, shared by every thread of a connector: a rolling window and a daily cap.

`RollingWindow(limit, window)` lets at most `limit` calls reach the server in any `window`
seconds, even with many threads and variable latency. The server counts a call at some instant
between our send and its response, so a slot is held from `acquire()` (send) until `window`
seconds after `release()` (response). Then, for any two calls the server sees less than `window`
apart, the later one was sent while the earlier was in flight or inside its hold, so it was
counted: the server can never see more than `limit`. The price is one round trip per window
(about 1% at 100 ms latency and a 10 s window).

The window is corrected from what the server reports (`observe`): its limit replaces ours, and
when it says fewer calls remain than we account for (another client shares the allowance), the
difference is held as phantom calls for one window.

A rate refusal the budget did not foresee (another client, a server that limits harder than it
says, a storm of 429s) closes the window for a while: `refused(sent=, retry_after=)` holds every
thread until the server's Retry-After has passed or, without one, for a backoff that grows with
the run of refusals (`backoff(n)` for the n-th in a row: jittered and capped in the connectors,
`connectors.retry.rate_backoff`). Only a call sent after the latest refusal was known lengthens
the run: calls already in flight when the window closed report the same episode, so eight
threads refused together back off once, not eight times over. A call that goes through
(`answered()`) ends the run. A refusal while the window had room (`window_full=False`: the
server's count of calls left was not zero, or it sent none and ours had room) is not the
window's doing and cannot be waited away: backing off ever longer, or closing the window to
every thread, would only stall the run (refused at random four times in five, doubling holds
add up to hours), so the refused call alone pauses for about one slot's spacing (jittered) and
is sent again through the window, which keeps the pace within the limit. Holding a whole window
after every refusal, as this class did before, let such a storm through about one call in ten
seconds.

`DailyCap(limit, used=n)` counts calls per day (UTC's, or the CRM account's once `rezone` says
what "today" is there) and raises `BudgetExhausted` instead of making a call past the cap, or once
the server says the daily allowance is spent. `used` seeds today's count with calls earlier
processes of the same connection made (a daemon restart, `leadsync sync` from cron), so the cap
holds per day, not per process.

`clock` and `sleep` are injectable; tests drive both with a fake clock and never sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from connectors.errors import BudgetExhausted

__all__ = ["DailyCap", "RollingWindow"]


class RollingWindow:
    """At most `limit` calls in any `window` seconds, as the server counts them."""

    def __init__(  # noqa: PLR0913  limits, test seams (clock, sleep) and the backoff's shape
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Callable[[int], float] | None = None,
        jitter: Callable[[], float] = lambda: 0.5,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rolling window needs limit >= 1 and window > 0")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff or (lambda n: min(window, 0.5 * 2.0 ** (n - 1)))
        self._jitter = jitter
        self._done: deque[float] = deque()  # completion times inside the window, ascending
        self._in_flight = 0
        self._cond = threading.Condition()
        self._closed_until = -math.inf  # no call is sent before this (after a refusal)
        self._closed_at = -math.inf  # when the latest run of refusals last lengthened the hold
        self._refusals = 0  # refusals in a row, counted once per episode
        self.waited = 0.0  # total seconds callers spent waiting for a slot

    @property
    def limit(self) -> int:
        """Calls allowed per window (as configured, or as the server last reported)."""
        return self._limit

    @property
    def window(self) -> float:
        """The window length in seconds."""
        return self._window

    def used(self) -> int:
        """Slots held now: calls in flight plus calls completed within the last window."""
        with self._cond:
            self._prune(self._clock())
            return self._in_flight + len(self._done)

    def acquire(self) -> float:
        """Block until a call may be sent, take its slot, and return the seconds waited."""
        waited = 0.0
        while True:
            with self._cond:
                now = self._clock()
                delay = self._closed_until - now
                if delay <= 0:
                    self._prune(now)
                    excess = self._in_flight + len(self._done) - self._limit + 1
                    if excess <= 0:
                        self._in_flight += 1
                        self.waited += waited
                        return waited
                    if excess > len(self._done):
                        # Only responses still in flight can free a slot: wait for one.
                        start = self._clock()
                        self._cond.wait(timeout=self._window)
                        waited += self._clock() - start
                        continue
                    delay = self._done[excess - 1] + self._window - now
            self._sleep(delay)
            waited += delay

    def release(self) -> None:
        """Mark one acquired call as answered (or failed) now."""
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            self._done.append(self._clock())
            self._cond.notify_all()

    @contextmanager
    def slot(self) -> Iterator[float]:
        """`acquire()` on entry, `release()` on exit; yields the seconds waited."""
        waited = self.acquire()
        try:
            yield waited
        finally:
            self.release()

    def observe(
        self, *, limit: int | None = None, remaining: int | None = None, window: float | None = None
    ) -> None:
        """Correct the budget from the server's view, reported while one of our calls is held."""
        with self._cond:
            if window is not None and window > 0:
                self._window = window
            if limit is not None and limit >= 1:
                self._limit = limit
            if remaining is not None:
                now = self._clock()
                self._prune(now)
                server_used = self._limit - max(0, remaining)
                external = server_used - (self._in_flight + len(self._done))
                self._done.extend([now] * max(0, external))
            self._cond.notify_all()

    def refused(
        self, *, sent: float, retry_after: float | None = None, window_full: bool = True
    ) -> float:
        """The server refused for rate a call sent at `sent` (this window's clock): close the
        window (see the module docstring) and return the seconds until it opens again.

        `window_full=False`: the server's own count (or, without one, ours) left room in the
        window, so waiting cannot be what it wants: the refused call alone pauses for about one
        slot's spacing (`window / limit`, jittered), the window stays open and the run of
        refusals does not lengthen."""
        with self._cond:
            now = self._clock()
            if retry_after is None and not window_full:
                # this call's own pause, about one slot's spacing; the others go on
                spacing = self._window / self._limit
                return spacing / 2 + self._jitter() * spacing / 2
            if retry_after is not None:
                hold = retry_after
            elif sent >= self._closed_at:
                self._refusals += 1
                self._closed_at = now
                hold = self._backoff(self._refusals)
            else:
                hold = 0.0  # in flight when the window closed: the same episode
            self._closed_until = max(self._closed_until, now + hold)
            return max(0.0, self._closed_until - now)

    def answered(self) -> None:
        """A call went through: the next refusal starts a new run with the shortest hold."""
        with self._cond:
            self._refusals = 0

    def _prune(self, now: float) -> None:
        # A nanosecond of slack: after sleeping exactly until expiry, float rounding may leave
        # `now` an ulp short, and a sleep of an ulp cannot move a large clock value.
        cutoff = now - self._window + 1e-9
        while self._done and self._done[0] <= cutoff:
            self._done.popleft()


def _utc_today() -> date:
    return datetime.now(UTC).date()


class DailyCap:
    """A cap on calls per day for one connection; `None` means no cap of our own."""

    def __init__(
        self, limit: int | None, *, today: Callable[[], date] = _utc_today, used: int = 0
    ) -> None:
        self._limit = limit
        self._today = today
        self._day = today()
        self._used = max(0, used)  # calls already made today, before this instance existed
        self._server_spent = False
        self._lock = threading.Lock()

    @property
    def limit(self) -> int | None:
        """The configured cap."""
        return self._limit

    @property
    def used(self) -> int:
        """Calls counted against the cap today."""
        with self._lock:
            self._roll()
            return self._used

    def catch_up(self, recorded: int) -> None:
        """Count at least `recorded` calls today (`connectors.daily_catch_up`)."""
        with self._lock:
            self._roll()
            self._used = max(self._used, recorded)

    def spend(self) -> None:
        """Count one call, or raise `BudgetExhausted` when the day's budget is spent."""
        with self._lock:
            self._roll()
            if self._server_spent:
                raise BudgetExhausted("the CRM's daily API allowance is spent")
            if self._limit is not None and self._used >= self._limit:
                raise BudgetExhausted(
                    f"daily API budget of {self._limit} calls for this connection is spent; "
                    "raise daily_budget or wait for the next day"
                )
            self._used += 1

    @property
    def server_spent(self) -> bool:
        """Whether the server said today's allowance is spent."""
        with self._lock:
            self._roll()
            return self._server_spent

    def rezone(self, today: Callable[[], date]) -> None:
        """From now on the day is `today()`'s (the account's); today's count is kept."""
        with self._lock:
            self._today = today
            self._day = today()

    def observe(self, *, remaining: int | None) -> None:
        """Note the server's count of calls left today; zero stops calls until the day rolls."""
        if remaining is None:
            return
        with self._lock:
            self._roll()
            if remaining <= 0:
                self._server_spent = True

    def _roll(self) -> None:
        today = self._today()
        if today != self._day:
            self._day = today
            self._used = 0
            self._server_spent = False
