"""Bounded shutdown: after a stop request the process ends within a grace period, whatever the
CRM does.

A stop request (SIGTERM, SIGINT, the daemon's shutdown) sets the run's stop event: the run
finishes the page it holds, commits it with its cursor and ends `interrupted`. That needs the CRM
to answer; a CRM that hangs holds a call for up to `timeout` seconds, and the connector's retries
around it longer still (measured before this module: 84 s with `timeout: 5`). Two things bound it:

* `stop_aware_sleep`: the connectors' retry and rate-limit waits end at once on a stop request
  (raising `Stopped`, which ends the run `interrupted`).
* `Watchdog`: armed by the stop request, it ends the process `grace` seconds later if it is still
  there, abandoning the calls in flight. Every commit of the state store is atomic, so what is
  left is exactly what a crash leaves (a page's planned writes are durable in the outbox before
  its cursor moves; ledger rows leave with their outbox entries): the next run marks the run
  `crashed`, writes the outbox first and resumes after the last committed page.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

from sync.outage import Stopped

log = logging.getLogger("leadsync.shutdown")

#: Exit status of a process the watchdog ended (the run did not finish its page in time).
ABANDONED_EXIT = 3


def stop_aware_sleep(stop: threading.Event) -> Callable[[float], None]:
    """A `time.sleep` for connectors that raises `Stopped` as soon as `stop` is set."""

    def sleep(seconds: float) -> None:
        if stop.wait(max(0.0, seconds)):
            raise Stopped

    return sleep


def stop_checkpoint(stop: threading.Event) -> Callable[[], None]:
    """A check for connectors to call between the calls of a long read: raises `Stopped` once
    `stop` is set (the run ends `interrupted`; its committed pages and watermark stand)."""

    def checkpoint() -> None:
        if stop.is_set():
            raise Stopped

    return checkpoint


class Watchdog:
    """Ends the process `grace` seconds after `arm()` unless it ended by itself."""

    def __init__(
        self,
        grace: float,
        *,
        exit: Callable[[int], object] = os._exit,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.grace = grace
        self._exit = exit
        self._done = threading.Event()
        self._wait = wait or self._done.wait
        self._armed = False
        self._lock = threading.Lock()

    def arm(self) -> None:
        """Start counting down (once; later calls do nothing)."""
        with self._lock:
            if self._armed:
                return
            self._armed = True
        threading.Thread(target=self._count_down, name="leadsync-watchdog", daemon=True).start()

    def disarm(self) -> None:
        """The process is ending by itself: do not end it."""
        self._done.set()

    def _count_down(self) -> None:
        if self._wait(self.grace) or self._done.is_set():
            return
        try:
            log.error(
                "shutdown grace passed; abandoning the CRM calls in flight (the next run resumes)",
                extra={"grace_s": self.grace},
            )
            for handler in logging.getLogger("leadsync").handlers:
                handler.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # a closed or broken log stream must not keep the process alive
        finally:
            self._exit(ABANDONED_EXIT)
