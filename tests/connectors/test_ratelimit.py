"""Rolling-window and daily budgets, driven by a fake clock (nothing really sleeps)."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from connectors.errors import BudgetExhausted
from connectors.ratelimit import DailyCap, RollingWindow


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it (or a test advances it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def window(limit: int, seconds: float, clock: FakeClock) -> RollingWindow:
    return RollingWindow(limit, seconds, clock=clock, sleep=clock.sleep)


def test_calls_within_the_limit_never_wait() -> None:
    clock = FakeClock()
    budget = window(3, 10.0, clock)
    assert [budget.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert clock.sleeps == []
    assert budget.used() == 3


def test_a_slot_is_held_for_one_window_after_its_response() -> None:
    clock = FakeClock()
    budget = window(2, 10.0, clock)
    for latency in (0.5, 1.0):
        budget.acquire()
        clock.now += latency
        budget.release()
    # Completed at 0.5 and 1.5: the third call may go at 10.5, the fourth at 11.5.
    assert budget.acquire() == 9.0
    budget.release()
    assert clock.now == 10.5
    assert budget.acquire() == 1.0
    assert clock.sleeps == [9.0, 1.0]


def test_exact_waits_for_a_steady_stream() -> None:
    clock = FakeClock()
    budget = window(4, 1.0, clock)
    starts = []
    for _ in range(10):
        budget.acquire()
        starts.append(round(clock.now, 6))
        clock.now += 0.1  # latency
        budget.release()
    # Four calls per window of hold: 0.0 .. 0.3 complete at 0.1 .. 0.4, so call 5 waits to 1.1.
    assert starts == [0.0, 0.1, 0.2, 0.3, 1.1, 1.2, 1.3, 1.4, 2.2, 2.3]
    assert budget.waited == 1.4  # 0.7 twice


def test_no_window_of_server_arrival_times_ever_exceeds_the_limit() -> None:
    """Any arrival instant between send and response keeps any 10 s window within the limit."""
    clock = FakeClock()
    budget = window(5, 10.0, clock)
    sends: list[float] = []
    responses: list[float] = []
    latencies = [0.05, 2.0, 0.3, 4.0, 0.01, 1.0, 3.0, 0.2, 0.7, 5.0] * 3
    for latency in latencies:
        budget.acquire()
        sends.append(clock.now)
        clock.now += latency
        responses.append(clock.now)
        budget.release()
    # The server may count each call at its send (earliest) or response (latest) instant.
    for times in (sends, responses):
        for t in times:
            assert sum(1 for u in times if t <= u < t + 10.0) <= 5
    assert clock.now > 50.0  # the budget really made the stream wait


def test_calls_in_flight_block_until_one_is_released() -> None:
    clock = FakeClock()
    waiting, got = threading.Event(), threading.Event()
    reads, worker = 0, None

    def watched() -> float:
        # The worker reads the clock twice, the second time holding the window's lock right
        # before it waits: `release` below can only run once it waits.
        nonlocal reads
        if threading.current_thread() is worker:
            reads += 1
            if reads == 2:
                waiting.set()
        return clock.now

    budget = RollingWindow(1, 10.0, clock=watched, sleep=clock.sleep)
    budget.acquire()

    def second() -> None:
        budget.acquire()
        got.set()

    worker = threading.Thread(target=second)
    worker.start()
    assert waiting.wait(timeout=10), "the second call never reached the window"
    assert not got.is_set()
    clock.now = 1.0
    budget.release()  # the held slot now expires at 11.0; the waiter sleeps until then
    worker.join(timeout=10)
    assert got.is_set()
    assert clock.now == 11.0


def test_observe_adopts_the_server_limit_and_window() -> None:
    clock = FakeClock()
    budget = window(190, 10.0, clock)
    budget.observe(limit=100, window=5.0)
    assert (budget.limit, budget.window) == (100, 5.0)
    budget.observe(limit=0, window=0)  # nonsense values are ignored
    assert (budget.limit, budget.window) == (100, 5.0)


def test_observe_holds_calls_made_by_someone_else() -> None:
    clock = FakeClock()
    budget = window(10, 10.0, clock)
    budget.acquire()
    # The server counts 7 used (3 remaining) while we hold one: 6 came from another client.
    budget.observe(remaining=3)
    budget.release()
    assert budget.used() == 7  # our call, now completed, plus 6 phantoms
    waits = [budget.acquire() for _ in range(3)]
    assert waits == [0.0, 0.0, 0.0]
    assert budget.acquire() == 10.0


def test_observe_never_frees_slots_we_hold() -> None:
    clock = FakeClock()
    budget = window(10, 10.0, clock)
    for _ in range(4):
        budget.acquire()
    budget.observe(remaining=9)  # server has seen only one of ours so far
    assert budget.used() == 4


def refusing(limit: int, clock: FakeClock) -> RollingWindow:
    """A window whose backoff is 0.5 s doubling (no jitter), at most 4 s."""
    return RollingWindow(
        limit, 10.0, clock=clock, sleep=clock.sleep, backoff=lambda n: min(4.0, 0.5 * 2 ** (n - 1))
    )


def test_refusals_in_a_row_close_the_window_for_longer_up_to_the_ceiling() -> None:
    clock = FakeClock()
    budget = refusing(10, clock)
    holds = []
    for _ in range(6):
        sent = clock.now
        budget.acquire()  # waits out the previous hold
        budget.release()
        holds.append(budget.refused(sent=sent))
    assert holds == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_calls_in_flight_when_the_window_closed_are_one_episode() -> None:
    clock = FakeClock()
    budget = refusing(10, clock)
    for _ in range(8):  # eight threads' calls, all sent at 0.0
        budget.acquire()
    clock.now = 0.25
    first = budget.refused(sent=0.0)
    clock.now = 0.5
    others = [budget.refused(sent=0.0) for _ in range(7)]
    # One backoff for the eight, not eight doublings: the others wait out the same hold.
    assert (first, others) == (0.5, [0.25] * 7)


def test_a_call_that_goes_through_starts_the_backoff_again() -> None:
    clock = FakeClock()
    budget = refusing(10, clock)
    assert [budget.refused(sent=clock.now) for _ in range(3)] == [0.5, 1.0, 2.0]
    budget.answered()
    clock.now = 5.0
    assert budget.refused(sent=clock.now) == 0.5


def test_retry_after_is_the_hold_for_every_thread() -> None:
    clock = FakeClock()
    budget = refusing(10, clock)
    assert budget.refused(sent=0.0, retry_after=7.0) == 7.0
    assert budget.acquire() == 7.0


def test_a_refusal_with_room_left_pauses_only_the_refused_call() -> None:
    clock = FakeClock()
    budget = RollingWindow(20, 10.0, clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
    # one slot's spacing is 10 s / 20 = 0.5 s; jitter 1.0 takes all of it
    assert [budget.refused(sent=0.0, window_full=False) for _ in range(5)] == [0.5] * 5
    assert budget.acquire() == 0.0  # the window stays open to the other threads
    assert clock.sleeps == []


def test_invalid_window_is_refused() -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        RollingWindow(0, 10.0)


class Days:
    def __init__(self) -> None:
        self.day = date(2026, 11, 20)

    def __call__(self) -> date:
        return self.day


def test_daily_cap_counts_then_refuses_until_the_day_rolls() -> None:
    days = Days()
    cap = DailyCap(3, today=days)
    for _ in range(3):
        cap.spend()
    assert cap.used == 3
    with pytest.raises(BudgetExhausted, match="daily API budget of 3 calls"):
        cap.spend()
    days.day = date(2026, 11, 21)
    cap.spend()
    assert cap.used == 1


@pytest.mark.parametrize(
    ("limit", "used", "allowed"),
    [(5, 0, 5), (5, 3, 2), (5, 4, 1), (5, 5, 0), (5, 9, 0), (5, -2, 5)],
)
def test_daily_cap_seeded_with_calls_of_earlier_processes(limit, used, allowed) -> None:
    days = Days()
    cap = DailyCap(limit, today=days, used=used)
    for _ in range(allowed):
        cap.spend()
    with pytest.raises(BudgetExhausted, match=f"daily API budget of {limit} calls"):
        cap.spend()
    assert cap.used == max(limit, used)
    days.day = date(2026, 11, 21)  # the seed is today's: tomorrow starts from zero
    assert cap.used == 0


def test_daily_cap_catches_up_with_calls_other_processes_recorded() -> None:
    days = Days()
    cap = DailyCap(10, today=days, used=2)
    cap.spend()
    cap.catch_up(2)  # fewer than counted (our own calls not recorded yet): the count stays
    assert cap.used == 3
    cap.catch_up(9)  # a backtest elsewhere spent six
    assert cap.used == 9
    cap.spend()
    with pytest.raises(BudgetExhausted, match="daily API budget of 10 calls"):
        cap.spend()
    days.day = date(2026, 11, 21)
    cap.catch_up(4)  # the new day's recorded calls
    assert cap.used == 4


def test_daily_cap_none_only_stops_when_the_server_says_so() -> None:
    days = Days()
    cap = DailyCap(None, today=days)
    for _ in range(1000):
        cap.spend()
    cap.observe(remaining=5)
    cap.spend()
    cap.observe(remaining=0)
    with pytest.raises(BudgetExhausted, match="daily API allowance is spent"):
        cap.spend()
    days.day = date(2026, 11, 21)
    cap.spend()
    assert cap.used == 1


def test_daily_cap_rezoned_keeps_todays_count_and_rolls_on_the_new_day() -> None:
    utc, account = Days(), Days()
    cap = DailyCap(3, today=utc, used=1)
    cap.spend()
    account.day = date(2026, 11, 19)  # the account is still on the day before
    cap.rezone(account)
    assert cap.used == 2
    cap.spend()
    with pytest.raises(BudgetExhausted, match="daily API budget of 3 calls"):
        cap.spend()
    utc.day = date(2026, 11, 21)  # UTC's day rolling no longer matters
    assert cap.used == 3
    account.day = date(2026, 11, 20)
    assert cap.used == 0
