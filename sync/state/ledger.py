"""Outbox, ledger and dead letters: the write side of the state store.

An outbox entry is a planned write not yet confirmed by the CRM. `record_writes` turns a batch
of outcomes into ledger rows (append-only, one per attempt) and, in the same transaction, takes
applied, dead-lettered and gone entries out of the outbox, counts another attempt on retried ones
(paused ones keep theirs: the CRM was down, not the record at fault) and opens, updates or
resolves dead letters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from config.redaction import redact, redact_optional
from sync.state.bulk import BulkInsert, KeyedIds, VersionRaise
from sync.state.records import (
    DeadLetter,
    LedgerRow,
    OutboxEntry,
    WriteOutcome,
    payload_contributions,
)

if TYPE_CHECKING:
    from sync.state.schema import Tables

_LEDGER_STATUS = {
    "applied": "applied",
    "retry": "failed",
    "paused": "failed",
    "dead_lettered": "dead_lettered",
    "gone": "gone",
}
#: How a dead letter is closed when its record turns out to be gone.
GONE_RESOLUTION = "record no longer exists"
_KEPT = frozenset({"retry", "paused"})


class LedgerMixin:
    """The outbox/ledger/dead-letter methods of `StateStore`."""

    engine: sa.Engine
    t: Tables
    _ledger_insert: BulkInsert
    _outbox_delete_ids: KeyedIds
    _outbox_retry: sa.Update
    _version_raise: VersionRaise
    _dead_open: sa.Select[Any]

    transaction: Callable[[], AbstractContextManager[sa.Connection]]  # StateStore's

    def pending(self, connection: str, kind: str, *, limit: int | None = None) -> list[OutboxEntry]:
        """Outbox entries waiting to be written, oldest first."""
        o = self.t.outbox
        query = (
            sa.select(o.c.record_id, o.c.payload, o.c.model_version, o.c.run_id, o.c.attempts)
            .where(o.c.connection == connection, o.c.kind == kind)
            .order_by(o.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [OutboxEntry(*row) for row in conn.execute(query)]

    def pending_count(self, connection: str, kind: str | None = None) -> int:
        """How many writes wait in the outbox."""
        o = self.t.outbox
        query = sa.select(sa.func.count()).where(o.c.connection == connection)
        if kind is not None:
            query = query.where(o.c.kind == kind)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def record_writes(  # noqa: PLR0913  one batch's outcomes and where they belong
        self,
        run_id: int,
        connection: str,
        kind: str,
        outcomes: Sequence[WriteOutcome],
        *,
        now: datetime,
        score_kinds: Sequence[str] = (),
    ) -> None:
        """Append one ledger row per outcome; applied, dead-lettered and gone entries leave the
        outbox, retried ones stay with one more attempt, paused ones stay as they are; dead
        letters are opened or updated, and an applied (or gone) write resolves the record's open
        dead letter. An applied write raises the version scored of the record's stored results
        under `kind` and `score_kinds` (a model group's other models)."""
        if not outcomes:
            return
        d = self.t.dead_letters
        with self.transaction() as conn:
            self._ledger_insert.execute(
                conn,
                (
                    (
                        run_id, connection, kind, x.entry.record_id, _LEDGER_STATUS[x.status],
                        x.entry.payload, x.entry.model_version, x.error_code,
                        redact_optional(x.error), now,
                    )
                    for x in outcomes
                ),
            )  # fmt: skip
            versions = [
                (k, x.entry.record_id, x.crm_version)
                for x in outcomes
                if x.status == "applied" and x.crm_version is not None
                for k in (kind, *score_kinds)
            ]
            if versions:
                self._version_raise.execute(conn, connection, versions)
            done = [x.entry.record_id for x in outcomes if x.status not in _KEPT]
            key = {"p_conn": connection, "p_kind": kind}
            if done:
                self._outbox_delete_ids.execute(conn, connection, kind, done)
            retry = [x.entry.record_id for x in outcomes if x.status == "retry"]
            if retry:
                conn.execute(self._outbox_retry, {**key, "p_ids": retry})
            dead = [x for x in outcomes if x.status == "dead_lettered"]
            if dead:
                self._open_dead_letters(conn, run_id, connection, kind, dead, now=now)
            # Most batches meet no open dead letter: one indexed probe instead of an UPDATE
            # with a thousand ids to render.
            open_letters: bool | None = True if dead else None
            for status, resolution in (("applied", "written"), ("gone", GONE_RESOLUTION)):
                ids = [x.entry.record_id for x in outcomes if x.status == status]
                if not ids:
                    continue
                if open_letters is None:
                    open_letters = conn.execute(self._dead_open, key).first() is not None
                if open_letters:
                    conn.execute(
                        d.update()
                        .where(
                            d.c.connection == connection,
                            d.c.kind == kind,
                            d.c.record_id.in_(ids),
                            d.c.resolved_at.is_(None),
                        )
                        .values(resolved_at=now, updated_at=now, resolution=resolution)
                    )

    def _open_dead_letters(  # noqa: PLR0913  one dead-letter row, keyword-only
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
        existing = dict(
            conn.execute(
                sa.select(d.c.record_id, d.c.id).where(
                    d.c.connection == connection,
                    d.c.kind == kind,
                    d.c.record_id.in_(ids),
                    d.c.resolved_at.is_(None),
                )
            ).all()
        )
        for x in dead:
            values = {
                "run_id": run_id,
                "payload": x.entry.payload,
                "error_code": x.error_code,
                "error": redact(x.error or "rejected by the CRM"),
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
            rows = conn.execute(query).mappings().all()
        out = []
        for row in rows:
            payload = json.loads(row["payload"])
            out.append(
                LedgerRow(
                    id=row["id"],
                    run_id=row["run_id"],
                    record_id=row["record_id"],
                    status=row["status"],
                    old_values=payload["old"],
                    new_values=payload["new"],
                    contributions=payload_contributions(payload),
                    reasons=payload["reasons"],
                    model_version=row["model_version"],
                    error_code=row["error_code"],
                    error=row["error"],
                    created_at=row["created_at"],
                )
            )
        return out

    def applied_count(self, connection: str, kind: str) -> int:
        """How many applied ledger rows `connection`+`kind` has."""
        lg = self.t.ledger
        query = sa.select(sa.func.count()).where(
            lg.c.connection == connection, lg.c.kind == kind, lg.c.status == "applied"
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

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
                    new_values=json.loads(row["payload"])["new"],
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
        with self.transaction() as conn:
            conn.execute(
                d.update()
                .where(d.c.id.in_(list(ids)))
                .values(resolved_at=now, updated_at=now, resolution=resolution)
            )

    # -- server-side write jobs and calls in flight (crash reconciliation) -----------------------

    def note_write_job(
        self, connection: str, kind: str, job: str, rows: Mapping[str, str], *, now: datetime
    ) -> None:
        """Durably note a write job the CRM created (or a call about to go), with a digest of
        each record's row, before any of its data is sent."""
        with self.transaction() as conn:
            conn.execute(
                self.t.write_jobs.insert().values(
                    connection=connection,
                    kind=kind,
                    job=job,
                    rows=json.dumps(dict(rows), separators=(",", ":")),
                    created_at=now,
                )
            )

    def write_jobs(self, connection: str, kind: str) -> list[tuple[str, dict[str, str]]]:
        """Noted write jobs not yet settled, oldest first: (job id, {record id: digest})."""
        w = self.t.write_jobs
        query = (
            sa.select(w.c.job, w.c.rows)
            .where(w.c.connection == connection, w.c.kind == kind)
            .order_by(w.c.created_at, w.c.job)
        )
        with self.engine.connect() as conn:
            return [(job, json.loads(rows)) for job, rows in conn.execute(query)]

    def settle_write_jobs(self, connection: str, kind: str) -> int:
        """Forget the noted jobs none of whose records still wait in the outbox (their
        outcomes are in the ledger); returns how many are left."""
        w, o = self.t.write_jobs, self.t.outbox
        left = 0
        with self.transaction() as conn:
            jobs = conn.execute(
                sa.select(w.c.job, w.c.rows).where(w.c.connection == connection, w.c.kind == kind)
            ).all()
            for job, rows in jobs:
                ids = list(json.loads(rows))
                waiting = any(
                    conn.execute(
                        sa.select(sa.func.count()).where(
                            o.c.connection == connection,
                            o.c.kind == kind,
                            o.c.record_id.in_(ids[i : i + 500]),
                        )
                    ).scalar_one()
                    for i in range(0, len(ids), 500)
                )
                if waiting:
                    left += 1
                    continue
                conn.execute(
                    w.delete().where(w.c.connection == connection, w.c.kind == kind, w.c.job == job)
                )
        return left
