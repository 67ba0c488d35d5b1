"""Which score results are worth a write: the material-change plan.

A record is written when it has never been scored, when its grade, label or qualification
changed, or when its fit, interest or score moved by at least `min_points_change` points against
the values the CRM holds now (`Record.outputs`, coerced from raw CRM values). Anything else
(reasons reworded, a one-point drift) costs no API call.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from scoring.types import Record, ScoreResult

NUMERIC = ("fit", "interest", "score")
_TRUE = {"true", "1", "yes", "y", "t", "on"}
_FALSE = {"false", "0", "no", "n", "f", "off"}


class Current(NamedTuple):
    """A record's output values as the CRM holds them, coerced; None when absent or unreadable."""

    fit: float | None
    interest: float | None
    score: float | None
    grade: str | None
    label: str | None
    qualified: bool | None


class PlannedChange(NamedTuple):
    """A material change: the values to write and why."""

    record_id: str
    reasons: tuple[str, ...]
    old: Mapping[str, object]
    new: Mapping[str, object]
    result: ScoreResult


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(",", "")
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def coerce_outputs(outputs: Mapping[str, object]) -> Current:
    """Read raw CRM output values ("42", "42.0", "true", "", None) into typed values."""
    return Current(
        fit=_number(outputs.get("fit")),
        interest=_number(outputs.get("interest")),
        score=_number(outputs.get("score")),
        grade=_text(outputs.get("grade")),
        label=_text(outputs.get("label")),
        qualified=_bool(outputs.get("qualified")),
    )


def change_reasons(
    current: Current, result: ScoreResult, *, min_points_change: float
) -> tuple[str, ...]:
    """Why `result` differs materially from `current`; empty when it does not."""
    if current.score is None or current.label is None:
        return ("new",)
    reasons: list[str] = []
    if current.grade != result.grade:
        reasons.append("grade")
    if current.label != result.label:
        reasons.append("label")
    if current.qualified is not result.qualified:
        reasons.append("qualified")
    for name in NUMERIC:
        old = getattr(current, name)
        new = float(getattr(result, name))
        if old is None or abs(new - old) >= max(min_points_change, 1e-9):
            reasons.append(name)
    return tuple(reasons)


def plan_record(
    record: Record,
    result: ScoreResult,
    *,
    min_points_change: float,
    scored_at: datetime,
    lifecycle_stage: str | None = None,
) -> PlannedChange | None:
    """The change to write for `record`, or None when the CRM already holds an equivalent score.

    With `lifecycle_stage` (the model's `qualify.lifecycle_stage`), a record that becomes
    qualified also gets that stage; the connector moves stages forward only.
    """
    outputs = record.outputs
    if not outputs:
        reasons: tuple[str, ...] = ("new",)  # never written (what `change_reasons` says too)
    else:
        reasons = change_reasons(
            coerce_outputs(outputs), result, min_points_change=min_points_change
        )
        if not reasons:
            return None
    new = result.output_values(scored_at)
    if lifecycle_stage and result.qualified and ("qualified" in reasons or "new" in reasons):
        new["lifecyclestage"] = lifecycle_stage
    return PlannedChange(
        record_id=record.id,
        reasons=reasons,
        old=dict(outputs),
        new=new,
        result=result,
    )


def to_json_values(values: Mapping[str, object]) -> dict[str, Any]:
    """Output values with datetimes as ISO-8601 strings, for the outbox and ledger."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def from_json_values(values: Mapping[str, Any]) -> dict[str, object]:
    """The inverse of `to_json_values` for the one datetime output, `scored_at`."""
    out: dict[str, object] = dict(values)
    scored_at = out.get("scored_at")
    if isinstance(scored_at, str):
        out["scored_at"] = datetime.fromisoformat(scored_at)
    return out
