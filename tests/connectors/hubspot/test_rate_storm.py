"""A 429 storm (issue 15): most calls refused for rate, the read goes on to the end.

Before, every refusal held the whole ten-second window and counted as one of six attempts: a
page refused six times in a row ended the read with `RateLimited`, and a storm refusing 79% of
the calls read 11,099 of 20,000 contacts in 600 s. The sandbox's refusals carry its window
headers with calls left, so they are not the window's doing: the refused call alone pauses for
about one slot's spacing and tries again, as often as it takes (fake clock, nothing sleeps).
"""

from __future__ import annotations

from connectors.retry import RetryPolicy

from .conftest import read_all


def test_a_read_through_a_429_storm_reads_everything(make_sandbox, make_connector, clock) -> None:
    sandbox = make_sandbox(contacts=3000, seed=3)
    sandbox.faults.set(rate_429=0.55)  # bursts of three: about 3 calls in 4 refused
    connector = make_connector(sandbox, retry_policy=RetryPolicy(jitter=lambda: 0.5))
    records = read_all(connector)
    assert len({r.id for r in records}) == len(records) == 3000
    usage = connector.usage
    assert (usage.calls, usage.rate_limited) == (105, 75)  # 30 pages, 75 refusals on the way
    # each refusal paused its call for 3/4 of one slot's spacing (10 s / 190, jitter 0.5)
    spacing = 10 / 190
    pause = spacing / 2 + 0.5 * spacing / 2
    assert clock.sleeps == [pause] * 75
