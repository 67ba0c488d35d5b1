"""The state store: runs, cursors, pages, latest scores and retention (see `sync.state.ledger`
for the outbox, the ledger and dead letters).

SQLAlchemy Core over SQLite (WAL) or PostgreSQL (`postgresql+psycopg://`). Every method is one
transaction. The engine's crash safety rests on two of them: `save_page` (a page's outbox
entries, scores, the cursor after it and the run's counts, together) and `record_writes`
(ledger rows, outbox removal and dead letters, together).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from config.redaction import redact_optional
from config.settings import TABLE_PREFIX, RetentionSettings
from scoring.types import Record, ScoreResult
from sync.state.bulk import BulkInsert, KeyedIds, KeyedUpdate, VersionRaise
from sync.state.db import Checkpointer, create_engine
from sync.state.errors import state_error
from sync.state.inputs import decode_inputs
from sync.state.ledger import LedgerMixin
from sync.state.migrations import migrate
from sync.state.records import (
    COUNT_NAMES,
    CursorState,
    OutboxEntry,
    PreviousRow,
    RunCounts,
    RunRow,
    RunStatus,
    ScoreRow,
    StoredZone,
    loads,
)
from sync.state.schema import Tables, build_tables

CURSOR_FIELDS = tuple(f.name for f in fields(CursorState))


class StateStore(LedgerMixin):
    """Persistent state of every connection; safe to share between threads of one process."""

    def __init__(self, engine: sa.Engine, tables: Tables) -> None:
        self.engine = engine
        self.t = tables
        dialect = engine.dialect
        # SQLite has one writer at a time, and a writer that finds it busy polls in sleeps of
        # 1 to 100 ms: threads of this process (a run's page commits and its write thread's
        # ledger rows) take turns on a lock instead.
        self._write_turn = threading.RLock() if dialect.name == "sqlite" else None
        # File databases get a checkpoint thread, started by the first write transaction.
        self._wal = dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")
        self._checkpointer: Checkpointer | None = None
        self._outbox_insert = BulkInsert(
            tables.outbox,
            ("connection", "kind", "record_id", "run_id", "payload", "model_version",
             "attempts", "created_at"),
            dialect,
        )  # fmt: skip
        self._ledger_insert = BulkInsert(
            tables.ledger,
            ("run_id", "connection", "kind", "record_id", "status", "payload", "model_version",
             "error_code", "error", "created_at"),
            dialect,
        )  # fmt: skip
        # Hot statements built once, with bound parameters, so each page skips SQL compilation
        # and cache-key generation over long IN lists.
        o, c, s = tables.outbox, tables.cursors, tables.scores
        key = (o.c.connection == sa.bindparam("p_conn"), o.c.kind == sa.bindparam("p_kind"))
        self._outbox_retry = (
            o.update()
            .where(*key, o.c.record_id.in_(sa.bindparam("p_ids", expanding=True)))
            .values(attempts=o.c.attempts + 1)
        )
        self._cursor_update = KeyedUpdate(
            c, (*CURSOR_FIELDS, "updated_at"), ("connection", "kind"), dialect
        )
        self._run_counts = KeyedUpdate(tables.runs, COUNT_NAMES, ("id",), dialect)
        d = tables.dead_letters
        self._dead_open = (
            sa.select(sa.literal(1))
            .where(
                d.c.connection == sa.bindparam("p_conn"),
                d.c.kind == sa.bindparam("p_kind"),
                d.c.resolved_at.is_(None),
            )
            .limit(1)
        )
        quote = dialect.identifier_preparer.quote
        self._outbox_delete_ids = KeyedIds(f"DELETE FROM {quote(o.name)}", dialect)
        # The version a result covers: the one read (`scores.crm_version`) or the one our own
        # write produced (`written_versions`), whichever is later.
        sn, wn = quote(s.name), quote(tables.written_versions.name)
        covered = (
            f"CASE WHEN {wn}.{quote('crm_version')} IS NULL"
            f" OR {sn}.{quote('crm_version')} >= {wn}.{quote('crm_version')}"
            f" THEN {sn}.{quote('crm_version')} ELSE {wn}.{quote('crm_version')} END"
        )
        joined = (
            f"FROM {sn} LEFT JOIN {wn} ON {wn}.{quote('connection')} = {sn}.{quote('connection')}"
            f" AND {wn}.{quote('kind')} = {sn}.{quote('kind')}"
            f" AND {wn}.{quote('record_id')} = {sn}.{quote('record_id')}"
        )
        self._previous = KeyedIds(
            f"SELECT {sn}.{quote('record_id')}, {quote('result')}, {quote('inputs')}, "
            f"{covered}, {quote('model_version')}, {quote('changed_version')} {joined}",
            dialect,
            table=s.name,
        )
        self._versions = KeyedIds(
            f"SELECT {sn}.{quote('record_id')}, {covered}, {quote('model_version')} {joined}",
            dialect,
            table=s.name,
        )
        self._score_upsert = BulkInsert(
            tables.scores,
            ("connection", "kind", "record_id", "score", "label", "qualified", "result",
             "scored_at", "inputs", "crm_version", "model_version", "changed_version",
             "values_changed_at"),
            dialect,
            conflict=("connection", "kind", "record_id"),
            update=("score", "label", "qualified", "result", "scored_at", "inputs",
                    "crm_version", "model_version", "changed_version"),
            # NULL: the values people read of the result did not change (`ScoreRow`); a row
            # stored before migration 10 takes the time it was saved last
            keep={"values_changed_at": "scored_at"},
        )  # fmt: skip
        # our own write's modification time: the version scored, when it is newer
        self._version_raise = VersionRaise(tables.written_versions, dialect)
        self._api_calls_insert = BulkInsert(
            tables.api_calls,
            ("connection", "command", "run_id", "calls", "rate_limited", "recorded_at"),
            dialect,
        )
        self._zone_upsert = BulkInsert(
            tables.account_zones,
            ("connection", "time_zone", "utc_offset_ms", "seen_at"),
            dialect,
            conflict=("connection",),
            update=("time_zone", "utc_offset_ms", "seen_at"),
        )

    @classmethod
    def open(cls, url: str, *, now: datetime, table_prefix: str = TABLE_PREFIX) -> StateStore:
        """Connect to `url` and migrate the schema to the current version; a database that
        cannot be used (read-only, full, damaged, unreachable) raises `StateDatabaseError`."""
        tables = build_tables(table_prefix)
        try:
            engine = create_engine(url)
            migrate(engine, tables, now=now)
        except (sa.exc.DBAPIError, OSError) as exc:
            error = state_error(exc, url)
            if error is None:
                raise
            raise error from exc
        return cls(engine, tables)

    @staticmethod
    def exists(url: str, *, table_prefix: str = TABLE_PREFIX) -> bool:
        """Whether `url` already holds a state store (its schema version table), found without
        creating anything: a SQLite file that is not there (nor its folder) is no store, and
        nothing is written to one that is. A database that cannot be reached raises
        `StateDatabaseError`, as `open` does."""
        parsed = sa.make_url(url)
        if parsed.drivername.startswith("sqlite"):
            path = parsed.database or ""
            if path in ("", ":memory:") or not Path(path).is_file():
                return False
        engine = sa.create_engine(parsed)
        try:
            with engine.connect() as conn:
                return sa.inspect(conn).has_table(build_tables(table_prefix).schema_version.name)
        except sa.exc.DBAPIError as exc:
            error = state_error(exc, url)
            if error is None:
                raise
            raise error from exc
        finally:
            engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """`engine.begin()`: one transaction, committed when the block ends without error. A
        write the database refuses for a reason the operator must fix (read-only, disk full,
        file size limit, damaged file) raises `StateDatabaseError`."""
        try:
            if self._write_turn is None:
                with self.engine.begin() as conn:
                    yield conn
                return
            with self._write_turn:
                if self._wal and self._checkpointer is None:
                    self._checkpointer = Checkpointer(self.engine)
                with self.engine.begin() as conn:
                    yield conn
        except sa.exc.DBAPIError as exc:
            error = state_error(exc, self.engine.url)
            if error is None:
                raise
            raise error from exc

    def integrity_problems(self, limit: int = 5) -> list[str]:
        """What SQLite's `quick_check` finds wrong with the database file (empty when sound;
        PostgreSQL checks its own pages, so always empty there)."""
        if self.dialect != "sqlite":
            return []
        try:
            with self.engine.connect() as conn:
                rows = conn.exec_driver_sql(f"PRAGMA quick_check({limit})").all()
        except sa.exc.DBAPIError as exc:
            return [str(exc.orig).strip()]
        found = [str(row[0]) for row in rows]
        return [] if found == ["ok"] else found

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    def checkpoint(self) -> bool:
        """Fold the WAL into the database file now, as the checkpoint thread does every second;
        False when this store runs no checkpoint thread (in memory, PostgreSQL, no write yet,
        or closed)."""
        checkpointer = self._checkpointer
        if checkpointer is None:
            return False
        checkpointer.checkpoint()
        return True

    def close(self) -> None:
        """Stop the checkpoint thread and release pooled connections."""
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()
        self.engine.dispose()

    def drop_all(self) -> None:
        """Drop every table of this prefix (tests and `leadsync` maintenance only)."""
        self.t.metadata.drop_all(self.engine)

    # runs ------------------------------------------------------------------------------------

    def start_run(  # noqa: PLR0913  one runs row, keyword-only
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
        with self.transaction() as conn:
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
        """Runs still `running` for `connection`: call only while holding its run lock. Their
        API calls are what they recorded as they went (`record_api_calls`), the last few
        before the process ended aside."""
        runs, calls = self.t.runs, self.t.api_calls
        spent = sa.select(sa.func.coalesce(sa.func.sum(calls.c.calls), 0)).where(
            calls.c.run_id == runs.c.id
        )
        refused = sa.select(sa.func.coalesce(sa.func.sum(calls.c.rate_limited), 0)).where(
            calls.c.run_id == runs.c.id
        )
        with self.transaction() as conn:
            result = conn.execute(
                runs.update()
                .where(runs.c.connection == connection, runs.c.status == "running")
                .values(
                    status="crashed",
                    finished_at=now,
                    error="process ended mid-run",
                    api_calls=spent.scalar_subquery(),
                    rate_limited=refused.scalar_subquery(),
                )
            )
            return int(result.rowcount)

    def finish_run(  # noqa: PLR0913  one runs row, keyword-only
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
        with self.transaction() as conn:
            conn.execute(
                self.t.runs.update()
                .where(self.t.runs.c.id == run_id)
                .values(
                    status=status,
                    finished_at=finished_at,
                    error=redact_optional(error),
                    **counts.as_dict(),
                )
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

    def last_succeeded_start(self, connection: str, kind: str) -> datetime | None:
        """When the latest succeeded run of `connection`+`kind` started (None: none has)."""
        runs = self.t.runs
        query = sa.select(sa.func.max(runs.c.started_at)).where(
            runs.c.connection == connection,
            runs.c.kind == kind,
            runs.c.status == "succeeded",
        )
        with self.engine.connect() as conn:
            started: datetime | None = conn.execute(query).scalar()
        return started

    def values_changed_since(self, connection: str, kind: str, since: datetime) -> dict[str, str]:
        """The stored result JSON of each record of `connection`+`kind` whose values people
        read (`scoring.account_link.account_values`) changed at or after `since`; a row saved
        again only because its inputs moved is not one of them."""
        s = self.t.scores
        changed = sa.func.coalesce(s.c.values_changed_at, s.c.scored_at)
        query = sa.select(s.c.record_id, s.c.result).where(
            s.c.connection == connection, s.c.kind == kind, changed >= since
        )
        with self.engine.connect() as conn:
            return {record_id: result for record_id, result in conn.execute(query)}

    def record_api_calls(  # noqa: PLR0913  one api_calls row, keyword-only
        self,
        connection: str,
        *,
        command: str,
        run_id: int | None,
        calls: int,
        rate_limited: int,
        at: datetime,
    ) -> None:
        """Keep `calls` API calls (`rate_limited` of them refused for rate) that `command` (in
        run `run_id`, if any) spent on `connection`, counted from `at` on."""
        with self.transaction() as conn:
            self._api_calls_insert.execute(
                conn, [(connection, command, run_id, calls, rate_limited, at)]
            )

    def api_calls_since(self, connection: str, since: datetime) -> int:
        """API calls every command recorded for `connection` at or after `since`."""
        return sum(self.api_calls_by_command(connection, since).values())

    def api_calls_by_command(self, connection: str, since: datetime) -> dict[str, int]:
        """API calls recorded for `connection` at or after `since`, by command, most first."""
        calls = self.t.api_calls
        total = sa.func.sum(calls.c.calls)
        query = (
            sa.select(calls.c.command, total)
            .where(calls.c.connection == connection, calls.c.recorded_at >= since)
            .group_by(calls.c.command)
            .order_by(total.desc(), calls.c.command)
        )
        with self.engine.connect() as conn:
            return {command: int(n) for command, n in conn.execute(query) if n}

    # the CRM account's day -------------------------------------------------------------------

    def account_zone(self, connection: str) -> StoredZone | None:
        """The time zone `connection`'s CRM account was last seen to count its day in."""
        z = self.t.account_zones
        query = sa.select(z.c.time_zone, z.c.utc_offset_ms, z.c.seen_at).where(
            z.c.connection == connection
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else StoredZone(*row)

    def remember_account_zone(self, connection: str, zone: StoredZone) -> None:
        """Keep `zone` as `connection`'s, replacing what was kept."""
        # an upsert: two processes learning the zone at once must not collide on the key
        with self.transaction() as conn:
            self._zone_upsert.execute(
                conn, [(connection, zone.time_zone, zone.utc_offset_ms, zone.seen_at)]
            )

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
            resume_started=row["resume_started"],
            high_water=row["high_water"],
        )

    def put_cursor(self, connection: str, kind: str, state: CursorState, *, now: datetime) -> None:
        """Replace the saved position."""
        with self.transaction() as conn:
            self._put_cursor(conn, connection, kind, state, now)

    def _put_cursor(
        self, conn: sa.Connection, connection: str, kind: str, state: CursorState, now: datetime
    ) -> None:
        values = [*(getattr(state, name) for name in CURSOR_FIELDS), now]
        if self._cursor_update.execute(conn, values, (connection, kind)) == 0:
            row = dict(zip((*CURSOR_FIELDS, "updated_at"), values, strict=True))
            conn.execute(self.t.cursors.insert().values(connection=connection, kind=kind, **row))

    # pages -----------------------------------------------------------------------------------

    def save_page(  # noqa: PLR0913  one page committed in one transaction, keyword-only
        self,
        run_id: int,
        connection: str,
        kind: str,
        *,
        cursor: CursorState | None,
        outbox: Sequence[OutboxEntry],
        scores: Sequence[ScoreRow],
        counts: RunCounts,
        now: datetime,
        extra_scores: Mapping[str, Sequence[ScoreRow]] | None = None,
        replaces: Collection[str] | None = None,
    ) -> None:
        """Commit one page: its planned writes, its new scores (pass only results or input
        snapshots that differ from the stored ones; a row without a snapshot stores NULL; a row
        whose `values_changed` is false keeps its `values_changed_at`), the
        scores of a model group's other models under their own kinds (`extra_scores`), the
        cursor after it (unless None) and the run's counts so far. A planned write replaces
        the record's waiting one; `replaces` names the records that may have one (None: any of
        `outbox`), when the caller knows the outbox's content."""
        with self.transaction() as conn:
            if outbox:
                ids = [e.record_id for e in outbox] if replaces is None else list(replaces)
                if ids:
                    self._outbox_delete_ids.execute(conn, connection, kind, ids)
                self._outbox_insert.execute(
                    conn,
                    (
                        (connection, kind, e.record_id, run_id, e.payload, e.model_version, 0, now)
                        for e in outbox
                    ),
                )
            for score_kind, rows in [(kind, scores), *(extra_scores or {}).items()]:
                if not rows:
                    continue
                self._score_upsert.execute(
                    conn,
                    (
                        (connection, score_kind, r.record_id, r.score, r.label, r.qualified,
                         r.result, now, r.inputs, r.crm_version, r.model_version,
                         r.changed_version, now if r.values_changed else None)
                        for r in rows
                    ),
                )  # fmt: skip
            if cursor is not None:
                self._put_cursor(conn, connection, kind, cursor, now)
            self._run_counts.execute(
                conn, [getattr(counts, name) for name in COUNT_NAMES], (run_id,)
            )

    def previous_scores(
        self, connection: str, kind: str, record_ids: Iterable[str]
    ) -> dict[str, ScoreResult]:
        """The latest stored result of each of `record_ids` that has one."""
        return {
            record_id: result
            for record_id, (result, _) in self.previous_state(connection, kind, record_ids).items()
        }

    def previous_state(
        self, connection: str, kind: str, record_ids: Iterable[str]
    ) -> dict[str, tuple[ScoreResult, str | None]]:
        """The latest stored result and input snapshot text (None when absent) of each of
        `record_ids` that has a result."""
        rows = self.previous_rows(connection, kind, record_ids)
        return {
            record_id: (ScoreResult.from_dict(loads(row.result)), row.inputs)
            for record_id, row in rows.items()
        }

    def previous_rows(
        self, connection: str, kind: str, record_ids: Iterable[str]
    ) -> dict[str, PreviousRow]:
        """`previous_state` undecoded, with the version scored: the stored result JSON, input
        snapshot text, CRM version and model version of each of `record_ids` that has a result
        (decoding is left to whoever scores the page)."""
        ids = list(record_ids)
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return {
                row[0]: PreviousRow(*row[1:])
                for row in self._previous.execute(conn, connection, kind, ids)
            }

    def scored_versions(
        self, connection: str, kind: str, record_ids: Iterable[str]
    ) -> dict[str, tuple[int | None, str | None]]:
        """The CRM version (epoch ms) and model version of the stored result of each of
        `record_ids` that has one."""
        ids = list(record_ids)
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return {
                record_id: (version, model)
                for record_id, version, model in self._versions.execute(conn, connection, kind, ids)
            }

    def iter_latest(
        self, connection: str, kind: str, *, batch: int = 1000
    ) -> Iterator[tuple[Record, ScoreResult]]:
        """Every record of `connection`+`kind` with a stored input snapshot, rebuilt from it,
        with its latest result; by record id, `batch` rows per query (memory stays flat)."""
        s = self.t.scores
        query = (
            sa.select(s.c.record_id, s.c.result, s.c.inputs)
            .where(
                s.c.connection == connection,
                s.c.kind == kind,
                s.c.inputs.is_not(None),
                s.c.record_id > sa.bindparam("p_after"),
            )
            .order_by(s.c.record_id)
            .limit(batch)
        )
        # a model group's further model stores under `contact:pl_b`; its records are contacts
        record_kind = kind.partition(":")[0]
        after = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(query, {"p_after": after}).all()
            for record_id, text, inputs in rows:
                yield (
                    decode_inputs(record_id, record_kind, inputs),
                    ScoreResult.from_dict(loads(text)),
                )
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def latest_count(self, connection: str, kind: str) -> tuple[int, int]:
        """How many records have a latest result, and how many of them an input snapshot."""
        s = self.t.scores
        query = sa.select(sa.func.count(), sa.func.count(s.c.inputs)).where(
            s.c.connection == connection, s.c.kind == kind
        )
        with self.engine.connect() as conn:
            total, with_inputs = conn.execute(query).one()
        return int(total), int(with_inputs)

    def top_scores(
        self, connection: str, kind: str, *, limit: int = 10
    ) -> list[tuple[str, ScoreResult]]:
        """The `limit` best-scored records (score, then id), with their latest results."""
        s = self.t.scores
        query = (
            sa.select(s.c.record_id, s.c.result)
            .where(s.c.connection == connection, s.c.kind == kind)
            .order_by(s.c.score.desc(), s.c.record_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                (record_id, ScoreResult.from_dict(loads(text)))
                for record_id, text in conn.execute(query)
            ]

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

    # retention -------------------------------------------------------------------------------

    def prune(self, retention: RetentionSettings, *, now: datetime) -> dict[str, int]:
        """Delete finished runs (and their recorded API calls), ledger rows and resolved dead
        letters older than configured."""
        runs, lg, d, calls = self.t.runs, self.t.ledger, self.t.dead_letters, self.t.api_calls
        with self.transaction() as conn:
            removed_runs = conn.execute(
                runs.delete().where(
                    runs.c.status != "running",
                    runs.c.started_at < now - timedelta(days=retention.runs_days),
                )
            ).rowcount
            removed_calls = conn.execute(
                calls.delete().where(
                    calls.c.recorded_at < now - timedelta(days=retention.runs_days)
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
        return {
            "runs": removed_runs,
            "api_calls": removed_calls,
            "ledger": removed_ledger,
            "dead_letters": removed_dead,
        }


def _run_row(row: sa.RowMapping) -> RunRow:
    return RunRow(
        id=row["id"],
        connection=row["connection"],
        kind=row["kind"],
        mode=row["mode"],
        dry_run=bool(row["dry_run"]),
        status=RunStatus(row["status"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        model_version=row["model_version"],
        counts=RunCounts(**{name: int(row[name]) for name in COUNT_NAMES}),
        # rows stored before secrets were masked are masked as they are read
        error=redact_optional(row["error"]),
    )
