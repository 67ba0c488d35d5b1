"""The one retry layer: exact wait sequences, what is retried, what is not."""

from __future__ import annotations

import pytest

from connectors.errors import (
    AuthError,
    BudgetExhausted,
    MissingPermission,
    PermanentError,
    RateLimited,
    TransientError,
)
from connectors.retry import RetryPolicy, backoff_wait, retrying


def failing(errors: list[BaseException], result: str = "done"):
    """A callable that raises each error in turn, then returns `result`; counts its calls."""
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return call, calls


@pytest.mark.parametrize(
    ("rng", "expected"),
    [
        (0.0, [0.25, 0.5, 1.0, 2.0, 4.0]),
        (1.0, [0.5, 1.0, 2.0, 4.0, 8.0]),
        (0.5, [0.375, 0.75, 1.5, 3.0, 6.0]),
    ],
)
def test_backoff_waits_are_equal_jitter_exponential(rng: float, expected: list[float]) -> None:
    policy = RetryPolicy(attempts=6, base=0.5, cap=30.0)
    assert [backoff_wait(policy, n, lambda: rng) for n in range(1, 6)] == expected


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base=1.0, cap=4.0)
    assert [backoff_wait(policy, n, lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 4, 4]


def test_transient_errors_are_retried_with_exact_waits_then_succeed() -> None:
    waits: list[float] = []
    call, calls = failing([TransientError("503"), TransientError("reset"), TransientError("504")])
    result = retrying(RetryPolicy(attempts=5, base=1.0), sleep=waits.append, rng=lambda: 0.0)(call)
    assert result == "done"
    assert waits == [0.5, 1.0, 2.0]
    assert len(calls) == 4


def test_retry_after_is_honoured_and_mixed_with_backoff() -> None:
    waits: list[float] = []
    call, _ = failing(
        [RateLimited("429", retry_after=7.5), TransientError("502"), RateLimited("x")]
    )
    retrying(RetryPolicy(attempts=5, base=1.0), sleep=waits.append, rng=lambda: 1.0)(call)
    # retry_after for the first; backoff (attempt 2, then 3) when no retry_after was given.
    assert waits == [7.5, 2.0, 4.0]


def test_gives_up_after_attempts_and_reraises_the_original_error() -> None:
    waits: list[float] = []
    errors: list[BaseException] = [TransientError(f"boom {i}") for i in range(10)]
    call, calls = failing(errors)
    with pytest.raises(TransientError, match="boom 3"):
        retrying(RetryPolicy(attempts=4, base=1.0), sleep=waits.append, rng=lambda: 0.0)(call)
    assert len(calls) == 4
    assert waits == [0.5, 1.0, 2.0]


def test_retry_after_beyond_the_limit_surfaces_at_once() -> None:
    waits: list[float] = []
    call, calls = failing([RateLimited("daily", retry_after=3600.0)])
    with pytest.raises(RateLimited, match="daily"):
        retrying(RetryPolicy(max_retry_after=60.0), sleep=waits.append)(call)
    assert waits == []
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        AuthError("bad token"),
        MissingPermission("crm.objects.contacts.write"),
        PermanentError("400"),
        BudgetExhausted("spent"),
        ValueError("bug"),
    ],
)
def test_non_transient_errors_are_raised_on_the_first_try(error: Exception) -> None:
    waits: list[float] = []
    call, calls = failing([error])
    with pytest.raises(type(error)):
        retrying(sleep=waits.append)(call)
    assert waits == []
    assert len(calls) == 1


def test_on_retry_sees_each_error_and_its_wait() -> None:
    seen: list[tuple[str, float]] = []
    call, _ = failing([RateLimited("a", retry_after=2.0), TransientError("b")])
    retrying(
        RetryPolicy(base=1.0),
        sleep=lambda _s: None,
        rng=lambda: 0.0,
        on_retry=lambda e, w: seen.append((str(e), w)),
    )(call)
    assert seen == [("a", 2.0), ("b", 1.0)]


def test_attempt_iteration_form_works_for_blocks() -> None:
    waits: list[float] = []
    outcomes = [TransientError("once")]
    done = []
    for attempt in retrying(sleep=waits.append, rng=lambda: 0.0):
        with attempt:
            if outcomes:
                raise outcomes.pop()
            done.append(True)
    assert done == [True]
    assert waits == [0.25]


def test_shared_rate_holds_wait_their_hold_and_use_up_no_attempt() -> None:
    waits: list[float] = []
    errors: list[BaseException] = [
        RateLimited("429", retry_after=2.0),
        TransientError("502 a"),
        RateLimited("429", retry_after=3.0),
        TransientError("502 b"),
        RateLimited("429", retry_after=1.0),
        TransientError("502 c"),
    ]
    call, calls = failing(errors)
    policy = RetryPolicy(attempts=3, base=1.0)
    with pytest.raises(TransientError, match="502 c"):
        retrying(policy, sleep=waits.append, rng=lambda: 0.0, shared_rate_hold=True)(call)
    # the holds as given; the backoff counts only the 502s (0.5 s, then 1 s); the third 502 is
    # the third attempt used up
    assert waits == [2.0, 0.5, 3.0, 1.0, 1.0]
    assert len(calls) == 6


def test_a_call_gives_up_after_rate_patience_seconds_of_holds() -> None:
    waits: list[float] = []
    call, calls = failing([RateLimited(f"429 {i}", retry_after=100.0) for i in range(20)])
    with pytest.raises(RateLimited, match="429 5"):
        retrying(RetryPolicy(rate_patience=600.0), sleep=waits.append, shared_rate_hold=True)(call)
    # the sixth hold would bring the waits to 600 s: the call gives up instead of waiting it
    assert waits == [100.0] * 5
    assert len(calls) == 6


def test_refusals_that_hold_nothing_use_up_attempts_instead_of_retrying_forever() -> None:
    # `Retry-After: 0` on every answer: the holds never add up to the patience, so each such
    # refusal counts as a failed try and the call ends after `attempts`.
    waits: list[float] = []
    call, calls = failing([RateLimited(f"429 {i}", retry_after=0.0) for i in range(50)])
    with pytest.raises(RateLimited, match="429 3"):
        retrying(RetryPolicy(attempts=4), sleep=waits.append, shared_rate_hold=True)(call)
    assert waits == [0.0, 0.0, 0.0]
    assert len(calls) == 4
