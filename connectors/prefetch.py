"""Reading ahead on a thread: the items of an iterator, produced while the consumer works.

A connector whose pages wait on calls (HubSpot's association and batch reads of a group of
pages) would otherwise leave its caller idle for each wait. `prefetched` runs the iterator on
its own thread into a bounded queue, so the next pages are read while the caller scores the
last ones; at most `depth` items wait beyond the ones the iterator itself holds, so memory
stays bounded. Items keep their order, and an exception reaches the consumer at the place
in the sequence where the iterator raised it, after every item before it. Closing the
consumer (or leaving it early) stops the thread, which closes the iterator on its own thread.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Generator, Iterable
from typing import Any, TypeVar

__all__ = ["prefetched"]

T = TypeVar("T")

_END = object()
#: Seconds a blocked producer waits on a full queue before looking at the stop flag again.
_POLL_S = 0.1


def prefetched(
    items: Iterable[T], *, depth: int, name: str = "prefetch"
) -> Generator[T, None, None]:
    """The items of `items`, produced on a thread named `name` at most `depth` ahead."""
    slots: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((item, None)) or stop.is_set():
                    return  # the consumer left: ask the iterator for nothing more
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((_END, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = slots.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:  # room for a producer waiting to put, so it sees the stop at once
                slots.get_nowait()
        thread.join()
