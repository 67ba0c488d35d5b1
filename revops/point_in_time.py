"""Point in time: each record as it was at its own cutoff.

A backtest must score a record with what was known *before* its outcome, not with today's
values. Every record gets a cutoff:

- a record with an outcome date: that date minus the horizon (`horizon_days`, how far ahead the
  score should predict; 0 scores it at the moment of the outcome);
- a record without one (still open, or lost without a date): its creation date plus
  `window_days` (by default the median time from creation to cutoff of the records that have an
  outcome date, so both groups are judged at a comparable age), or the as-of moment when the
  record has no creation date;
- never later than the as-of moment (`now`), never earlier than the record's creation.

At the cutoff, events dated after it are dropped, and properties whose history the CRM keeps
(`PropertyHistory`: HubSpot `propertiesWithHistory`, Salesforce field history) take the value
they had then. A property without history keeps its current value: the report says which.

An account's people (`Record.members`) are cut at the account's cutoff too: their events after
it are dropped, and the scores leadsync wrote on them (`outputs`) count only when their
`scored_at` is before the cutoff (each model's own: `pl_b_score` by `pl_b_scored_at`); a later
score (or an undated one) was not known then, so the roll-ups read it as no score.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from scoring.coerce import to_datetime
from scoring.types import OUTPUT_NAMES, Record

#: One property's values over time, oldest first: (when it was set, the value set).
Changes = Sequence[tuple[datetime, object]]
#: Per property name, its changes; what a CRM's history gives for one record.
PropertyHistory = Mapping[str, Changes]

DEFAULT_WINDOW_DAYS = 90.0


@dataclass(frozen=True, slots=True)
class CutoffPolicy:
    """How far before the outcome to score, and at what age to score records without one."""

    horizon_days: float = 0.0
    window_days: float | None = None


def value_as_of(changes: Changes, cutoff: datetime) -> tuple[bool, object]:
    """(known, value) of a property at `cutoff`: the last change strictly before it.

    A change at the very moment of the cutoff is left out: a conversion stamps its own changes
    (Salesforce's `Status` on conversion) at the moment the outcome date names. `known` is False
    when the first recorded change came later: the property was empty then (HubSpot and
    Salesforce both start a history at the first value set).
    """
    value: object = None
    known = False
    for at, changed_to in changes:
        if at >= cutoff:
            break
        value, known = changed_to, True
    return known, value


def window_from(
    created: Sequence[datetime | None], dated_cutoffs: Sequence[datetime | None]
) -> float:
    """Median days from creation to cutoff over records having both; the default otherwise."""
    ages = [
        (cut - born).total_seconds() / 86400.0
        for born, cut in zip(created, dated_cutoffs, strict=True)
        if born is not None and cut is not None and cut >= born
    ]
    return statistics.median(ages) if ages else DEFAULT_WINDOW_DAYS


def cutoffs(
    outcome_dates: Sequence[datetime | None],
    created: Sequence[datetime | None],
    now: datetime,
    policy: CutoffPolicy,
) -> tuple[list[datetime], float]:
    """Every record's cutoff, and the window (days after creation) used for undated ones."""
    horizon = timedelta(days=policy.horizon_days)
    dated = [None if d is None else d - horizon for d in outcome_dates]
    window = policy.window_days
    if window is None:
        window = window_from(created, dated)
    out = []
    for born, when in zip(created, dated, strict=True):
        cut = when
        if cut is None:
            cut = now if born is None else born + timedelta(days=window)
        if born is not None and cut < born:
            cut = born
        out.append(min(cut, now))
    return out, window


def event_times(record: Record) -> list[datetime]:
    """When each event of the record and of its members (an account's people) happened."""
    return [e.at for e in record.events] + [e.at for m in record.members for e in m.events]


def _member_at(member: Record, cutoff: datetime) -> tuple[Record, int]:
    events = tuple(e for e in member.events if e.at <= cutoff)
    outputs = outputs_known_at(member.outputs, cutoff)
    if len(events) == len(member.events) and outputs is member.outputs:
        return member, 0
    return replace(member, events=events, outputs=outputs), len(member.events) - len(events)


def outputs_known_at(outputs: Mapping[str, object], cutoff: datetime) -> Mapping[str, object]:
    """A person's leadsync outputs known at `cutoff`: each model's (unprefixed, or under its
    namespace: `pl_b_score`) only when its own `scored_at` is before the cutoff. The same
    mapping when all are known."""
    spaces: dict[str, list[str]] = {}
    for key in outputs:
        spaces.setdefault(_namespace(key), []).append(key)
    kept: dict[str, object] = {}
    for ns, keys in spaces.items():
        scored = to_datetime(outputs.get(ns + "scored_at"))
        if scored is not None and scored < cutoff:
            kept.update((k, outputs[k]) for k in keys)
    return outputs if len(kept) == len(outputs) else kept


def _namespace(key: str) -> str:
    """`pl_b_` of the output key `pl_b_score` ("" of `score`)."""
    names = [n for n in OUTPUT_NAMES if key.endswith(n) and (key == n or key[: -len(n)][-1] == "_")]
    return key[: -len(max(names, key=len))] if names else ""


def as_of_cutoff(
    record: Record, cutoff: datetime, history: PropertyHistory | None = None
) -> tuple[Record, int]:
    """The record (and its members) at `cutoff` and how many events came after it."""
    events = [e for e in record.events if e.at <= cutoff]
    dropped = len(record.events) - len(events)
    members = record.members
    if members:
        cut = [_member_at(m, cutoff) for m in members]
        dropped += sum(n for _, n in cut)
        if any(new is not old for (new, _), old in zip(cut, members, strict=True)):
            members = tuple(m for m, _ in cut)
    properties: Mapping[str, object] = record.properties
    if history:
        changed = dict(record.properties)
        for name, changes in history.items():
            if not changes:
                continue
            known, value = value_as_of(changes, cutoff)
            changed[name] = value if known else None
        properties = changed
    if not dropped and properties is record.properties and members is record.members:
        return record, 0
    return replace(record, events=events, properties=properties, members=members), dropped


@dataclass(frozen=True, slots=True)
class Rewound:
    """A record taken back to an earlier moment for `explain --now` on live data."""

    record: Record
    at: datetime
    with_history: tuple[str, ...]
    without_history: tuple[str, ...]
    events_dropped: int

    def lines(self) -> list[str]:
        """What the explanation says about the values it used."""
        out = [f"point in time: the record as it was at {self.at.isoformat()}"]
        if self.with_history:
            out.append("  values from the CRM's property history: " + ", ".join(self.with_history))
        if self.without_history:
            out.append(
                "  no history in the CRM for: "
                + ", ".join(self.without_history)
                + " (current values used; they may have changed since)"
            )
        out.append(f"  {self.events_dropped} events after that moment left out")
        return out

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form (without the record)."""
        return {
            "at": self.at.isoformat(),
            "with_history": list(self.with_history),
            "without_history": list(self.without_history),
            "events_dropped": self.events_dropped,
        }


def rewind(
    record: Record,
    at: datetime,
    history: PropertyHistory | None,
    properties: Sequence[str],
    tracked: frozenset[str],
) -> Rewound:
    """`record` as it was at `at`: later events dropped, `properties` with a history (`tracked`
    by the CRM) set to their value then; the others keep their current value, and say so."""
    taken, dropped = as_of_cutoff(record, at, history)
    names = sorted(set(properties))
    return Rewound(
        taken,
        at,
        tuple(n for n in names if n in tracked),
        tuple(n for n in names if n not in tracked),
        dropped,
    )


def late_values(
    records: Sequence[Record],
    outcomes: Sequence[bool],
    outcome_dates: Sequence[datetime | None],
    history: Mapping[str, PropertyHistory],
) -> dict[str, tuple[int, int]]:
    """Per property, (converted records whose value was empty until their outcome or was set by
    it, converted records with a dated outcome, a current value and a history of it).

    Late is a value first set at or after the outcome (a field sales fills at conversion), or
    one changed at the outcome's very moment (a conversion stamping `Status`, a won deal making
    the Account a customer): it describes the sale. A value the property had before and that
    changed again later (an engagement counter, a last-visit date) is not late: the backtest
    rewinds it through the same history.
    """
    late: dict[str, list[int]] = {}
    for record, converted, when in zip(records, outcomes, outcome_dates, strict=True):
        if not converted or when is None:
            continue
        for name, changes in (history.get(record.id) or {}).items():
            if not changes or _empty(changes[-1][1]):
                continue
            known, before = value_as_of(changes, when)
            stamped = any(_at_outcome(at, when) for at, _ in changes)
            counts = late.setdefault(name, [0, 0])
            counts[0] += not known or _empty(before) or stamped
            counts[1] += 1
    return {name: (after, known) for name, (after, known) in late.items()}


def _at_outcome(at: datetime, when: datetime) -> bool:
    """Whether a change happened at the outcome: its very moment, or its day when the outcome
    is a date (Salesforce's `CloseDate`: the won deal's automation ran some time that day)."""
    if when.timetz().replace(tzinfo=None) == time(0):
        return when <= at < when + timedelta(days=1)
    return at == when


def _empty(value: object) -> bool:
    return value is None or str(value).strip() == ""
