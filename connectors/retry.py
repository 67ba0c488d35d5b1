"""The project's one retry layer: a tenacity `Retrying` built in one place for every connector.

Policy, as a value (`RetryPolicy`): retry `TransientError` (and its subclass `RateLimited`) up to
`attempts` tries in total; between tries wait

* `retry_after` seconds when the CRM said so (`RateLimited.retry_after`), or stop retrying at once
  when that is longer than `max_retry_after` (sleeping for hours helps nobody; the error surfaces);
* otherwise an "equal jitter" exponential backoff: with `e = min(cap, base * 2**(n-1))` for the
  n-th retry, wait `e/2 + rng() * e/2`, so waits grow, never collapse to zero, and many workers
  failing together spread out.

A connector whose threads share one rate budget sets `shared_rate_hold`: its `RateLimited`
errors then carry as `retry_after` the hold that budget imposes on every thread
(`RollingWindow.refused`: the CRM's Retry-After, or the same equal-jitter backoff over the run of
refusals, capped at `rate_ceiling`), they do not use up the `attempts` (in a storm most calls are
refused several times in a row; counting those as failures ended calls that were making
progress), and the call gives up only once its holds reach `rate_patience` seconds (a refusal
that holds nothing, `Retry-After: 0`, counts as a failed try instead, so it cannot retry forever).

`on_resend(error)` is told of each retry that sends again a call the CRM may have received and
acted on (a 5xx, a dropped connection, a timeout, a malformed reply): not after a refusal for
rate (the CRM took nothing, and `ApiUsage.rate_limited` counts it) nor after `Unreachable` (no
connection was opened). The connectors' writes count their records sent again with it
(`connectors.base.ResentCall`).

Every other exception (auth, permission, budget, permanent) is raised on the first try. After the
last try the original exception is re-raised, never a tenacity `RetryError`. `sleep` and `rng` are
injectable (`rng` also as the policy's `jitter`, which reaches every connector through its
options) so tests assert exact waits without sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from connectors.errors import RateLimited, TransientError, Unreachable

__all__ = ["RetryPolicy", "backoff_wait", "rate_backoff", "retrying", "sent_again"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry transient failures.

    `jitter` draws the backoff's random share in [0, 1) (None: a fresh `random.Random`); it
    travels with the policy through the connectors' options, so tests fix it and assert exact
    waits.
    """

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0
    jitter: Callable[[], float] | None = field(default=None, compare=False)
    #: The longest single hold after rate refusals (the engine's longest outage pause).
    rate_ceiling: float = 120.0
    #: Seconds one call may wait through rate refusals before the error surfaces.
    rate_patience: float = 600.0


def backoff_wait(
    policy: RetryPolicy, retry_number: int, rng: Callable[[], float], *, cap: float | None = None
) -> float:
    """The jittered exponential wait before the `retry_number`-th retry (1-based), at most
    `cap` (the policy's `cap` when None)."""
    ceiling = min(policy.cap if cap is None else cap, policy.base * 2.0 ** (retry_number - 1))
    return ceiling / 2 + rng() * ceiling / 2


def rate_backoff(policy: RetryPolicy, rng: Callable[[], float]) -> Callable[[int], float]:
    """The hold after the `n`-th rate refusal in a row: `backoff_wait` up to `rate_ceiling`."""
    return lambda n: backoff_wait(policy, n, rng, cap=policy.rate_ceiling)


@dataclass(slots=True)
class _Tally:
    """One call's failures other than shared-hold rate refusals, and its seconds held for rate."""

    failures: int = 0
    held: float = 0.0


def sent_again(error: BaseException) -> bool:
    """Whether a retry after `error` sends again a call the CRM may have received: not after a
    refusal for rate, nor when no connection was opened."""
    return not isinstance(error, (RateLimited, Unreachable))


def retrying(  # noqa: PLR0913  the policy, then seams and observers, keyword-only
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] | None = None,
    on_retry: Callable[[BaseException, float], None] | None = None,
    on_resend: Callable[[BaseException], None] | None = None,
    shared_rate_hold: bool = False,
) -> Retrying:
    """Build the `Retrying` controller every connector call goes through.

    `on_retry(error, wait)` is called before each sleep (for logs and usage counters),
    `on_resend(error)` before each retry that `sent_again` says repeats a call the CRM may have
    acted on; `shared_rate_hold` is explained in the module docstring.
    Use it as `retrying(...)(fn, *args)` or `for attempt in retrying(...): with attempt: ...`.
    """
    pol = policy or RetryPolicy()
    draw = rng or pol.jitter or random.Random().random
    tally = _Tally()

    def held(error: BaseException | None) -> bool:
        return shared_rate_hold and isinstance(error, RateLimited)

    def before(state: RetryCallState) -> None:
        if state.attempt_number == 1:
            tally.failures, tally.held = 0, 0.0

    def after(state: RetryCallState) -> None:
        # Runs once per failed attempt, before wait and stop (whichever tenacity calls first).
        error = state.outcome.exception() if state.outcome else None
        if shared_rate_hold and isinstance(error, RateLimited):
            hold = max(0.0, float(error.retry_after or 0.0))
            tally.held += hold
            if hold == 0.0:
                # a refusal that holds nothing (a server's `Retry-After: 0`, or the hold already
                # over) brings patience no closer: it counts as a failed try, so a server that
                # refuses that way forever ends the call after `attempts`, not never
                tally.failures += 1
        else:
            tally.failures += 1

    def failures(state: RetryCallState) -> int:
        return tally.failures if shared_rate_hold else state.attempt_number

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return max(0.0, float(error.retry_after))
        return backoff_wait(pol, max(1, failures(state)), draw)

    def stop(state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if (
            isinstance(error, RateLimited)
            and error.retry_after is not None
            and error.retry_after > pol.max_retry_after
        ):
            return True
        if held(error):
            return tally.held >= pol.rate_patience or tally.failures >= pol.attempts
        return failures(state) >= pol.attempts

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None and state.next_action is not None:
            error = state.outcome.exception()
            if error is not None:
                on_retry(error, state.next_action.sleep)
        if on_resend is not None and state.outcome is not None:
            error = state.outcome.exception()
            if error is not None and sent_again(error):
                on_resend(error)

    return Retrying(
        retry=retry_if_exception_type(TransientError),
        wait=wait,
        stop=stop,
        sleep=sleep,
        before=before,
        after=after,
        before_sleep=before_sleep,
        reraise=True,
    )
