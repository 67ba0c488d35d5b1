"""The values the state store takes and returns."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, NamedTuple

import orjson

from scoring.types import ScoreResult

# Datetimes, dates and times are written as `isoformat()` writes them (so payloads can hold
# `scored_at` as is), tuples as arrays, UTF-8 as is (no \u escapes).


def dumps(value: Any) -> str:
    """Compact JSON for payloads and score snapshots (orjson; datetimes in ISO-8601, `str()`
    for other values JSON has no type for, non-string keys as strings)."""
    try:
        return orjson.dumps(value, default=str).decode()
    except orjson.JSONEncodeError:
        pass
    try:
        # Non-string keys: orjson's option for them doubles the time of every call, so it is
        # used only for the values that need it.
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        # What orjson refuses and json takes (integers past 64 bits).
        return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Parse JSON written by `dumps` (or by the standard library before it)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # NaN and Infinity, which only the standard library reads


def encode_result(result: ScoreResult) -> str:
    """`result` as JSON that `ScoreResult.from_dict` reads back equal: the `to_dict` form
    without the keys holding their defaults (None, empty), which most contributions carry;
    about a third shorter and faster to encode for every stored score."""
    contributions = []
    for c in result.contributions:
        item: dict[str, object] = {"rule": c.rule, "dimension": c.dimension, "points": c.points}
        if c.detail:
            item["detail"] = c.detail
        if c.group is not None:
            item["group"] = c.group
        if c.age_days is not None:
            item["age_days"] = c.age_days
        contributions.append(item)
    data: dict[str, object] = {
        "fit": result.fit,
        "interest": result.interest,
        "score": result.score,
        "grade": result.grade,
        "tier": result.tier,
        "label": result.label,
        "qualified": result.qualified,
        "contributions": contributions,
        "reasons": result.reasons,
        "completeness": result.completeness,
        "model_version": result.model_version,
        "fit_raw": result.fit_raw,
        "interest_raw": result.interest_raw,
    }
    if result.disqualified_reason is not None:
        data["disqualified_reason"] = result.disqualified_reason
    if result.changes:
        data["changes"] = result.changes
    if result.qualified_at is not None:
        data["qualified_at"] = result.qualified_at.isoformat()
    return dumps(data)


class ScoreRow(NamedTuple):
    """One row of the latest-scores table with its result already encoded (the outbox payload
    reuses the same text)."""

    record_id: str
    score: int
    label: str
    qualified: bool
    result: str
    inputs: str | None = None
    crm_version: int | None = None
    model_version: str | None = None
    changed_version: int | None = None
    #: whether the values people read of the result (`account_values`) differ from the stored
    #: result's (false: the row keeps its `values_changed_at`)
    values_changed: bool = True

    @classmethod
    def of(  # noqa: PLR0913  a row's parts, each its column
        cls,
        record_id: str,
        result: ScoreResult,
        inputs: str | None = None,
        crm_version: int | None = None,
        changed_version: int | None = None,
        *,
        values_changed: bool = True,
    ) -> ScoreRow:
        """The row of `result` for `record_id`, with its input snapshot text, the CRM
        modification time (epoch ms) of the record version it scored, the latest such time
        that was not our own write (`PreviousRow.changed_version`) and whether the values
        people read of it changed."""
        return cls(
            record_id,
            result.score,
            result.label,
            result.qualified,
            encode_result(result),
            inputs,
            crm_version,
            result.model_version,
            changed_version,
            values_changed,
        )


class PreviousRow(NamedTuple):
    """What the state store holds for one record: result JSON, input snapshot text, the CRM
    version scored (epoch ms, raised by our own writes), the result's model version, and the
    latest CRM version scored that was newer than the stored one (someone else's change, not
    the version our own write produced; None for rows stored before migration 6)."""

    result: str
    inputs: str | None
    crm_version: int | None
    model_version: str | None
    changed_version: int | None = None


class RunStatus(StrEnum):
    """Where a run stands or how it ended (stored as its value)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    #: a stop was requested; the cursor is saved
    INTERRUPTED = "interrupted"
    #: the daily budget ran out after some progress; the cursor is saved
    PAUSED = "paused"
    #: could not finish; the run's error says why
    FAILED = "failed"
    #: the process ended mid-run (found by the next run)
    CRASHED = "crashed"
    #: another run of the connection held the lock; nothing done (never stored)
    BUSY = "busy"


@dataclass
class RunCounts:
    """What a run did; accumulated page by page and stored with the run.

    `written`: writes the CRM applied (a write retried and then applied counts once, here);
    `failed`: writes the run gave up on (dead-lettered, or dropped because the record is gone);
    `retried`: writes sent again after the CRM did not take them (a retryable error or an
    outage; each also ends `written` or `failed`, or stays in the outbox for the next run);
    `api_calls`: every request sent, `rate_limited` of them refused for rate (429, Salesforce
    `REQUEST_LIMIT_EXCEEDED`) and sent again; `answered_calls` the rest.
    """

    pages: int = 0
    read: int = 0
    scored: int = 0
    planned: int = 0
    written: int = 0
    unchanged: int = 0
    failed: int = 0
    dead_lettered: int = 0
    retried: int = 0
    api_calls: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, int]:
        """Counts by name."""
        return asdict(self)

    @property
    def answered_calls(self) -> int:
        """API calls the CRM answered (every call sent but those refused for rate)."""
        return self.api_calls - self.rate_limited


COUNT_NAMES = tuple(f.name for f in fields(RunCounts))


@dataclass(frozen=True)
class StoredZone:
    """A connection's CRM account time zone as last looked up: the CRM's name for it, the fixed
    UTC offset kept for a name this machine's zone database lacks, and when it was seen."""

    time_zone: str
    utc_offset_ms: int | None
    seen_at: datetime


@dataclass(frozen=True)
class RunRow:
    """One stored run."""

    id: int
    connection: str
    kind: str
    mode: str
    dry_run: bool
    status: RunStatus
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
    resume_started: datetime | None = None
    high_water: datetime | None = None


@dataclass(frozen=True)
class OutboxEntry:
    """A planned write. `payload` is JSON text of `{"new", "old", "reasons", "contributions"}`:
    the values to write and the CRM's values before (JSON-safe: datetimes as ISO strings), why
    the change is material, and the score's contributions as `encode_result` writes them (the
    rest of the result is in `new`); serialized once and copied to the ledger."""

    record_id: str
    payload: str
    model_version: str
    run_id: int = 0
    attempts: int = 0

    @classmethod
    def build(  # noqa: PLR0913  one ledger row, keyword-only
        cls,
        record_id: str,
        *,
        new: Mapping[str, Any],
        old: Mapping[str, Any],
        reasons: Sequence[str],
        contributions: str,
        model_version: str,
    ) -> OutboxEntry:
        """An entry from its parts; `contributions` is JSON text (`contributions_text`),
        spliced in as is."""
        head = dumps({"new": new, "old": old, "reasons": reasons})
        return cls(record_id, f'{head[:-1]},"contributions":{contributions}}}', model_version)

    def data(self) -> dict[str, Any]:
        """The payload parsed."""
        parsed: dict[str, Any] = loads(self.payload)
        return parsed


_CONTRIBUTIONS = '"contributions":'
_AFTER_CONTRIBUTIONS = ',"reasons":'


def contributions_text(result_json: str) -> str:
    """The `contributions` array of a result `encode_result` wrote, as JSON text: cut out, not
    parsed and written again. `encode_result` writes `reasons` right after `contributions`, and
    a quote inside a string value is escaped, so neither marker can occur within a value."""
    start = result_json.find(_CONTRIBUTIONS)
    end = result_json.find(_AFTER_CONTRIBUTIONS, start)
    if start < 0 or end < 0:  # not `encode_result`'s layout
        return dumps(loads(result_json).get("contributions") or [])
    return result_json[start + len(_CONTRIBUTIONS) : end]


def payload_contributions(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The contributions behind a planned write: rule, dimension and points each, with detail,
    group and age in days where the contribution has them (payloads written before
    `contributions` was kept alone carry the whole `result`)."""
    if "contributions" in payload:
        return list(payload["contributions"])
    result = payload.get("result") or {}
    return [
        {
            "rule": c["rule"],
            "dimension": c["dimension"],
            "points": c["points"],
            "detail": c.get("detail", ""),
        }
        for c in result.get("contributions", ())
    ]


@dataclass(frozen=True)
class WriteOutcome:
    """What became of one outbox entry after a write call: `applied`; `retry` (stays in the
    outbox with one more attempt); `paused` (stays, the CRM was unavailable: no attempt
    counted); `dead_lettered`; `gone` (the record no longer exists: the write is dropped and an
    open dead letter resolved)."""

    entry: OutboxEntry
    status: Literal["applied", "retry", "paused", "dead_lettered", "gone"]
    error_code: str | None = None
    error: str | None = None
    crm_version: int | None = None  # the record's modification time (ms) after the write
    #: times this attempt's write was sent again (by the connector's retries, or after an
    #: outage pause): counted in `RunCounts.retried`, not stored with the outcome
    resent: int = 0


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
    """One attempted write: old and new values, the contributions behind them, the outcome."""

    id: int
    run_id: int
    record_id: str
    status: str
    old_values: Mapping[str, Any]
    new_values: Mapping[str, Any]
    contributions: Sequence[Mapping[str, Any]]
    reasons: Sequence[str]
    model_version: str
    error_code: str | None
    error: str | None
    created_at: datetime

    @property
    def extra(self) -> dict[str, Any]:
        """`error_code`, `reasons`, `model_version` and `contributions` by name."""
        return {
            "error_code": self.error_code,
            "reasons": list(self.reasons),
            "model_version": self.model_version,
            "contributions": list(self.contributions),
        }
