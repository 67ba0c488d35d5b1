"""Labelled records for backtests: the outcome of each record and the point-in-time guard.

An input file carries, besides the properties a model reads, an outcome column (did the record
convert?) and optionally the date of the outcome. The guard removes every event dated after that
date (and after the as-of date), so a backtest never scores a record on what happened after it
converted; it counts what it removed so the report can say so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from config.errors import UserError
from scoring.types import Record

YES_VALUES = frozenset(
    {"1", "true", "yes", "y", "t", "won", "closedwon", "closed won", "converted", "customer"}
)
NO_VALUES = frozenset(
    {"0", "false", "no", "n", "f", "", "lost", "closedlost", "closed lost", "not converted"}
)
_EPOCH_MS = re.compile(r"^\d{11,14}$")


def parse_outcome(value: object) -> bool | None:
    """True/False for a recognised yes/no value (case-insensitive), None otherwise."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in YES_VALUES:
        return True
    if text in NO_VALUES:
        return False
    return None


def parse_date(value: object) -> datetime | None:
    """An aware UTC datetime from ISO-8601 (date or datetime) or epoch milliseconds; else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if _EPOCH_MS.match(text):
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Labelled:
    """Records with their outcomes, in input order, after the point-in-time guard."""

    records: tuple[Record, ...]
    outcomes: tuple[bool, ...]
    outcome_dates: tuple[datetime | None, ...]
    now: datetime
    events_after_outcome: int
    records_after_outcome: int
    events_after_as_of: int


def outcomes_of(records: Sequence[Record], column: str, source: str) -> list[bool]:
    """The outcome of every record; a UserError lists the values that are not yes/no."""
    outcomes: list[bool] = []
    unknown: Counter[str] = Counter()
    missing = 0
    for record in records:
        if column not in record.properties:
            missing += 1
            continue
        parsed = parse_outcome(record.properties[column])
        if parsed is None:
            unknown[str(record.properties[column])] += 1
        else:
            outcomes.append(parsed)
    if missing:
        raise UserError(
            f"{source}: {missing} record(s) have no outcome column {column!r}; "
            "pass --outcome with the column that says whether the record converted"
        )
    if unknown:
        listed = ", ".join(f"{v!r} ({n}x)" for v, n in unknown.most_common(5))
        raise UserError(
            f"{source} column {column!r}: values that are neither yes nor no: {listed}; "
            f"yes values are {sorted(YES_VALUES)}, no values are {sorted(NO_VALUES - {''})} "
            "or empty"
        )
    return outcomes


def _latest(records: Iterable[Record], dates: Iterable[datetime | None]) -> datetime | None:
    moments = [e.at for r in records for e in r.events]
    moments += [d for d in dates if d is not None]
    moments += [r.updated_at for r in records if r.updated_at is not None]
    return max(moments) if moments else None


def label(
    records: Sequence[Record],
    *,
    outcome: str,
    outcome_date: str | None = None,
    as_of: datetime | None = None,
    default_now: datetime,
    source: str = "<input>",
) -> Labelled:
    """Attach outcomes and apply the point-in-time guard.

    `now` (the moment every record is scored at) is `as_of` when given, else the latest event or
    outcome date in the data, else `default_now`. A record keeps only the events dated at or
    before both `now` and its own outcome date.
    """
    ys = outcomes_of(records, outcome, source)
    dates: list[datetime | None] = []
    for record in records:
        raw = record.properties.get(outcome_date) if outcome_date else None
        dates.append(parse_date(raw))
    now = as_of or _latest(records, dates) or default_now
    kept: list[Record] = []
    after_outcome = after_as_of = records_hit = 0
    for record, when in zip(records, dates, strict=True):
        events = []
        dropped_here = 0
        for event in record.events:
            if event.at > now:
                after_as_of += 1
            elif when is not None and event.at > when:
                dropped_here += 1
            else:
                events.append(event)
        after_outcome += dropped_here
        records_hit += dropped_here > 0
        kept.append(record if len(events) == len(record.events) else replace(record, events=events))
    return Labelled(
        records=tuple(kept),
        outcomes=tuple(ys),
        outcome_dates=tuple(dates),
        now=now,
        events_after_outcome=after_outcome,
        records_after_outcome=records_hit,
        events_after_as_of=after_as_of,
    )
