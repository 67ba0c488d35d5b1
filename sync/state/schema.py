"""The state store's tables (SQLAlchemy Core), named with a configurable prefix.

runs          one row per run: connection, kind, mode, status, counts, error
cursors       per connection+kind: the completed watermark and the position of a run in flight
outbox        planned writes not yet confirmed by the CRM (drained first by the next run)
ledger        one append-only row per attempted write: old and new values, contributions
dead_letters  records the CRM rejected permanently, until `retry-dead-letters` resolves them
scores        the latest score result per record (previous result for the next scoring) and
              the inputs the model read to compute it (`preview --from-state` rescores them)
write_jobs    server-side write jobs noted before their upload (crash reconciliation)
account_zones per connection: the time zone the CRM account's day runs in, as last learned
api_calls     the API calls every command spent on a connection, recorded in batches as they go
schema_version  applied migrations (see `sync.state.migrations`)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the state store; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Tables:
    """The tables of one store, under one prefix."""

    metadata: sa.MetaData
    runs: sa.Table
    cursors: sa.Table
    outbox: sa.Table
    ledger: sa.Table
    dead_letters: sa.Table
    scores: sa.Table
    schema_version: sa.Table
    write_jobs: sa.Table
    account_zones: sa.Table
    written_versions: sa.Table
    api_calls: sa.Table


def _key_columns() -> list[Any]:
    return [
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
    ]


def build_tables(prefix: str) -> Tables:
    """The current schema with every table name prefixed by `prefix`."""
    md = sa.MetaData()
    p = prefix
    counts = [
        sa.Column(name, sa.Integer, nullable=False, server_default="0")
        for name in (
            "pages",
            "read",
            "scored",
            "planned",
            "written",
            "unchanged",
            "failed",
            "dead_lettered",
            "retried",  # migration 7
            "api_calls",
            "rate_limited",
        )
    ]
    runs = sa.Table(
        f"{p}runs",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_key_columns(),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("model_version", sa.String(80)),
        *counts,
        sa.Column("error", sa.Text),
        sa.Index(f"{p}runs_by_connection", "connection", "started_at"),
    )
    cursors = sa.Table(
        f"{p}cursors",
        md,
        *_key_columns(),
        sa.Column("watermark", UTCDateTime),
        sa.Column("resume", sa.Text),
        sa.Column("resume_mode", sa.String(16)),
        sa.Column("resume_since", UTCDateTime),
        sa.Column("resume_run_id", sa.Integer),
        sa.Column("resume_started", UTCDateTime),
        sa.Column("high_water", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("connection", "kind"),
    )
    outbox = sa.Table(
        f"{p}outbox",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_key_columns(),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("model_version", sa.String(80), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Index(f"{p}outbox_by_record", "connection", "kind", "record_id", unique=True),
    )
    ledger = sa.Table(
        f"{p}ledger",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        *_key_columns(),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("model_version", sa.String(80), nullable=False),
        sa.Column("error_code", sa.String(80)),
        sa.Column("error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Index(f"{p}ledger_by_record", "connection", "kind", "record_id"),
        sa.Index(f"{p}ledger_by_time", "created_at"),
    )
    dead_letters = sa.Table(
        f"{p}dead_letters",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_key_columns(),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("error_code", sa.String(80)),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime),
        sa.Column("resolution", sa.String(200)),
        sa.Index(f"{p}dead_letters_open", "connection", "kind", "resolved_at"),
    )
    scores = sa.Table(
        f"{p}scores",
        md,
        *_key_columns(),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("qualified", sa.Boolean, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("scored_at", UTCDateTime, nullable=False),
        sa.Column("inputs", sa.Text),  # migration 2; NULL for results stored before it
        # migration 3: the CRM modification time (epoch ms) of the record version scored (the
        # one our own write produced is kept apart, `written_versions`), and the model version
        # of `result`
        sa.Column("crm_version", sa.BigInteger),
        sa.Column("model_version", sa.String(32)),
        # migration 6: the latest version scored that was newer than the stored one (a change
        # of someone else's, never raised by our own write): `PreviousRow.changed_version`
        sa.Column("changed_version", sa.BigInteger),
        # migration 10: when the values a person's rules read of this result
        # (`scoring.account_link.account_values`) last changed; a row saved again with the same
        # values (its inputs moved) keeps it
        sa.Column("values_changed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("connection", "kind", "record_id"),
    )
    schema_version = sa.Table(
        f"{p}schema_version",
        md,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("applied_at", UTCDateTime, nullable=False),
    )
    write_jobs = write_jobs_table(md, p)
    account_zones = account_zones_table(md, p)
    written_versions = written_versions_table(md, p)
    api_calls = api_calls_table(md, p)
    return Tables(
        md, runs, cursors, outbox, ledger, dead_letters, scores, schema_version, write_jobs,
        account_zones, written_versions, api_calls,
    )  # fmt: skip


def api_calls_table(md: sa.MetaData, prefix: str) -> sa.Table:
    """Migration 9: the API calls each command spent on a connection, one row per batch
    recorded while the calls go (`sync.call_log.CallLog`): `command` is the leadsync command
    (`sync`, `run`, `backtest`, ...), `run_id` the run they belong to (NULL for a tool's, or a
    command's outside its runs). The daily budgets and `status` sum these rows; a run's own
    count (`runs.api_calls`) is stored when it ends, or summed from here for a crashed run."""
    return sa.Table(
        f"{prefix}api_calls",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("connection", sa.String(64), nullable=False),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("calls", sa.Integer, nullable=False),
        sa.Column("rate_limited", sa.Integer, nullable=False, server_default="0"),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Index(f"{prefix}api_calls_by_time", "connection", "recorded_at"),
        sa.Index(f"{prefix}api_calls_by_run", "run_id"),
    )


def written_versions_table(md: sa.MetaData, prefix: str) -> sa.Table:
    """Migration 8: per record, the CRM modification time (epoch ms) our own latest applied
    write produced. The version a stored result covers is the later of this and the scores
    row's `crm_version` (the version read); kept apart so that settling a write touches one
    small row instead of rewriting the record's whole scores row (result and inputs, about 1 KB)
    a second time. Without a rowid on SQLite: the key is the row."""
    return sa.Table(
        f"{prefix}written_versions",
        md,
        *_key_columns(),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("crm_version", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("connection", "kind", "record_id"),
        sqlite_with_rowid=False,
    )


def account_zones_table(md: sa.MetaData, prefix: str) -> sa.Table:
    """Migration 5: the time zone each connection's CRM account counts its day in (HubSpot's
    daily limit resets at the account's midnight), as the connector last looked it up, so later
    processes count the day's calls from that midnight without asking again. `utc_offset_ms` is
    the fixed offset the CRM reported, kept only for a name this machine's zone database lacks."""
    return sa.Table(
        f"{prefix}account_zones",
        md,
        sa.Column("connection", sa.String(64), primary_key=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("utc_offset_ms", sa.BigInteger),
        sa.Column("seen_at", UTCDateTime, nullable=False),
    )


def write_jobs_table(md: sa.MetaData, prefix: str) -> sa.Table:
    """Migration 4: server-side write jobs (Salesforce Bulk API) and composite calls
    (`composite:` ids) noted before their data went out, with a digest of each record's row, so
    a run killed mid-job or mid-call reconciles them instead of sending its records again."""
    return sa.Table(
        f"{prefix}write_jobs",
        md,
        *_key_columns(),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("rows", sa.Text, nullable=False),  # JSON {record_id: digest}
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("connection", "kind", "job"),
    )
