"""Fewer garbage collections while runs are in progress.

A run keeps a page or two of records, results and rows alive at a time and frees them by
reference counting, yet CPython's default young-generation threshold (700 net allocations)
starts a collection every few records, and each one walks every young object still alive: about
25 µs of CPU per contact, a tenth of a full run (measured with `bench/sync_end_to_end.py`).
While any run is active the threshold is raised so that a collection comes only every 50,000 net
allocations; cyclic garbage is still collected, only later. The previous thresholds come back
when the last run ends (the daemon may run several connections at once).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Young-generation threshold during runs (CPython's default is 700).
RUN_THRESHOLD = 50_000


class _Raised:
    """How many blocks hold the threshold raised, and the thresholds to restore after the last."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.saved: tuple[int, int, int] | None = None

    def enter(self, threshold: int) -> None:
        with self.lock:
            if self.active == 0:
                self.saved = gc.get_threshold()
                gen0, gen1, gen2 = self.saved
                gc.set_threshold(max(gen0, threshold), gen1, gen2)
            self.active += 1

    def leave(self) -> None:
        with self.lock:
            self.active -= 1
            if self.active == 0 and self.saved is not None:
                gc.set_threshold(*self.saved)
                self.saved = None


#: One per process, like the collector it tunes
_RAISED = _Raised()


@contextmanager
def fewer_collections(threshold: int = RUN_THRESHOLD) -> Iterator[None]:
    """Raise the young-generation threshold to at least `threshold` for the block."""
    _RAISED.enter(threshold)
    try:
        yield
    finally:
        _RAISED.leave()
