"""Labelled records for backtests: the outcome of each record and the point-in-time guard.

An input file carries, besides the properties a model reads, an outcome column (did the record
convert?) and optionally the date of the outcome and the record's creation date. Each record is
then taken as it was at its own cutoff (`revops.point_in_time`): events after the cutoff are
removed and, where the CRM keeps property history, properties take their value at the cutoff.
A backtest scores each record at its cutoff, so it never sees what happened after the record
converted; the guard counts what it removed so the report can say so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from config.errors import UserError
from revops.point_in_time import (
    CutoffPolicy,
    PropertyHistory,
    as_of_cutoff,
    cutoffs,
    event_times,
    late_values,
)
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
    """Records with their outcomes, in input order, each as it was at its cutoff.

    `events_after_outcome` counts the events dropped because they came after their record's
    cutoff (but not after `now`); `history` names the properties whose values were taken from
    the CRM's property history (None when no history was read: current values throughout).
    """

    records: tuple[Record, ...]
    outcomes: tuple[bool, ...]
    outcome_dates: tuple[datetime | None, ...]
    now: datetime
    events_after_outcome: int
    records_after_outcome: int
    events_after_as_of: int
    cutoffs: tuple[datetime, ...] = ()
    horizon_days: float = 0.0
    window_days: float | None = None
    history: frozenset[str] | None = None
    late: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    #: The later moment asked for (`as_of`) or found in the data (`data`) when `now` was
    #: brought back to the present from it; None otherwise.
    clamped_from: tuple[datetime, str] | None = None
    #: What the people's `account.` rules read, for the report (`revops.account_context`).
    account_lines: tuple[str, ...] = ()

    def moments(self) -> tuple[datetime, ...]:
        """The moment each record is scored at (its cutoff), in record order."""
        return self.cutoffs or (self.now,) * len(self.records)


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


def _require_column(
    records: Sequence[Record], column: str | None, option: str, source: str
) -> None:
    """A UserError when `column` (given to `option`) is a column no record has: a typo."""
    if column is None or any(column in r.properties for r in records):
        return
    names = sorted({name for r in records for name in r.properties})
    listed = ", ".join(names[:20]) + (f", ... ({len(names) - 20} more)" if len(names) > 20 else "")
    raise UserError(
        f"{source}: no record has the column {column!r} given to {option}; the columns are {listed}"
    )


def _latest(records: Iterable[Record], dates: Iterable[datetime | None]) -> datetime | None:
    moments = [at for r in records for at in event_times(r)]
    moments += [d for d in dates if d is not None]
    moments += [r.updated_at for r in records if r.updated_at is not None]
    return max(moments) if moments else None


def label(  # noqa: PLR0913  the options of one analysis
    records: Sequence[Record],
    *,
    outcome: str,
    outcome_date: str | None = None,
    created: str | None = None,
    as_of: datetime | None = None,
    default_now: datetime,
    source: str = "<input>",
    policy: CutoffPolicy | None = None,
    history: Mapping[str, PropertyHistory] | None = None,
    history_properties: frozenset[str] | None = None,
) -> Labelled:
    """Attach outcomes and take each record as it was at its cutoff.

    `now` (the latest moment anything is scored at) is `as_of` when given, else the latest
    event or outcome date in the data, else `default_now`; never after `default_now` (the
    present), and `clamped_from` says when it was brought back. Each record's cutoff follows
    `revops.point_in_time.cutoffs` (outcome date minus the horizon; creation plus the window
    when it has no outcome date; `now` when neither date is known). `history` maps record ids to
    their property history; `history_properties` names the properties it covers.
    """
    policy = policy or CutoffPolicy()
    ys = outcomes_of(records, outcome, source)
    _require_column(records, outcome_date, "--outcome-date", source)
    _require_column(records, created, "--created-column", source)
    dates = [parse_date(r.properties.get(outcome_date)) if outcome_date else None for r in records]
    born = [parse_date(r.properties.get(created)) if created else None for r in records]
    wanted = as_of or _latest(records, dates) or default_now
    # Scoring after the present would count events booked ahead (meetings) as done.
    now = min(wanted, default_now)
    cuts, window = cutoffs(dates, born, now, policy)
    kept: list[Record] = []
    after_outcome = after_as_of = records_hit = 0
    for record, cut in zip(records, cuts, strict=True):
        late = sum(at > now for at in event_times(record))
        taken, dropped = as_of_cutoff(record, cut, (history or {}).get(record.id))
        after_as_of += late
        after_outcome += dropped - late
        records_hit += dropped > late
        kept.append(taken)
    return Labelled(
        records=tuple(kept),
        outcomes=tuple(ys),
        outcome_dates=tuple(dates),
        now=now,
        events_after_outcome=after_outcome,
        records_after_outcome=records_hit,
        events_after_as_of=after_as_of,
        cutoffs=tuple(cuts),
        horizon_days=policy.horizon_days,
        window_days=window
        if any(d is None and b for d, b in zip(dates, born, strict=True))
        else None,
        history=history_properties,
        late=late_values(records, ys, dates, history) if history else {},
        clamped_from=(wanted, "as_of" if as_of else "data") if wanted > now else None,
    )


def point_in_time_lines(labelled: Labelled, properties: Iterable[str]) -> list[str]:
    """What the report says about when records were scored and which values are historical."""
    moments = set(labelled.moments())
    if len(moments) <= 1:
        lines = [f"every record scored as of {labelled.now.isoformat()}"]
    else:
        lines = [
            "each record scored at its own cutoff: its outcome date"
            + (f" minus {labelled.horizon_days:g} days" if labelled.horizon_days else "")
            + (
                f"; records without one {labelled.window_days:.0f} days after creation"
                if labelled.window_days is not None
                else ""
            )
            + f"; none after {labelled.now.isoformat()}"
        ]
    if labelled.clamped_from is not None:
        later, why = labelled.clamped_from
        asked = "--as-of" if why == "as_of" else "the latest date in the data"
        lines.append(
            f"{asked} ({later.isoformat()}) is in the future: records are scored no later "
            f"than now ({labelled.now.isoformat()})"
        )
    names = sorted(properties)
    if labelled.history is None:
        lines.append(
            "no property history read: every property is its value at export time, which may "
            "have changed after the outcome"
        )
        return [*lines, *labelled.account_lines]
    kept = [p for p in names if p in labelled.history]
    missing = [p for p in names if p not in labelled.history]
    if kept:
        lines.append(f"property history from the CRM for: {', '.join(kept)}")
    if missing:
        lines.append(
            f"no history in the CRM for: {', '.join(missing)} (current values used; they may "
            "have changed after the outcome)"
        )
    return [*lines, *labelled.account_lines]
