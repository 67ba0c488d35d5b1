"""`CallLog`: a connector's API calls recorded in the state store in batches as they go."""

from __future__ import annotations

from datetime import timedelta

from sync.call_log import CallLog
from sync.state.store import StateStore
from tests.sync.fakes import BASE


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def since(store: StateStore) -> dict[str, int]:
    return store.api_calls_by_command("acme", BASE - timedelta(days=1))


def test_calls_are_recorded_every_n_and_when_the_oldest_waited_long_enough(store):
    ticks = Ticks()
    log = CallLog(
        store, "acme", command="backtest", clock=lambda: BASE, monotonic=ticks,
        every=5, max_age_s=1.0,
    )  # fmt: skip
    for _ in range(4):
        log.spent(1, 0)
    assert since(store) == {}  # a batch of 5 is not full yet
    log.spent(1, 1)
    assert since(store) == {"backtest": 5}
    log.spent(1, 0)
    ticks.now = 0.9
    log.spent(1, 0)
    assert since(store) == {"backtest": 5}
    ticks.now = 1.0  # the oldest unrecorded call is a second old
    log.spent(1, 0)
    assert since(store) == {"backtest": 8}
    log.spent(1, 0)
    log.close()
    assert since(store) == {"backtest": 9}
    log.close()  # nothing left: no empty row
    assert store.api_calls_since("acme", BASE) == 9


def test_a_runs_calls_are_its_own_and_its_total_is_made_whole_at_its_end(store):
    log = CallLog(store, "acme", command="sync", clock=lambda: BASE, every=3)
    log.spent(2, 0)  # before the run: the command's
    run_id = store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=BASE, model_version="v"
    )
    log.begin_run(run_id)
    for _ in range(7):
        log.spent(1, 0)
    # 6 recorded in two batches; the run's usage says 7 calls (1 pending) and 2 refused for rate
    # that the connector reported on calls already counted
    assert store.mark_crashed("acme", now=BASE) == 1  # what a crash would leave: 6 of 7
    assert store.runs("acme")[0].counts.api_calls == 6
    log.end_run(7, 2)
    log.spent(1, 0)
    log.close()
    assert store.api_calls_since("acme", BASE) == 2 + 7 + 1
    with store.engine.connect() as conn:
        t = store.t.api_calls
        rows = conn.execute(
            t.select().with_only_columns(t.c.run_id, t.c.calls, t.c.rate_limited).order_by(t.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (None, 2, 0), (run_id, 3, 0), (run_id, 3, 0), (run_id, 1, 2), (None, 1, 0),
    ]  # fmt: skip


def test_a_connector_that_reports_nothing_has_its_runs_calls_recorded_at_their_end(store):
    log = CallLog(store, "acme", command="run", clock=lambda: BASE)
    log.begin_run(7)
    log.end_run(41, 3)
    log.close()
    assert store.api_calls_by_command("acme", BASE) == {"run": 41}
