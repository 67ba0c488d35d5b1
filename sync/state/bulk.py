"""Fast many-row INSERT (and upsert) for the hot paths of the store.

SQLAlchemy Core's executemany processes every parameter of every row through its compiler
machinery, which costs more than the database work for a page of 100 records. Here rows go to
the driver after only the column types' own bind processors (UTC datetimes, booleans), memoized
per call because a page's rows share their timestamps, so values are stored exactly as Core
would store them and read back through Core unchanged. A page's rows go in one multi-row
`INSERT ... VALUES (...), (...)` (SQL built once per row count): the sqlite3 driver's
`executemany` steps row by row and hands the GIL back and forth at every step, which costs the
run's other threads (and this one, waiting to get it back) more than the insert itself.
`ON CONFLICT ... DO UPDATE` has the same syntax on SQLite and PostgreSQL; rows of an upsert are
made unique by key first (last one wins), since PostgreSQL refuses to update a row twice in one
statement.

Statements run on a cursor of the driver connection under the caller's SQLAlchemy transaction:
the Connection's per-statement bookkeeping (events, result wrapping) costs about four times
the database work of a 100-id lookup. Driver errors therefore arrive unwrapped
(`sqlite3.Error`, `psycopg.Error`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from typing import Any

import sqlalchemy as sa

#: Rows per multi-row INSERT at most (a 1,000-write ledger batch takes a few statements).
MAX_ROWS = 250


def _parameter_budget(dialect: sa.Dialect) -> int:
    """Bound parameters one statement may carry (SQLite before 3.32 allows only 999)."""
    if dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 32):
        return 999
    return 32766


def parameter_mark(dialect: sa.Dialect) -> str:
    """The driver's placeholder: `?` (sqlite3) or `%s` (psycopg)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def bind_processors(
    table: sa.Table, columns: Sequence[str], dialect: sa.Dialect
) -> list[Callable[[Any], Any] | None]:
    """Each column's bind processor as Core applies it (None where values go as they are).

    `dialect_impl` first: the generic type's processor would hand SQLite naive datetime objects
    for the driver's deprecated adapter to format (slower, and without the microseconds Core
    writes, so stored text would not compare like Core's bound values)."""
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


class BulkInsert:
    """`INSERT INTO table (columns) VALUES (...), ...` for many rows, optionally an upsert: on a
    `conflict`, the `update` columns take the new values, and each `keep` column too unless the
    new value is NULL: then the stored value stays, or where that is NULL as well, the stored
    value of the column `keep` maps it to."""

    def __init__(  # noqa: PLR0913  the table, its columns and dialect, then the upsert's parts
        self,
        table: sa.Table,
        columns: Sequence[str],
        dialect: sa.Dialect,
        *,
        conflict: Sequence[str] = (),
        update: Sequence[str] = (),
        keep: Mapping[str, str] | None = None,
    ) -> None:
        quote = dialect.identifier_preparer.quote
        mark = parameter_mark(dialect)
        processors = bind_processors(table, columns, dialect)
        self.processed = [(i, p) for i, p in enumerate(processors) if p is not None]
        self.head = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "
        )
        self.row = f"({', '.join([mark] * len(columns))})"
        self.tail = ""
        if conflict:
            keys = ", ".join(quote(c) for c in conflict)
            stored = quote(table.name)
            assignments = ", ".join(
                [f"{quote(c)} = excluded.{quote(c)}" for c in update]
                + [
                    f"{quote(c)} = COALESCE(excluded.{quote(c)}, {stored}.{quote(c)}, "
                    f"{stored}.{quote(fallback)})"
                    for c, fallback in (keep or {}).items()
                ]
            )
            self.tail = f" ON CONFLICT ({keys}) DO UPDATE SET {assignments}"
        self.key = [list(columns).index(c) for c in conflict]
        self.max_rows = max(1, min(MAX_ROWS, _parameter_budget(dialect) // len(columns)))
        self.sql: dict[int, str] = {}

    def statement(self, rows: int) -> str:
        """The INSERT for `rows` rows (built once per count)."""
        sql = self.sql.get(rows)
        if sql is None:
            if len(self.sql) >= 64:  # counts vary only at the ends of runs; stay bounded
                self.sql.clear()
            sql = self.sql[rows] = self.head + ", ".join([self.row] * rows) + self.tail
        return sql

    def execute(self, conn: sa.Connection, rows: Iterable[Sequence[Any]]) -> None:
        """Insert `rows` (value tuples in column order)."""
        data: list[tuple[Any, ...]] = []
        memos: list[dict[Any, Any]] = [{} for _ in self.processed]
        for row in rows:
            if not self.processed:
                data.append(tuple(row))
                continue
            values = list(row)
            for (index, process), memo in zip(self.processed, memos, strict=True):
                value = values[index]
                if value is not None:
                    done = memo.get(value)
                    if done is None:
                        done = memo[value] = process(value)
                    values[index] = done
            data.append(tuple(values))
        if not data:
            return
        if self.key:
            key = self.key
            data = list({tuple(row[i] for i in key): row for row in data}.values())
        cursor = driver_cursor(conn)
        try:
            size = self.max_rows
            for start in range(0, len(data), size):
                chunk = data[start : start + size]
                cursor.execute(self.statement(len(chunk)), list(chain.from_iterable(chunk)))
        finally:
            cursor.close()


class KeyedUpdate:
    """`UPDATE table SET c1 = ?, ... WHERE k1 = ? AND ...` of one row through the driver, the
    set values through their columns' bind processors (as `BulkInsert` stores them): the
    statements a run makes on every page (its cursor, its counts) without Core's
    per-statement pipeline, which costs several times the database work of one small UPDATE."""

    def __init__(
        self, table: sa.Table, columns: Sequence[str], keys: Sequence[str], dialect: sa.Dialect
    ) -> None:
        quote = dialect.identifier_preparer.quote
        mark = parameter_mark(dialect)
        self.processors = bind_processors(table, columns, dialect)
        assignments = ", ".join(f"{quote(c)} = {mark}" for c in columns)
        where = " AND ".join(f"{quote(k)} = {mark}" for k in keys)
        self.sql = f"UPDATE {quote(table.name)} SET {assignments} WHERE {where}"

    def execute(self, conn: sa.Connection, values: Sequence[Any], keys: Sequence[Any]) -> int:
        """Set `values` (in column order) on the rows matching `keys`; how many rows matched."""
        params = [
            v if process is None or v is None else process(v)
            for process, v in zip(self.processors, values, strict=True)
        ]
        cursor = driver_cursor(conn)
        try:
            cursor.execute(self.sql, [*params, *keys])
            return int(cursor.rowcount)
        finally:
            cursor.close()


class KeyedIds:
    """`<head> WHERE connection = ? AND kind = ? AND record_id IN (?, ...)` through the driver
    (the key columns qualified by `table` when given).

    Core renders an expanding IN list parameter by parameter on every execution (about 10 us
    per 100 ids); here the SQL is built once per list length and cached.
    """

    def __init__(self, head: str, dialect: sa.Dialect, *, table: str | None = None) -> None:
        quote = dialect.identifier_preparer.quote
        self.mark = parameter_mark(dialect)
        # the key columns qualified by `table`'s name where `head` joins another table
        of = f"{quote(table)}." if table is not None else ""
        self.prefix = (
            f"{head} WHERE {of}{quote('connection')} = {self.mark}"
            f" AND {of}{quote('kind')} = {self.mark} AND {of}{quote('record_id')} IN ("
        )
        self.sql: dict[int, str] = {}

    def execute(
        self, conn: sa.Connection, connection: str, kind: str, ids: Sequence[str]
    ) -> list[Sequence[Any]]:
        """Run the statement for `ids` (at least one) of `connection` and `kind`; its rows."""
        sql = self.sql.get(len(ids))
        if sql is None:
            if len(self.sql) >= 64:  # lengths vary only at the ends of runs; stay bounded
                self.sql.clear()
            sql = self.sql[len(ids)] = self.prefix + ", ".join([self.mark] * len(ids)) + ")"
        cursor = driver_cursor(conn)
        try:
            cursor.execute(sql, (connection, kind, *ids))
            return list(cursor.fetchall()) if cursor.description is not None else []
        finally:
            cursor.close()


class VersionRaise:
    """Raise the versions `written_versions` holds for many `(kind, record_id)` of one
    connection, never lowering one: one multi-row upsert per `MAX_ROWS` rows,
    `INSERT ... ON CONFLICT (key) DO UPDATE SET crm_version = excluded.crm_version WHERE
    <stored> < excluded.crm_version` (the same syntax on SQLite 3.24+ and PostgreSQL)."""

    def __init__(self, table: sa.Table, dialect: sa.Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        mark = parameter_mark(dialect)
        name = quote(table.name)
        version = quote("crm_version")
        key = ", ".join(quote(c) for c in ("connection", "kind", "record_id"))
        self.head = f"INSERT INTO {name} ({key}, {version}) VALUES "
        self.row = f"({mark}, {mark}, {mark}, {mark})"
        self.tail = (
            f" ON CONFLICT ({key}) DO UPDATE SET {version} = excluded.{version}"
            f" WHERE {name}.{version} < excluded.{version}"
        )
        self.max_rows = max(1, min(MAX_ROWS, _parameter_budget(dialect) // 4))
        self.sql: dict[int, str] = {}

    def execute(
        self, conn: sa.Connection, connection: str, rows: Sequence[tuple[str, str, int]]
    ) -> None:
        """Apply `rows` of `(kind, record_id, version)`; a version below the stored one changes
        nothing. A key given twice takes its highest version (PostgreSQL refuses to update a
        row twice in one statement)."""
        best: dict[tuple[str, str], int] = {}
        for kind, record_id, version in rows:
            key = (kind, record_id)
            if version > best.get(key, version - 1):
                best[key] = version
        data = [(connection, kind, record_id, v) for (kind, record_id), v in best.items()]
        cursor = driver_cursor(conn)
        try:
            for start in range(0, len(data), self.max_rows):
                chunk = data[start : start + self.max_rows]
                sql = self.sql.get(len(chunk))
                if sql is None:
                    if len(self.sql) >= 64:  # counts vary only at the ends of runs
                        self.sql.clear()
                    sql = self.sql[len(chunk)] = (
                        self.head + ", ".join([self.row] * len(chunk)) + self.tail
                    )
                cursor.execute(sql, list(chain.from_iterable(chunk)))
        finally:
            cursor.close()


def driver_cursor(conn: sa.Connection) -> Any:
    """A cursor of the driver connection behind `conn` (inside its transaction, if any)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
