"""Database engines for the state store."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

#: Pages of WAL past which a committing connection checkpoints itself (a safety net).
AUTOCHECKPOINT_PAGES = 32768

log = logging.getLogger("leadsync.state")


def create_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and IMMEDIATE transactions.

    `BEGIN IMMEDIATE` takes SQLite's write lock when a transaction starts, so concurrent writers
    (daemon threads, a `leadsync status` beside the daemon) wait on the busy timeout instead of
    failing when a read transaction tries to become a write transaction.
    """
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:
        create_private(sa.engine.make_url(url).database or "")
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below
        cursor = dbapi_connection.cursor()
        # 8 KB pages for a new database (a no-op on an existing one): rows of about 1 KB
        # (results, payloads) split pages half as often, about a third less work per insert.
        cursor.execute("PRAGMA page_size=8192")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A 64 MB page cache keeps the ledger and score indexes in memory through a full run.
        # Checkpoints run on the store's `Checkpointer` thread; a committing connection does one
        # itself only past 32,768 pages (256 MB of WAL), should that thread fall behind.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Statement journals (a multi-row upsert's undo, kept while the statement runs) in
        # memory, not as files in /var/tmp: no record data in a shared temporary folder, none
        # needed on a read-only root filesystem, and about 300 fewer files a 20,000-contact run.
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_private(path: str) -> None:
    """Create the SQLite file `path` readable by its owner only (0600), and its folder (0700)
    when it does not exist yet. The state holds emails and names; SQLite gives its WAL and
    shared-memory files the database file's permissions."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path)
    if file.exists():
        return
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process created it first
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class Checkpointer:
    """Copies SQLite's write-ahead log into the database file on a thread of its own.

    A commit that passes `wal_autocheckpoint` checkpoints in the committing thread: page copies
    and an fsync, measured at 100-150 ms, three times in a 20,000-contact full run, each one
    stalling the run. Here a passive checkpoint runs every `every_s` seconds on its own
    connection instead (it never waits for readers or writers, and SQLite releases the GIL
    while it works), so commits stay short and the WAL stays small.
    """

    def __init__(self, engine: sa.Engine, every_s: float = 1.0) -> None:
        self.engine = engine
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="leadsync-checkpoint", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.checkpoint()

    def checkpoint(self) -> None:
        """One passive checkpoint now (errors are logged: the next commit is unaffected)."""
        try:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.fetchall()
                cursor.close()
            finally:
                raw.close()
        except Exception:
            log.warning("WAL checkpoint failed", exc_info=True)

    def stop(self) -> None:
        """End the thread (after a checkpoint in progress)."""
        self._stop.set()
        self._thread.join()
