"""Fast many-row INSERT (and upsert) for the hot paths of the store.

SQLAlchemy Core's executemany processes every parameter of every row through its compiler
machinery, which costs more than the database work for a page of 100 records. Here the SQL is
built once per statement and rows go to the driver's `executemany` after only the column
types' own bind processors (UTC datetimes, booleans), memoized per call because a page's rows
share their timestamps, so values are stored exactly as Core would store them and read back
through Core unchanged. `ON CONFLICT ... DO UPDATE` has the same syntax on SQLite and
PostgreSQL.

Statements run on a cursor of the driver connection under the caller's SQLAlchemy transaction:
the Connection's per-statement bookkeeping (events, result wrapping) costs about four times
the database work of a 100-id lookup. Driver errors therefore arrive unwrapped
(`sqlite3.Error`, `psycopg.Error`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa


class BulkInsert:
    """`INSERT INTO table (columns) VALUES (...)` for many rows, optionally an upsert."""

    def __init__(
        self,
        table: sa.Table,
        columns: Sequence[str],
        dialect: sa.Dialect,
        *,
        conflict: Sequence[str] = (),
        update: Sequence[str] = (),
    ) -> None:
        quote = dialect.identifier_preparer.quote
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        # `dialect_impl` first: the generic type's processor would hand SQLite naive datetime
        # objects for the driver's deprecated adapter to format (slower, and without the
        # microseconds Core writes, so stored text would not compare like Core's bound values).
        processors: list[Callable[[Any], Any] | None] = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        ]
        self.processed = [(i, p) for i, p in enumerate(processors) if p is not None]
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )
        if conflict:
            keys = ", ".join(quote(c) for c in conflict)
            assignments = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update)
            self.sql += f" ON CONFLICT ({keys}) DO UPDATE SET {assignments}"

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
        if data:
            cursor = driver_cursor(conn)
            try:
                cursor.executemany(self.sql, data)
            finally:
                cursor.close()


class KeyedIds:
    """`<head> WHERE connection = ? AND kind = ? AND record_id IN (?, ...)` through the driver.

    Core renders an expanding IN list parameter by parameter on every execution (about 10 us
    per 100 ids); here the SQL is built once per list length and cached.
    """

    def __init__(self, head: str, dialect: sa.Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.prefix = (
            f"{head} WHERE {quote('connection')} = {self.mark} AND {quote('kind')} = {self.mark}"
            f" AND {quote('record_id')} IN ("
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


def driver_cursor(conn: sa.Connection) -> Any:
    """A cursor of the driver connection behind `conn` (inside its transaction, if any)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
