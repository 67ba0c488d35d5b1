"""Riding out a CRM outage: pause, then resume where the run stood.

The connector already retried each call (its one retry layer: seconds, honoring Retry-After). A
`TransientError` reaching the engine means the CRM stayed unavailable through those retries, so the
engine pauses for longer stretches (doubling from `first_pause`, at most two minutes each) and tries
again from the last saved cursor, until `max_pause` in total has passed for this outage. A stop
request (SIGTERM) ends the pause at once.

A run whose CRM has not answered once yet does not pause for `Unreachable` (connection refused,
unknown host): nothing listens at the configured URL, which is a misconfiguration, not an outage,
so the error (naming the URL) ends the run after the connector's own retries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from config.settings import OutageSettings
from connectors.errors import RateLimited, TransientError, Unreachable

log = logging.getLogger("leadsync.engine")
T = TypeVar("T")
MAX_SINGLE_PAUSE = 120.0


class Stopped(Exception):
    """A stop was requested while the run waited."""


#: The configured pauses when nothing is configured
_DEFAULT = OutageSettings()


@dataclass(frozen=True)
class OutagePolicy:
    """How long one outage may pause a run (defaults: the configuration's)."""

    first_pause: float = _DEFAULT.first_pause.total_seconds()
    max_pause: float = _DEFAULT.max_pause.total_seconds()

    @classmethod
    def of(cls, first_pause: timedelta, max_pause: timedelta) -> OutagePolicy:
        """From configured durations."""
        return cls(first_pause.total_seconds(), max_pause.total_seconds())


def event_sleep(stop: threading.Event) -> Callable[[float], bool]:
    """A sleep that returns False as soon as `stop` is set (True when it slept through)."""

    def sleep(seconds: float) -> bool:
        return not stop.wait(seconds)

    return sleep


class Contact:
    """Whether the CRM has answered a call of this run yet (shared by a run's outages)."""

    def __init__(self) -> None:
        self.answered = False


class Outage:
    """Pause bookkeeping for one run; `reset` after each success ends the current outage."""

    def __init__(
        self,
        policy: OutagePolicy,
        sleep: Callable[[float], bool],
        what: str,
        contact: Contact | None = None,
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        self.what = what
        self.contact = contact or Contact()
        self.paused = 0.0
        self.next_pause = policy.first_pause
        self.pauses: list[float] = []

    def reset(self) -> None:
        """The CRM answered: the next failure starts a new outage."""
        self.contact.answered = True
        self.paused = 0.0
        self.next_pause = self.policy.first_pause

    def wait(self, exc: TransientError) -> None:
        """Pause after `exc`; re-raise it when the outage outlasted the policy, or when nothing
        ever answered at the CRM's address."""
        if isinstance(exc, Unreachable) and not self.contact.answered:
            raise exc
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        pause = max(self.next_pause, retry_after or 0.0)
        if self.paused + pause > self.policy.max_pause:
            raise exc
        log.warning(
            "CRM unavailable, pausing",
            extra={"what": self.what, "pause_s": pause, "error": str(exc)[:200]},
        )
        self.pauses.append(pause)
        if not self.sleep(pause):
            raise Stopped
        self.paused += pause
        self.next_pause = min(self.next_pause * 2, MAX_SINGLE_PAUSE)

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()`, pausing and retrying through transient failures."""
        while True:
            try:
                result = fn()
            except TransientError as exc:
                self.wait(exc)
                continue
            self.reset()
            return result
