"""Which replica leads: several `leadsync run` processes share one state store, one of them runs
the schedules and the others stand by, ready to take over.

PostgreSQL: the leader holds `pg_try_advisory_lock` on a session of its own. The lock dies with
the session, so when the leader's process dies (kill -9, a lost host) PostgreSQL frees it and a
standby takes it at its next heartbeat. The leader proves its hold on every heartbeat with a round
trip on that session; a heartbeat that fails, or none that succeeded within `lease` seconds (a
hung network), means the hold is lost: the leader stops its runs at once (they may no longer be
alone) and becomes a standby that tries again.

SQLite: one host, so a `filelock` next to the database file does the same between processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import filelock
import sqlalchemy as sa

from sync.lock import private_lock
from sync.state.migrations import advisory_key
from sync.state.store import StateStore

log = logging.getLogger("leadsync.leadership")


class Leadership(Protocol):
    """A hold on the leadership that can be taken, proven and given back."""

    def try_acquire(self) -> bool:
        """Take the leadership if nobody holds it; True when this replica now holds it."""
        ...

    def holds(self) -> bool:
        """Whether this replica still holds it (False once the hold is lost or given back)."""
        ...

    def release(self) -> None:
        """Give the leadership back (no-op when not held)."""
        ...

    @property
    def last_error(self) -> str | None:
        """Why the last attempt could not reach the lock's store (None when it could)."""
        ...


class PostgresLeadership:
    """The leadership as a session-level advisory lock on a connection of its own."""

    def __init__(
        self,
        store: StateStore,
        *,
        lease: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = store.engine
        self.key = advisory_key(f"leadsync-leader:{store.t.runs.name}")
        self.lease = lease
        self.clock = clock
        self._conn: sa.Connection | None = None
        self._proven_at: float | None = None
        self._lock = threading.Lock()
        self._last_error: str | None = None

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def try_acquire(self) -> bool:
        with self._lock:
            if self._conn is not None:
                return self._prove()
            try:
                conn = self.engine.connect()
            except sa.exc.SQLAlchemyError as exc:
                self._unreachable(exc)
                return False
            try:
                taken = bool(
                    conn.execute(
                        sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
                    ).scalar()
                )
                conn.commit()
            except sa.exc.SQLAlchemyError as exc:
                self._unreachable(exc)
                _close_quietly(conn)
                return False
            self._last_error = None
            if not taken:
                _close_quietly(conn)
                return False
            self._conn, self._proven_at = conn, self.clock()
            return True

    def holds(self) -> bool:
        with self._lock:
            if self._conn is None:
                return False
            return self._prove()

    def release(self) -> None:
        with self._lock:
            conn, self._conn, self._proven_at = self._conn, None, None
        if conn is None:
            return
        try:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            conn.commit()
        except sa.exc.SQLAlchemyError:
            pass  # a dead session holds nothing
        _close_quietly(conn)

    def _prove(self) -> bool:
        assert self._conn is not None
        if self._proven_at is not None and self.clock() - self._proven_at > self.lease:
            self._drop("no heartbeat within the lease")
            return False
        try:
            self._conn.execute(sa.text("SELECT 1")).scalar()
            self._conn.commit()
        except sa.exc.SQLAlchemyError as exc:
            self._last_error = _short(exc)
            self._drop(self._last_error)
            return False
        self._proven_at = self.clock()
        self._last_error = None
        return True

    def _unreachable(self, exc: BaseException) -> None:
        self._last_error = _short(exc)
        log.warning("state database unreachable", extra={"error": self._last_error})

    def _drop(self, why: str) -> None:
        log.error("leadership lost", extra={"reason": why})
        conn, self._conn, self._proven_at = self._conn, None, None
        if conn is not None:
            _close_quietly(conn)


class FileLeadership:
    """The leadership as a file lock next to a SQLite database (processes of one host)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = private_lock(path)

    def try_acquire(self) -> bool:
        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def holds(self) -> bool:
        return self._lock.is_locked and self.path.exists()

    @property
    def last_error(self) -> str | None:
        return None

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)


def leadership_for(store: StateStore) -> Leadership:
    """The leadership kind that fits the store: advisory lock on PostgreSQL, file lock on SQLite."""
    if store.dialect == "postgresql":
        return PostgresLeadership(store)
    database = store.engine.url.database
    if database and database != ":memory:":
        return FileLeadership(Path(f"{database}.leader.lock"))
    return _SoleLeader()


class _SoleLeader:
    """An in-memory store has one process by definition: it always leads."""

    def try_acquire(self) -> bool:
        return True

    def holds(self) -> bool:
        return True

    def release(self) -> None:
        return None

    @property
    def last_error(self) -> str | None:
        return None


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _close_quietly(conn: sa.Connection) -> None:
    try:
        conn.close()
    except sa.exc.SQLAlchemyError:
        conn.invalidate()
