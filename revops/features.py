"""Rule activity: which rules fired for each record, as numbers calibration can weigh.

A *unit* is one thing in a model that carries points: a condition rule, a per-occurrence event
rule, an elapsed-time rule, or one band of a bands/recency rule (each band has its own points).
A unit's value for a record is how many times its points counted: 1 for a condition that held,
the decayed (and capped) number of occurrences for an event rule, the number of steps for an
elapsed rule; so `points x value` is what the unit contributed before group caps.

Every rule that fires is among a result's contributions, even at 0 points. When contributions
cannot tell a unit's value (group caps, event count bands), scoring runs with the engine's trace
collector (the one `scoring.explain` uses) instead.

Account models add their roll-up rules (`members.rollup`, interest): a score or event roll-up is
one unit whose value is its contribution over its `points` (the aggregated scores or decayed
occurrences, after its cap); a breadth roll-up has a unit per band, the band the account's
engaged people fall in (recounted from the members as the engine counts them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from scoring.coerce import to_datetime, to_number
from scoring.conditions import cond_properties
from scoring.evaluate import evaluate, score
from scoring.model import CompiledRule, ScoringModel
from scoring.rollup import record_facts
from scoring.rules import band_text
from scoring.spec import Band, RollupSpec, RuleSpec
from scoring.trace import Trace
from scoring.types import Record, ScoreResult


@dataclass(frozen=True, slots=True)
class Unit:
    """One point-carrying part of a model (a rule, or one band of a rule)."""

    key: str
    rule: str
    band: int | None
    dimension: str
    group: str | None
    first_match: bool
    points: float
    kind: str

    @property
    def sign(self) -> int:
        """+1 for a bonus, -1 for a penalty, 0 when the author gave it no points."""
        return (self.points > 0) - (self.points < 0)


@dataclass(frozen=True, slots=True)
class Activity:
    """Unit values per record plus the scored results, in record order."""

    units: tuple[Unit, ...]
    matrix: np.ndarray
    hits: np.ndarray
    results: tuple[ScoreResult, ...]

    def fired(self) -> dict[str, list[bool]]:
        """Per unit key, whether the unit fired for each record."""
        return {u.key: self.hits[:, i].tolist() for i, u in enumerate(self.units)}

    def signs(self) -> dict[str, int]:
        """Per unit key, the sign of its points."""
        return {u.key: u.sign for u in self.units}


def model_rules(model: ScoringModel) -> list[tuple[CompiledRule, bool]]:
    """Every rule of the model in slot order, with whether its group is first_match."""
    return sorted(
        (
            (rule, group.first_match)
            for dim in (model.fit, model.interest)
            for group in dim.groups
            for rule in group.rules
        ),
        key=lambda item: item[0].slot,
    )


def rule_properties(model: ScoringModel) -> dict[str, frozenset[str]]:
    """Per rule name, the properties the rule reads."""
    out = {}
    for rule, _ in model_rules(model):
        spec = rule.spec
        props = cond_properties(spec.cond)
        extra = {p for p in (spec.property, spec.age_from) if p}
        out[spec.name] = frozenset(props | extra)
    return out


def check_properties(model: ScoringModel) -> dict[str, frozenset[str]]:
    """Per disqualify check and grade override, the properties its condition reads (they
    score no points, but a check on a property filled after the sale skews a backtest as
    much as a rule does)."""
    spec = model.spec
    out = {d.name: frozenset(cond_properties(d.cond)) for d in spec.disqualify}
    out.update((o.name, frozenset(cond_properties(o.cond))) for o in spec.overrides)
    return out


def _rollup_units(model: ScoringModel) -> list[Unit]:
    members = model.spec.members
    units = []
    for spec in members.rollups if members else ():
        common = {"rule": spec.name, "dimension": "interest", "group": None, "first_match": False}
        kind = f"rollup {spec.kind}"
        if spec.kind == "breadth":
            units += [
                Unit(_band_key(spec, i), band=i, points=band.points, kind=kind, **common)  # type: ignore[arg-type]
                for i, band in enumerate(spec.bands)
            ]
        else:
            units.append(Unit(spec.name, band=None, points=spec.points, kind=kind, **common))  # type: ignore[arg-type]
    return units


def _breadth_band(model: ScoringModel, name: str, record: Record, now: datetime) -> int | None:
    plan = model.rollup
    if plan is None:
        return None
    slot = next(i for i, rule in enumerate(plan.rules) if rule.name == name)
    facts = record_facts(record.members, plan, now)
    counted = math.fsum(f.weight for f in facts if f.counts[slot] > 0 and f.weight > 0)
    return _band_of(plan.rules[slot].bands, counted)


def _band_key(spec: RuleSpec | RollupSpec, index: int) -> str:
    band = spec.bands[index]
    if spec.kind == "recency":
        return f"{spec.name} [within {band.max:g}d]"
    return f"{spec.name} [{band_text(band)}]"


def model_units(model: ScoringModel) -> list[Unit]:
    """The units of a model in file order."""
    units = []
    for rule, first_match in model_rules(model):
        spec = rule.spec
        common = {"rule": spec.name, "dimension": rule.dimension, "group": rule.group}
        if spec.bands:
            for i, band in enumerate(spec.bands):
                units.append(
                    Unit(_band_key(spec, i), band=i, first_match=first_match,
                         points=band.points, kind=spec.kind, **common)  # type: ignore[arg-type]
                )  # fmt: skip
        else:
            units.append(
                Unit(spec.name, band=None, first_match=first_match, points=spec.points,
                     kind=spec.kind, **common)  # type: ignore[arg-type]
            )  # fmt: skip
    return units + _rollup_units(model)


def _band_of(bands: Sequence[Band], number: float) -> int | None:
    """Index of the first band holding `number`, as the engine picks it."""
    for i, band in enumerate(bands):
        if band.holds(number):
            return i
    return None


def _band_index(
    spec: RuleSpec, count: int, known: Mapping[str, object], now: datetime
) -> int | None:
    measure: float | None
    if spec.kind == "event":
        measure = float(count)
    elif spec.kind == "recency":
        when = to_datetime(known.get(spec.property or ""))
        measure = None if when is None else max(0.0, (now - when).total_seconds() / 86400.0)
    else:
        measure = to_number(known.get(spec.property or ""))
    return None if measure is None else _band_of(spec.bands, measure)


def needs_trace(model: ScoringModel) -> bool:
    """Whether contributions alone cannot tell each unit's value.

    Contributions carry points after group caps and no event counts, so models with group caps,
    event rules with count bands, or event/elapsed rules worth 0 points need the engine's trace.
    """
    for rule, _ in model_rules(model):
        spec = rule.spec
        if spec.kind == "event" and spec.bands:
            return True
        if spec.kind in ("event", "elapsed") and not spec.points:
            return True
    return any(group.max is not None for dim in (model.fit, model.interest) for group in dim.groups)


def _matches(
    model: ScoringModel, record: Record, now: datetime, *, traced: bool
) -> tuple[ScoreResult, list[tuple[str, float, int]]]:
    """The result and, per rule that fired, (name, points before group caps, count)."""
    if not traced:
        result = score(record, model, now)
        return result, [(c.rule, c.points, 1) for c in result.contributions]
    trace = Trace()
    result = evaluate(record, model, now, None, trace)
    fired = [(t.rule, t.earned, t.count) for t in trace.rules if t.matched]
    named = {name for name, _, _ in fired}
    rolled = [(c.rule, c.points, 1) for c in result.contributions if c.rule not in named]
    return result, fired + rolled


def rule_activity(
    model: ScoringModel,
    records: Sequence[Record],
    now: datetime | Sequence[datetime],
    *,
    traced: bool | None = None,
) -> Activity:
    """Score every record and return the unit matrix and the results.

    `now` is one moment for every record, or one per record (each at its own cutoff).

    Plain scoring is used when contributions tell everything (see `needs_trace`), else the
    engine's trace collector, which is several times slower; `traced` forces one or the other.
    """
    units = model_units(model)
    column = {(u.rule, u.band): i for i, u in enumerate(units)}
    specs = {rule.spec.name: rule.spec for rule, _ in model_rules(model)}
    members = model.spec.members
    rollups = {r.name: r for r in members.rollups} if members else {}
    if traced is None:
        traced = needs_trace(model)
    matrix = np.zeros((len(records), len(units)))
    hits = np.zeros((len(records), len(units)), dtype=bool)
    results = []
    moments = [now] * len(records) if isinstance(now, datetime) else now
    for row, (record, moment) in enumerate(zip(records, moments, strict=True)):
        result, fired = _matches(model, record, moment, traced=traced)
        results.append(result)
        for name, earned, count in fired:
            if name in rollups:
                found = _rollup_value(model, rollups[name], earned, record, moment)
                if found is not None:
                    col = column[(name, found[0])]
                    hits[row, col] = True
                    matrix[row, col] = found[1]
                continue
            spec = specs[name]
            if spec.bands:
                index = _band_index(spec, count, model.known(record.properties), moment)
                if index is None:
                    continue
                points = spec.bands[index].points
            else:
                index, points = None, spec.points
            col = column[(spec.name, index)]
            hits[row, col] = True
            if points:
                matrix[row, col] = earned / points
            else:
                matrix[row, col] = float(count) if spec.kind in ("event", "elapsed") else 1.0
    return Activity(tuple(units), matrix, hits, tuple(results))


def _rollup_value(
    model: ScoringModel, spec: RollupSpec, earned: float, record: Record, moment: datetime
) -> tuple[int | None, float] | None:
    """(band index or None, unit value) of a roll-up rule that fired; None: no band holds it."""
    if spec.kind == "breadth":
        index = _breadth_band(model, spec.name, record, moment)
        return None if index is None else (index, 1.0)
    return None, earned / spec.points if spec.points else 1.0
