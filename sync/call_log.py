"""Every API call a command spends on a connection, recorded in the state store as it goes.

The customer's API allowance is shared by every process of a connection: the daemon, each
`leadsync sync`, the model tools (`backtest`, `preview`, `explain`), `setup`, `doctor`,
`status --live`. A `CallLog` is the connector's `CallMeter`: the connector tells it of each call,
and it appends the calls to the store's `api_calls` table in batches, every `EVERY` calls or
once the oldest unrecorded call is `MAX_AGE_S` old (checked on the next call), and when told
to (`flush`, the end of a run, `close`). So a process killed with `kill -9` loses at most the
last batch, and a call costs a lock and an addition. Rows name the command and, inside a run
(`begin_run` .. `end_run`), the run; the daily windows (`sync.account_day`) sum them all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from sync.state.errors import StateDatabaseError
from sync.state.store import StateStore

__all__ = ["EVERY", "MAX_AGE_S", "CallLog"]

#: Calls recorded together at most (a run makes thousands; one small insert per batch).
EVERY = 20
#: Seconds an unrecorded call may wait for its batch (slow calls are recorded sooner).
MAX_AGE_S = 1.0

log = logging.getLogger("leadsync.calls")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CallLog:
    """Records the API calls of one connector (one connection) for `command`; see the module
    docstring. Thread-safe: a connector's HTTP threads report calls concurrently."""

    def __init__(  # noqa: PLR0913  collaborators and test seams (clocks, batch bounds)
        self,
        store: StateStore,
        connection: str,
        *,
        command: str,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        every: int = EVERY,
        max_age_s: float = MAX_AGE_S,
    ) -> None:
        self.store = store
        self.connection = connection
        self.command = command
        self._clock = clock
        self._monotonic = monotonic
        self._every = every
        self._max_age_s = max_age_s
        self._lock = threading.Lock()  # the counts
        self._writing = threading.Lock()  # one batch recorded at a time
        self._run_id: int | None = None
        self._calls = self._limited = 0  # reported, not recorded yet
        self._since: float | None = None  # when the oldest of them was reported
        self._recorded_calls = self._recorded_limited = 0  # recorded for the current run

    def spent(self, calls: int, rate_limited: int) -> None:
        """The connector's report of `calls` more calls, `rate_limited` more refused for
        rate; records a batch when it is due, unless another thread is recording one. A store
        that refuses the batch keeps it for the next one (the connector's call is not failed
        for it); `flush` raises."""
        with self._lock:
            self._calls += calls
            self._limited += rate_limited
            now = self._monotonic()
            if self._since is None:
                self._since = now
            due = self._calls >= self._every or now - self._since >= self._max_age_s
        if not due or not self._writing.acquire(blocking=False):
            return
        try:
            self._flush()
        except (StateDatabaseError, sa.exc.SQLAlchemyError) as exc:
            log.warning(
                "API calls not recorded yet",
                extra={"connection": self.connection, "error": str(exc)},
            )
        finally:
            self._writing.release()

    def flush(self) -> None:
        """Record the calls reported so far and not recorded yet."""
        with self._writing:
            self._flush()

    def begin_run(self, run_id: int) -> None:
        """From now on calls belong to run `run_id` (the calls before it are recorded first)."""
        with self._writing:
            self._flush()
            with self._lock:
                self._run_id = run_id
                self._recorded_calls = self._recorded_limited = 0

    def end_run(self, calls: int, rate_limited: int) -> None:
        """The run ends having spent `calls` calls (`rate_limited` refused for rate) by its
        connector's `ApiUsage`: record what of them is not recorded yet (all of them for a
        connector that reports no calls to its meter), and go back to the command's."""
        with self._writing:
            with self._lock:
                self._calls = max(0, calls - self._recorded_calls)
                self._limited = max(0, rate_limited - self._recorded_limited)
            try:
                self._flush()
            finally:
                with self._lock:
                    self._run_id = None
                    self._calls = self._limited = 0

    def close(self) -> None:
        """Record what is left (the command ends)."""
        self.flush()

    def _flush(self) -> None:
        """Append one row of the calls not recorded yet (hold `_writing`: batches go one at a
        time; the connector's threads go on reporting meanwhile)."""
        with self._lock:
            calls, limited, run_id = self._calls, self._limited, self._run_id
            self._calls = self._limited = 0
            self._since = None
        if not calls and not limited:
            return
        try:
            self.store.record_api_calls(
                self.connection,
                command=self.command,
                run_id=run_id,
                calls=calls,
                rate_limited=limited,
                at=self._clock(),
            )
        except BaseException:
            with self._lock:  # kept for the next batch
                self._calls += calls
                self._limited += limited
            raise
        with self._lock:
            self._recorded_calls += calls
            self._recorded_limited += limited
