"""An in-memory CRM behind the Connector protocol, a tiny model and a deterministic scorer.

`FakeCRM` really paginates: full reads page by record id with an offset cursor, incremental
reads order by (updated_at, id) and resume after the last pair seen, like a search API. Writes
set output values and bump `updated_at`, so our own writes come back on the next incremental
read. Faults are injected per call (transient errors, a 400 over one record, a hook) and per record
(rejected, flaky, unavailable); a deleted record's write comes back `GONE`. Each per-record
failure carries the `WriteAction` a real connector would give it, and a whole-batch 400 is split
by the same `connectors.batching.isolate_rejected` the connectors use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.base import (
    ApiUsage,
    Change,
    FieldStatus,
    MemberRequest,
    OutputField,
    Page,
    ReadHints,
    SchemaReport,
    WriteAction,
    WriteResult,
)
from connectors.batching import isolate_rejected
from connectors.errors import RequestRejected, TransientError
from scoring.spec import DimensionSpec, ModelSpec
from scoring.types import Contribution, Record, ScoreResult

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeRecord:
    id: str
    properties: dict[str, object]
    updated_at: datetime
    outputs: dict[str, object] = field(default_factory=dict)


class FakeCRM:
    """A paginating fake CRM; `crm_now` advances one second per write call."""

    crm = "fake"
    concurrent_writes = False

    def __init__(self, n: int = 250, *, page_size: int = 50, seed_points: int = 7) -> None:
        self.page_size = page_size
        self.n = n
        self.crm_now = BASE
        self.records: dict[str, FakeRecord] = {}
        for i in range(n):
            rid = f"{i + 1:05d}"
            points = (i * seed_points) % 101
            self.records[rid] = FakeRecord(
                rid, {"points": str(points)}, BASE - timedelta(days=30) + timedelta(minutes=i)
            )
        self._usage = ApiUsage()
        self.read_calls = 0
        self.pages_served = 0
        self.write_calls = 0
        self.write_sizes: list[int] = []
        self.read_failures = 0  # the next N read calls raise TransientError
        self.write_failures = 0  # the next N write calls raise TransientError
        self.reject: dict[str, str] = {}  # record id -> permanent per-record error message
        self.flaky: dict[str, int] = {}  # record id -> remaining transient per-record failures
        self.unavailable: dict[str, int] = {}  # record id -> remaining "CRM unavailable" results
        self.batch_reject: set[str] = set()  # ids that make the CRM refuse a whole write (400)
        self.raise_on_read: Exception | None = None
        self.before_write: Callable[[int, Sequence[Change]], None] | None = None
        self.after_write: Callable[[int, Sequence[Change]], None] | None = None

    # test helpers -----------------------------------------------------------------------------

    def touch(self, record_id: str, **properties: object) -> None:
        """A user edits a record in the CRM."""
        self.crm_now += timedelta(seconds=1)
        rec = self.records[record_id]
        rec.properties.update(properties)
        rec.updated_at = self.crm_now

    def delete(self, record_id: str) -> None:
        """A user deletes a record in the CRM (a no-op when it is gone already)."""
        self.records.pop(record_id, None)

    def state(self) -> dict[str, dict[str, object]]:
        """Output values of every record, without the time-dependent `scored_at`."""
        return {
            rid: {k: v for k, v in rec.outputs.items() if k != "scored_at"}
            for rid, rec in self.records.items()
        }

    # Connector protocol -----------------------------------------------------------------------

    @property
    def usage(self) -> ApiUsage:
        return self._usage

    def ensure_schema(
        self, kind: str, outputs: Sequence[OutputField], *, apply: bool
    ) -> SchemaReport:
        return SchemaReport(kind, tuple(FieldStatus(o.name, o.name, "ok") for o in outputs))

    def _record(self, rec: FakeRecord, kind: str) -> Record:
        return Record(
            rec.id, kind, dict(rec.properties), (), rec.updated_at, outputs=dict(rec.outputs)
        )

    def iter_pages(
        self,
        kind: str,
        fields: Collection[str],
        event_types: Collection[str],
        *,
        since: datetime | None,
        resume: str | None = None,
        hints: ReadHints | None = None,
        members: MemberRequest | None = None,
    ) -> Iterator[Page]:
        position = json.loads(resume) if resume else None
        while True:
            self._call()
            if self.raise_on_read is not None:
                raise self.raise_on_read
            if self.read_failures:
                self.read_failures -= 1
                self._usage.errors += 1
                raise TransientError("503 Service Unavailable")
            if since is None:
                ordered = sorted(self.records.values(), key=lambda r: r.id)
                start = position or 0
                batch = ordered[start : start + self.page_size]
                next_position: object = start + len(batch)
            else:
                ordered = sorted(
                    (r for r in self.records.values() if r.updated_at >= since),
                    key=lambda r: (r.updated_at, r.id),
                )
                if position:
                    after = (datetime.fromisoformat(position[0]), position[1])
                    ordered = [r for r in ordered if (r.updated_at, r.id) > after]
                batch = ordered[: self.page_size]
                last = batch[-1] if batch else None
                next_position = [last.updated_at.isoformat(), last.id] if last else position
            if not batch:
                return
            position = next_position
            self.pages_served += 1
            yield Page([self._record(r, kind) for r in batch], json.dumps(position))
            if len(batch) < self.page_size:
                return

    def write_parts(self, changes: Sequence[Change]) -> list[Sequence[Change]]:
        return [changes]  # one call per batch the engine hands over

    def write(self, kind: str, changes: Sequence[Change], *, journal=None) -> list[WriteResult]:
        return isolate_rejected(self._write_call, changes, _refused)

    def _write_call(self, changes: Sequence[Change]) -> list[WriteResult]:
        self._call()
        self.write_calls += 1
        if self.write_failures:
            self.write_failures -= 1
            self._usage.errors += 1
            raise TransientError("502 Bad Gateway")
        if any(c.record_id in self.batch_reject for c in changes):
            raise RequestRejected("400 one input was invalid", 400, "INVALID")
        if self.before_write is not None:
            self.before_write(self.write_calls, changes)
        self.write_sizes.append(len(changes))
        self.crm_now += timedelta(seconds=1)
        results = []
        for change in changes:
            rid = change.record_id
            if rid in self.reject:
                results.append(
                    WriteResult(rid, WriteAction.DEAD_LETTER, "INVALID", self.reject[rid])
                )
                continue
            if self.flaky.get(rid):
                self.flaky[rid] -= 1
                results.append(WriteResult(rid, WriteAction.RETRY, "TIMEOUT", "timed out"))
                continue
            if self.unavailable.get(rid):
                self.unavailable[rid] -= 1
                results.append(
                    WriteResult(rid, WriteAction.PAUSE_OUTAGE, "UNAVAILABLE", "try later")
                )
                continue
            rec = self.records.get(rid)
            if rec is None:
                results.append(WriteResult(rid, WriteAction.GONE, "NOT_FOUND", "deleted"))
                continue
            rec.outputs = {k: _crm_value(v) for k, v in change.values.items()}
            rec.updated_at = self.crm_now
            results.append(WriteResult(rid, WriteAction.APPLIED))
        if self.after_write is not None:
            self.after_write(self.write_calls, changes)
        return results

    def fetch(
        self,
        kind: str,
        record_ids: Sequence[str],
        fields: Collection[str],
        event_types: Collection[str],
        members: MemberRequest | None = None,
    ) -> list[Record]:
        self._call()
        return [self._record(self.records[i], kind) for i in record_ids if i in self.records]

    def close(self) -> None:
        pass

    def _call(self) -> None:
        self._usage.calls += 1


def _refused(change: Change, exc: RequestRejected) -> WriteResult:
    return WriteResult(change.record_id, WriteAction.DEAD_LETTER, exc.code, str(exc))


def _crm_value(value: object) -> object:
    """Values come back as strings, as HubSpot returns them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


FAKE_SPEC = ModelSpec("fake", "contact", DimensionSpec(), DimensionSpec())


@dataclass(frozen=True)
class FakeModel:
    name: str = "fake"
    object: str = "contact"
    version: str = "v1"
    properties: frozenset[str] = frozenset({"points"})
    event_types: frozenset[str] = frozenset()
    grades: tuple[str, ...] = ("A", "B", "C", "D")
    labels: tuple[str, ...] = ("A1", "B1", "C2", "D3")
    qualify_lifecycle_stage: str | None = None
    spec: ModelSpec = FAKE_SPEC
    source: str | None = None


def fake_score(
    record: Record, model: object, now: datetime, previous: ScoreResult | None
) -> ScoreResult:
    """score = the record's `points` property; grade by 25-point bands; qualified at 60+."""
    try:
        points = int(str(record.properties.get("points")))
    except ValueError:
        points = 0
    points = max(0, min(points, 100))
    grade = "A" if points >= 75 else "B" if points >= 50 else "C" if points >= 25 else "D"
    label = {"A": "A1", "B": "B1", "C": "C2", "D": "D3"}[grade]
    return ScoreResult(
        fit=points,
        interest=points,
        score=points,
        grade=grade,
        tier=label[1],
        label=label,
        qualified=points >= 60,
        disqualified_reason=None,
        contributions=(Contribution("Points", "fit", float(points), "points property"),),
        reasons=(f"Points +{points}",),
        completeness=1.0,
        model_version="v1",
    )


#: A real (properties-only) scoring model for `FakeCRM` records, for tests that use `scoring`.
POINTS_MODEL = """\
name: points
object: contact
fit:
  max: 100
  rules:
    - name: Points
      property: points
      bands: [{min: 0, max: 24, points: 10}, {min: 25, max: 74, points: 50}, {min: 75, points: 90}]
interest:
  max: 100
  rules:
    - {name: Points interest, property: points, bands: [{min: 50, points: 60}]}
grades:
  fit: {A: 75, B: 50, C: 25, D: 0}
  interest: {1: 60, 2: 30, 3: 0}
"""
