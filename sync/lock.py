"""The per-connection run lock: two runs of one connection never overlap, even across machines.

SQLite state: a `filelock` file next to the database (`<db>.<connection>.lock`), so processes on
one host exclude each other. PostgreSQL state: `pg_try_advisory_lock` on a session held for the
run, so processes on any host sharing the database exclude each other; the lock dies with the
session if the process dies. Both are non-blocking: a busy lock raises `LockBusy` at once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
import sqlalchemy as sa

from sync.state.errors import state_error
from sync.state.migrations import advisory_key
from sync.state.store import StateStore


class LockBusy(Exception):
    """Another run of this connection holds the lock."""


def private_lock(path: Path) -> filelock.FileLock:
    """A process-wide (not per-thread) file lock at `path`, its file created readable and
    writable by its owner only (0600), like the database it sits beside."""
    return filelock.FileLock(str(path), thread_local=False, mode=0o600)


def lock_file(store: StateStore, connection: str) -> Path:
    """The lock file of `connection` for a SQLite store (next to the database file)."""
    database = store.engine.url.database
    if database and database != ":memory:":
        return Path(f"{database}.{connection}.lock")
    return Path(tempfile.gettempdir()) / f"leadsync-memory-{id(store.engine)}.{connection}.lock"


@contextmanager
def run_lock(store: StateStore, connection: str) -> Iterator[None]:
    """Hold the run lock of `connection` for the `with` block; `LockBusy` when it is taken."""
    if store.dialect == "postgresql":
        with _advisory_lock(store, connection):
            yield
        return
    lock = private_lock(lock_file(store, connection))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise LockBusy(f"connection {connection!r} is already running in another process") from None
    except OSError as exc:
        raise state_error(exc, store.engine.url) or exc from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _advisory_lock(store: StateStore, connection: str) -> Iterator[None]:
    key = advisory_key(f"leadsync-run:{store.t.runs.name}:{connection}")
    conn = store.engine.connect()
    try:
        taken = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()
        if not taken:
            raise LockBusy(f"connection {connection!r} is already running (PostgreSQL lock held)")
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
    finally:
        conn.close()
