"""Waiting on other processes in tests, always with a deadline.

Inside this process tests wait on events (`threading.Event`, a scheduler listener, a log
handler), never on time. A subprocess, or a database another process writes, cannot signal
this process, so:

* `Lines` collects a subprocess's output lines on a thread and wakes waiters on each new line;
* `wait_until` polls a condition only other processes change (a state database, an HTTP
  endpoint of a subprocess), every `poll` seconds until it holds or the deadline passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable


def wait_until(
    predicate: Callable[[], bool], *, what: str, timeout: float = 60.0, poll: float = 0.05
) -> None:
    """Return once `predicate()` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        time.sleep(poll)


class Lines:
    """The lines of a stream (a subprocess's stdout or stderr), read on a thread of their own.

    Every new line notifies `changed` (pass one condition to several `Lines` to wait on
    conditions across processes with `wait_on`), so waiting never polls.
    """

    def __init__(self, stream: Iterable[str], changed: threading.Condition | None = None) -> None:
        self.lines: list[str] = []
        self.changed = changed or threading.Condition()
        self.ended = False
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: Iterable[str]) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def snapshot(self) -> list[str]:
        """The lines read so far."""
        with self.changed:
            return list(self.lines)

    def wait_for(
        self, predicate: Callable[[list[str]], bool], *, what: str, timeout: float = 60.0
    ) -> None:
        """Return once `predicate(lines so far)` holds; fail naming `what` when the stream
        ends without it or after `timeout` seconds."""
        wait_on(
            self.changed, lambda: predicate(self.lines) or self.ended, what=what, timeout=timeout
        )
        with self.changed:
            if not predicate(self.lines):
                raise AssertionError(f"the stream ended waiting for {what}: {self.lines[-5:]}")

    def until_end(self, *, timeout: float = 60.0) -> list[str]:
        """Every line, once the stream has ended (its process closed it or exited)."""
        wait_on(self.changed, lambda: self.ended, what="the end of the stream", timeout=timeout)
        return self.snapshot()


def wait_on(
    changed: threading.Condition, predicate: Callable[[], bool], *, what: str, timeout: float
) -> None:
    """Return once `predicate()` holds, checked whenever `changed` is notified; fail naming
    `what` after `timeout` seconds."""
    with changed:
        if not changed.wait_for(predicate, timeout=timeout):
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
