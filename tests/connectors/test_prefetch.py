"""`connectors.prefetch.prefetched`: order, errors in place, bounded read-ahead, clean stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from connectors.prefetch import prefetched

WAIT_S = 10  # a safety net for a broken implementation, never reached by a working one


def test_items_arrive_in_order() -> None:
    assert list(prefetched(iter(range(50)), depth=3)) == list(range(50))


def test_an_error_arrives_after_every_item_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 failed")

    got: list[int] = []
    with pytest.raises(ValueError, match="page 3 failed"):
        for item in prefetched(source(), depth=5):
            got.append(item)
    assert got == [1, 2]


def test_reads_at_most_depth_ahead_and_closing_stops_the_source_on_its_thread() -> None:
    depth = 3
    asked: list[int] = []
    blocked = threading.Event()
    closed_on: list[str] = []

    def source() -> Iterator[int]:
        try:
            for n in range(100):
                asked.append(n)
                if n == depth + 1:
                    blocked.set()  # the queue holds items 1..depth: this one waits for room
                yield n
        finally:
            closed_on.append(threading.current_thread().name)

    items = prefetched(source(), depth=depth, name="prefetch-test")
    assert next(items) == 0
    assert blocked.wait(WAIT_S)
    items.close()  # joins the thread
    assert asked == list(range(depth + 2))
    assert closed_on == ["prefetch-test"]


def test_an_empty_source_ends_at_once() -> None:
    assert list(prefetched(iter(()), depth=1)) == []
