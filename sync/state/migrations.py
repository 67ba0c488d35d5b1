"""Schema versions of the state store, applied at open under a lock.

Why not alembic: the schema is a few small tables that the daemon itself must create and upgrade
at start, on SQLite and PostgreSQL, with a table prefix, safely when two processes start at once.
A versioned table plus ordered Core-DDL functions does that in one module, inside one
transaction that holds a lock (`BEGIN IMMEDIATE` on SQLite, `pg_advisory_xact_lock` on
PostgreSQL), without alembic's script directory, ini file and env.py to ship and locate.

A new database gets the current schema from `sync.state.schema` and is stamped with every
version (as alembic recommends for fresh databases). An existing one runs the migrations newer
than its version. Migration 1 is the baseline; later ones hold explicit DDL (ALTER ...).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from config.errors import UserError
from sync.state.schema import Tables


@dataclass(frozen=True)
class Migration:
    """One schema version; `apply` is None for the baseline a new database is created at."""

    version: int
    description: str
    apply: Callable[[sa.Connection, Tables], None] | None = None


def _add_score_inputs(conn: sa.Connection, tables: Tables) -> None:
    """scores.inputs: the record inputs behind each latest result (NULL until rescored)."""
    preparer = conn.dialect.identifier_preparer
    conn.exec_driver_sql(
        f"ALTER TABLE {preparer.format_table(tables.scores)} ADD COLUMN "
        f"{preparer.quote('inputs')} TEXT"
    )


def _add_score_versions(conn: sa.Connection, tables: Tables) -> None:
    """scores.crm_version and scores.model_version: which record version a result scored
    (NULL until rescored, which then scores it once more)."""
    preparer = conn.dialect.identifier_preparer
    table = preparer.format_table(tables.scores)
    conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {preparer.quote('crm_version')} BIGINT")
    conn.exec_driver_sql(
        f"ALTER TABLE {table} ADD COLUMN {preparer.quote('model_version')} VARCHAR(32)"
    )


def _add_changed_version(conn: sa.Connection, tables: Tables) -> None:
    """scores.changed_version: the latest version scored that was not our own write (NULL until
    rescored)."""
    preparer = conn.dialect.identifier_preparer
    conn.exec_driver_sql(
        f"ALTER TABLE {preparer.format_table(tables.scores)} ADD COLUMN "
        f"{preparer.quote('changed_version')} BIGINT"
    )


def _add_run_retried(conn: sa.Connection, tables: Tables) -> None:
    """runs.retried: writes each run sent again (0 for the runs before it, which kept it only in
    their summary)."""
    preparer = conn.dialect.identifier_preparer
    conn.exec_driver_sql(
        f"ALTER TABLE {preparer.format_table(tables.runs)} ADD COLUMN "
        f"{preparer.quote('retried')} INTEGER DEFAULT 0 NOT NULL"
    )


def _add_written_versions(conn: sa.Connection, tables: Tables) -> None:
    """written_versions: our own writes' versions, raised apart from the scores rows (the
    versions raised before it stay in `scores.crm_version`, where they hold as they are)."""
    tables.written_versions.create(conn)


def _add_api_calls(conn: sa.Connection, tables: Tables) -> None:
    """api_calls: every command's API calls, recorded as they go. The calls the runs before it
    counted are copied in as one row per run at its start, where the daily windows counted
    them before."""
    tables.api_calls.create(conn)
    runs, calls = tables.runs, tables.api_calls
    old = sa.select(
        runs.c.connection,
        sa.literal("sync", sa.String(32)),
        runs.c.id,
        runs.c.api_calls,
        runs.c.rate_limited,
        runs.c.started_at,
    ).where(runs.c.api_calls > 0)
    columns = ["connection", "command", "run_id", "calls", "rate_limited", "recorded_at"]
    conn.execute(calls.insert().from_select(columns, old))


def _add_write_jobs(conn: sa.Connection, tables: Tables) -> None:
    """write_jobs: Bulk API jobs noted before their upload (crash reconciliation)."""
    tables.write_jobs.create(conn)


def _add_account_zones(conn: sa.Connection, tables: Tables) -> None:
    """account_zones: each connection's CRM account time zone (its daily limit's midnight)."""
    tables.account_zones.create(conn)


def _add_values_changed_at(conn: sa.Connection, tables: Tables) -> None:
    """scores.values_changed_at: when the values people read of a result last changed. NULL for
    the rows stored before it, which count their `scored_at` (the latest time those values may
    have changed) until saved again: no rewrite of every row here."""
    preparer = conn.dialect.identifier_preparer
    table = preparer.format_table(tables.scores)
    column = tables.scores.c.values_changed_at
    kind = column.type.compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {preparer.quote(column.name)} {kind}")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs, cursors, outbox, ledger, dead letters, scores"),
    Migration(2, "scores.inputs: model inputs of the latest score", _add_score_inputs),
    Migration(3, "scores.crm_version, scores.model_version: version scored", _add_score_versions),
    Migration(4, "write_jobs: server-side write jobs noted before upload", _add_write_jobs),
    Migration(5, "account_zones: the CRM account's time zone per connection", _add_account_zones),
    Migration(6, "scores.changed_version: latest version scored not ours", _add_changed_version),
    Migration(7, "runs.retried: writes a run sent again", _add_run_retried),
    Migration(8, "written_versions: versions our writes produced", _add_written_versions),
    Migration(9, "api_calls: every command's API calls, recorded as they go", _add_api_calls),
    Migration(10, "scores.values_changed_at: when people's view changed", _add_values_changed_at),
)
LATEST = MIGRATIONS[-1].version


def advisory_key(text: str) -> int:
    """A stable signed 64-bit key for `pg_advisory_*lock` derived from `text`."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def migrate(engine: sa.Engine, tables: Tables, *, now: datetime) -> int:
    """Bring the schema to `LATEST`; returns the version found before (0 for a new database)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            key = advisory_key(f"leadsync-migrate:{tables.schema_version.name}")
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        if not sa.inspect(conn).has_table(tables.schema_version.name):
            tables.metadata.create_all(conn)
            conn.execute(
                tables.schema_version.insert(),
                [
                    {"version": m.version, "description": m.description, "applied_at": now}
                    for m in MIGRATIONS
                ],
            )
            return 0
        current = conn.execute(sa.select(sa.func.max(tables.schema_version.c.version))).scalar()
        current = int(current or 0)
        if current > LATEST:
            raise UserError(
                f"the state database has schema version {current}, newer than this leadsync "
                f"understands ({LATEST}); upgrade leadsync or point state_url elsewhere"
            )
        for migration in MIGRATIONS:
            if migration.version > current and migration.apply is not None:
                migration.apply(conn, tables)
            if migration.version > current:
                conn.execute(
                    tables.schema_version.insert(),
                    {
                        "version": migration.version,
                        "description": migration.description,
                        "applied_at": now,
                    },
                )
        return current
