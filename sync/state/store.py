"""The state store: runs, cursors, outbox, ledger, dead letters and latest scores.

SQLAlchemy Core over SQLite (WAL, `BEGIN IMMEDIATE` so writers queue instead of failing) or
PostgreSQL (`postgresql+psycopg://`). Every method is one transaction; the engine's
crash-safety rests on `save_page` (outbox + scores + cursor + counts together) and
`record_writes` (ledger + outbox removal + dead letters together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from config.settings import RetentionSettings
from scoring.types import ScoreResult
from sync.state.migrations import migrate
from sync.state.schema import Tables, build_tables

RunStatus = Literal["running", "succeeded", "interrupted", "paused", "failed", "crashed"]
LedgerStatus = Literal["applied", "failed", "dead_lettered"]


@dataclass
class RunCounts:
    """What a run did; accumulated page by page and stored with the run."""

    pages: int = 0
    read: int = 0
    scored: int = 0
    planned: int = 0
    written: int = 0
    unchanged: int = 0
    failed: int = 0
    dead_lettered: int = 0
    api_calls: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, int]:
        """Counts by name."""
        return asdict(self)


COUNT_NAMES = tuple(f.name for f in fields(RunCounts))


@dataclass(frozen=True)
class RunRow:
    """One stored run."""

    id: int
    connection: str
    kind: str
    mode: str
    dry_run: bool
    status: str
    started_at: datetime
    finished_at: datetime | None
    model_version: str | None
    counts: RunCounts
    error: str | None


@dataclass(frozen=True)
class CursorState:
    """Where a connection+kind stands: the completed watermark and any run in flight."""

    watermark: datetime | None = None
    resume: str | None = None
    resume_mode: str | None = None
    resume_since: datetime | None = None
    resume_run_id: int | None = None
    high_water: datetime | None = None


@dataclass(frozen=True)
class OutboxEntry:
    """A planned write; values are JSON-safe (datetimes as ISO strings)."""

    record_id: str
    new_values: Mapping[str, Any]
    old_values: Mapping[str, Any]
    contributions: Sequence[Mapping[str, Any]]
    reasons: Sequence[str]
    model_version: str
    run_id: int = 0
    attempts: int = 0
    id: int | None = None


@dataclass(frozen=True)
class WriteOutcome:
    """What became of one outbox entry after a write call."""

    entry: OutboxEntry
    status: Literal["applied", "retry", "dead_lettered"]
    error_code: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    """A record the CRM rejected permanently, with the values that were refused."""

    id: int
    connection: str
    kind: str
    record_id: str
    run_id: int
    new_values: Mapping[str, Any]
    error_code: str | None
    error: str
    attempts: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LedgerRow:
    """One attempted write."""

    id: int
    run_id: int
    record_id: str
    status: str
    old_values: Mapping[str, Any]
    new_values: Mapping[str, Any]
    error: str | None
    created_at: datetime
    extra: Mapping[str, Any] = field(default_factory=dict)


def create_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and IMMEDIATE transactions."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, future=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class StateStore:
    """Persistent state of every connection; safe to share between threads of one process."""

    def __init__(self, engine: sa.Engine, tables: Tables) -> None:
        self.engine = engine
        self.t = tables

    @classmethod
    def open(cls, url: str, *, now: datetime, table_prefix: str = "leadsync_") -> StateStore:
        """Connect to `url` and migrate the schema to the current version."""
        engine = create_engine(url)
        tables = build_tables(table_prefix)
        migrate(engine, tables, now=now)
        return cls(engine, tables)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def drop_all(self) -> None:
        """Drop every table of this prefix (tests and `leadsync` maintenance only)."""
        self.t.metadata.drop_all(self.engine)

    # runs ------------------------------------------------------------------------------------

    def start_run(
        self,
        connection: str,
        kind: str,
        *,
        mode: str,
        dry_run: bool,
        started_at: datetime,
        model_version: str | None,
    ) -> int:
        """Insert a `running` run and return its id."""
        with self.engine.begin() as conn:
            result = conn.execute(
                self.t.runs.insert().values(
                    connection=connection,
                    kind=kind,
                    mode=mode,
                    dry_run=dry_run,
                    status="running",
                    started_at=started_at,
                    model_version=model_version,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def mark_crashed(self, connection: str, *, now: datetime) -> int:
        """Runs still `running` for `connection`: call only while holding its run lock."""
        runs = self.t.runs
        with self.engine.begin() as conn:
            result = conn.execute(
                runs.update()
                .where(runs.c.connection == connection, runs.c.status == "running")
                .values(status="crashed", finished_at=now, error="process ended mid-run")
            )
            return int(result.rowcount)

    def finish_run(
        self,
        run_id: int,
        *,
        status: RunStatus,
        counts: RunCounts,
        finished_at: datetime,
        error: str | None = None,
        complete_cursor: tuple[str, str, datetime | None] | None = None,
    ) -> None:
        """Store the run's outcome; with `complete_cursor=(connection, kind, watermark)` also
        clear the in-flight position and advance the watermark, in the same transaction."""
        with self.engine.begin() as conn:
            conn.execute(
                self.t.runs.update()
                .where(self.t.runs.c.id == run_id)
                .values(status=status, finished_at=finished_at, error=error, **counts.as_dict())
            )
            if complete_cursor is not None:
                connection, kind, watermark = complete_cursor
                self._put_cursor(
                    conn, connection, kind, CursorState(watermark=watermark), finished_at
                )

    def runs(self, connection: str, *, limit: int = 10) -> list[RunRow]:
        """The latest runs of `connection`, newest first."""
        runs = self.t.runs
        query = (
            sa.select(runs)
            .where(runs.c.connection == connection)
            .order_by(runs.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_run_row(row) for row in conn.execute(query).mappings()]

    def api_calls_since(self, connection: str, since: datetime) -> int:
        """API calls counted by runs of `connection` started at or after `since`."""
        runs = self.t.runs
        query = sa.select(sa.func.coalesce(sa.func.sum(runs.c.api_calls), 0)).where(
            runs.c.connection == connection, runs.c.started_at >= since
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # cursors ---------------------------------------------------------------------------------

    def get_cursor(self, connection: str, kind: str) -> CursorState:
        """The saved position (an empty state when the connection never ran)."""
        c = self.t.cursors
        query = sa.select(c).where(c.c.connection == connection, c.c.kind == kind)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return CursorState()
        return CursorState(
            watermark=row["watermark"],
            resume=row["resume"],
            resume_mode=row["resume_mode"],
            resume_since=row["resume_since"],
            resume_run_id=row["resume_run_id"],
            high_water=row["high_water"],
        )

    def put_cursor(self, connection: str, kind: str, state: CursorState, *, now: datetime) -> None:
        """Replace the saved position."""
        with self.engine.begin() as conn:
            self._put_cursor(conn, connection, kind, state, now)

    def _put_cursor(
        self, conn: sa.Connection, connection: str, kind: str, state: CursorState, now: datetime
    ) -> None:
        values = {**asdict(state), "updated_at": now}
        c = self.t.cursors
        updated = conn.execute(
            c.update().where(c.c.connection == connection, c.c.kind == kind).values(**values)
        )
        if updated.rowcount == 0:
            conn.execute(c.insert().values(connection=connection, kind=kind, **values))

    # pages -----------------------------------------------------------------------------------

    def save_page(
        self,
        run_id: int,
        connection: str,
        kind: str,
        *,
        cursor: CursorState | None,
        outbox: Sequence[OutboxEntry],
        scores: Sequence[tuple[str, ScoreResult]],
        counts: RunCounts,
        now: datetime,
    ) -> None:
        """Commit one page: its planned writes, its scores, the cursor after it (unless None)
        and the run's counts so far."""
        with self.engine.begin() as conn:
            if outbox:
                ids = [e.record_id for e in outbox]
                o = self.t.outbox
                conn.execute(
                    o.delete().where(
                        o.c.connection == connection, o.c.kind == kind, o.c.record_id.in_(ids)
                    )
                )
                conn.execute(
                    o.insert(),
                    [
                        {
                            "connection": connection,
                            "kind": kind,
                            "record_id": e.record_id,
                            "run_id": run_id,
                            "new_values": dict(e.new_values),
                            "old_values": dict(e.old_values),
                            "contributions": list(e.contributions),
                            "reasons": list(e.reasons),
                            "model_version": e.model_version,
                            "attempts": 0,
                            "created_at": now,
                        }
                        for e in outbox
                    ],
                )
            if scores:
                self._upsert_scores(conn, connection, kind, scores, now)
            if cursor is not None:
                self._put_cursor(conn, connection, kind, cursor, now)
            conn.execute(
                self.t.runs.update().where(self.t.runs.c.id == run_id).values(**counts.as_dict())
            )

    def _upsert_scores(
        self,
        conn: sa.Connection,
        connection: str,
        kind: str,
        scores: Sequence[tuple[str, ScoreResult]],
        now: datetime,
    ) -> None:
        s = self.t.scores
        rows = [
            {
                "connection": connection,
                "kind": kind,
                "record_id": record_id,
                "score": result.score,
                "label": result.label,
                "qualified": result.qualified,
                "result": result.to_dict(),
                "scored_at": now,
            }
            for record_id, result in scores
        ]
        insert = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(s)
        statement = insert.on_conflict_do_update(
            index_elements=[s.c.connection, s.c.kind, s.c.record_id],
            set_={
                name: insert.excluded[name]
                for name in ("score", "label", "qualified", "result", "scored_at")
            },
        )
        conn.execute(statement, rows)

    def previous_scores(
        self, connection: str, kind: str, record_ids: Iterable[str]
    ) -> dict[str, ScoreResult]:
        """The latest stored result of each of `record_ids` that has one."""
        ids = list(record_ids)
        if not ids:
            return {}
        s = self.t.scores
        query = sa.select(s.c.record_id, s.c.result).where(
            s.c.connection == connection, s.c.kind == kind, s.c.record_id.in_(ids)
        )
        with self.engine.connect() as conn:
            return {row.record_id: ScoreResult.from_dict(row.result) for row in conn.execute(query)}

    def score_distribution(self, connection: str, kind: str) -> dict[str, int]:
        """How many records hold each label."""
        s = self.t.scores
        query = (
            sa.select(s.c.label, sa.func.count())
            .where(s.c.connection == connection, s.c.kind == kind)
            .group_by(s.c.label)
        )
        with self.engine.connect() as conn:
            return {str(label): int(n) for label, n in conn.execute(query)}

    # outbox and ledger -----------------------------------------------------------------------

    def pending(self, connection: str, kind: str, *, limit: int | None = None) -> list[OutboxEntry]:
        """Outbox entries waiting to be written, oldest first."""
        o = self.t.outbox
        query = (
            sa.select(o)
            .where(o.c.connection == connection, o.c.kind == kind)
            .order_by(o.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                OutboxEntry(
                    record_id=row["record_id"],
                    new_values=row["new_values"],
                    old_values=row["old_values"],
                    contributions=row["contributions"],
                    reasons=row["reasons"],
                    model_version=row["model_version"],
                    run_id=row["run_id"],
                    attempts=row["attempts"],
                    id=row["id"],
                )
                for row in conn.execute(query).mappings()
            ]

    def pending_count(self, connection: str, kind: str | None = None) -> int:
        """How many writes wait in the outbox."""
        o = self.t.outbox
        query = sa.select(sa.func.count()).where(o.c.connection == connection)
        if kind is not None:
            query = query.where(o.c.kind == kind)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def record_writes(
        self,
        run_id: int,
        connection: str,
        kind: str,
        outcomes: Sequence[WriteOutcome],
        *,
        now: datetime,
    ) -> None:
        """Append one ledger row per outcome; applied and dead-lettered entries leave the
        outbox, retried ones stay with one more attempt; dead letters are opened or updated."""
        if not outcomes:
            return
        o, d = self.t.outbox, self.t.dead_letters
        status_of = {"applied": "applied", "retry": "failed", "dead_lettered": "dead_lettered"}
        with self.engine.begin() as conn:
            conn.execute(
                self.t.ledger.insert(),
                [
                    {
                        "run_id": run_id,
                        "connection": connection,
                        "kind": kind,
                        "record_id": x.entry.record_id,
                        "status": status_of[x.status],
                        "old_values": dict(x.entry.old_values),
                        "new_values": dict(x.entry.new_values),
                        "contributions": list(x.entry.contributions),
                        "reasons": list(x.entry.reasons),
                        "model_version": x.entry.model_version,
                        "error_code": x.error_code,
                        "error": x.error,
                        "created_at": now,
                    }
                    for x in outcomes
                ],
            )
            done = [x.entry.id for x in outcomes if x.status != "retry" and x.entry.id]
            if done:
                conn.execute(o.delete().where(o.c.id.in_(done)))
            retry = [x.entry.id for x in outcomes if x.status == "retry" and x.entry.id]
            if retry:
                conn.execute(o.update().where(o.c.id.in_(retry)).values(attempts=o.c.attempts + 1))
            dead = [x for x in outcomes if x.status == "dead_lettered"]
            if dead:
                self._open_dead_letters(conn, run_id, connection, kind, dead, now=now)
            applied = [x.entry.record_id for x in outcomes if x.status == "applied"]
            if applied:
                conn.execute(
                    d.update()
                    .where(
                        d.c.connection == connection,
                        d.c.kind == kind,
                        d.c.record_id.in_(applied),
                        d.c.resolved_at.is_(None),
                    )
                    .values(resolved_at=now, updated_at=now, resolution="written")
                )

    def _open_dead_letters(
        self,
        conn: sa.Connection,
        run_id: int,
        connection: str,
        kind: str,
        dead: Sequence[WriteOutcome],
        *,
        now: datetime,
    ) -> None:
        d = self.t.dead_letters
        ids = [x.entry.record_id for x in dead]
        existing = {
            row.record_id: row.id
            for row in conn.execute(
                sa.select(d.c.record_id, d.c.id).where(
                    d.c.connection == connection,
                    d.c.kind == kind,
                    d.c.record_id.in_(ids),
                    d.c.resolved_at.is_(None),
                )
            )
        }
        for x in dead:
            values = {
                "run_id": run_id,
                "new_values": dict(x.entry.new_values),
                "error_code": x.error_code,
                "error": x.error or "rejected by the CRM",
                "updated_at": now,
            }
            if x.entry.record_id in existing:
                conn.execute(
                    d.update()
                    .where(d.c.id == existing[x.entry.record_id])
                    .values(attempts=d.c.attempts + 1, **values)
                )
            else:
                conn.execute(
                    d.insert().values(
                        connection=connection,
                        kind=kind,
                        record_id=x.entry.record_id,
                        created_at=now,
                        attempts=1,
                        **values,
                    )
                )

    def ledger(
        self, connection: str, kind: str, *, record_id: str | None = None
    ) -> list[LedgerRow]:
        """Ledger rows of `connection`+`kind` (optionally one record), oldest first."""
        lg = self.t.ledger
        query = (
            sa.select(lg).where(lg.c.connection == connection, lg.c.kind == kind).order_by(lg.c.id)
        )
        if record_id is not None:
            query = query.where(lg.c.record_id == record_id)
        with self.engine.connect() as conn:
            return [
                LedgerRow(
                    id=row["id"],
                    run_id=row["run_id"],
                    record_id=row["record_id"],
                    status=row["status"],
                    old_values=row["old_values"],
                    new_values=row["new_values"],
                    error=row["error"],
                    created_at=row["created_at"],
                    extra={
                        "error_code": row["error_code"],
                        "reasons": row["reasons"],
                        "model_version": row["model_version"],
                        "contributions": row["contributions"],
                    },
                )
                for row in conn.execute(query).mappings()
            ]

    # dead letters ----------------------------------------------------------------------------

    def dead_letters(
        self, connection: str, kind: str | None = None, *, limit: int | None = None
    ) -> list[DeadLetter]:
        """Open dead letters, oldest first."""
        d = self.t.dead_letters
        query = (
            sa.select(d)
            .where(d.c.connection == connection, d.c.resolved_at.is_(None))
            .order_by(d.c.id)
            .limit(limit)
        )
        if kind is not None:
            query = query.where(d.c.kind == kind)
        with self.engine.connect() as conn:
            return [
                DeadLetter(
                    id=row["id"],
                    connection=row["connection"],
                    kind=row["kind"],
                    record_id=row["record_id"],
                    run_id=row["run_id"],
                    new_values=row["new_values"],
                    error_code=row["error_code"],
                    error=row["error"],
                    attempts=row["attempts"],
                    created_at=row["created_at"],
                    updated_at=row["updated_at"],
                )
                for row in conn.execute(query).mappings()
            ]

    def dead_letter_count(self, connection: str) -> int:
        """How many dead letters of `connection` are open."""
        d = self.t.dead_letters
        query = sa.select(sa.func.count()).where(
            d.c.connection == connection, d.c.resolved_at.is_(None)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def resolve_dead_letters(self, ids: Sequence[int], *, resolution: str, now: datetime) -> None:
        """Close dead letters (e.g. the record no longer exists)."""
        if not ids:
            return
        d = self.t.dead_letters
        with self.engine.begin() as conn:
            conn.execute(
                d.update()
                .where(d.c.id.in_(list(ids)))
                .values(resolved_at=now, updated_at=now, resolution=resolution)
            )

    # retention -------------------------------------------------------------------------------

    def prune(self, retention: RetentionSettings, *, now: datetime) -> dict[str, int]:
        """Delete finished runs, ledger rows and resolved dead letters older than configured."""
        runs, lg, d = self.t.runs, self.t.ledger, self.t.dead_letters
        with self.engine.begin() as conn:
            removed_runs = conn.execute(
                runs.delete().where(
                    runs.c.status != "running",
                    runs.c.started_at < now - timedelta(days=retention.runs_days),
                )
            ).rowcount
            removed_ledger = conn.execute(
                lg.delete().where(lg.c.created_at < now - timedelta(days=retention.ledger_days))
            ).rowcount
            removed_dead = conn.execute(
                d.delete().where(
                    d.c.resolved_at.is_not(None),
                    d.c.resolved_at < now - timedelta(days=retention.dead_letters_days),
                )
            ).rowcount
        return {"runs": removed_runs, "ledger": removed_ledger, "dead_letters": removed_dead}


def _run_row(row: sa.RowMapping) -> RunRow:
    return RunRow(
        id=row["id"],
        connection=row["connection"],
        kind=row["kind"],
        mode=row["mode"],
        dry_run=bool(row["dry_run"]),
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        model_version=row["model_version"],
        counts=RunCounts(**{name: int(row[name]) for name in COUNT_NAMES}),
        error=row["error"],
    )
