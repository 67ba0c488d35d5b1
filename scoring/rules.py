"""Evaluation of single rules: property rules, condition rules and event accumulation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from scoring.conditions import Values
from scoring.model import CompiledRule, ScoringModel
from scoring.spec import Band, Decay
from scoring.types import Event

_DAY_SECONDS = 86400.0


class Hit:
    """What one rule earned: points before group caps, occurrences and newest age."""

    __slots__ = ("age_days", "count", "detail", "note", "points", "value")

    def __init__(
        self,
        points: float,
        detail: str,
        *,
        age_days: float | None = None,
        count: int = 1,
        value: object = None,
        note: str = "",
    ) -> None:
        self.points = points
        self.detail = detail
        self.age_days = age_days
        self.count = count
        self.value = value
        self.note = note


def decay_factor(decay: Decay, age_days: float) -> float:
    """The share of points left after `age_days`: 2^(-age/half-life), or linear to 0."""
    if decay.kind == "none" or age_days <= 0:
        return 1.0
    if decay.kind == "half_life":
        return float(2.0 ** (-age_days / decay.days))
    return max(0.0, 1.0 - age_days / decay.days)


def describe_decay(decay: Decay) -> str:
    if decay.kind == "half_life":
        return f"half-life {_num(decay.days)}d"
    if decay.kind == "linear":
        return f"linear over {_num(decay.days)}d"
    return "no decay"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def band_points(bands: Sequence[Band], number: float) -> Band | None:
    """The first band holding `number` (bounds inclusive), or None."""
    for band in bands:
        if (band.min is None or number >= band.min) and (band.max is None or number <= band.max):
            return band
    return None


def cap(points: float, limit: float | None) -> float:
    """Limit the size of a rule's total: at most `limit`, and for negative rules at least -limit."""
    if limit is None:
        return points
    if points > limit:
        return limit
    if points < -limit:
        return -limit
    return points


def collect_events(
    events: Sequence[Event], model: ScoringModel, now: datetime
) -> dict[int, list[float]]:
    """Per event rule slot: [count, summed decayed points, newest age in days]."""
    by_type = model.event_rules
    acc: dict[int, list[float]] = {}
    for event in events:
        try:
            rules = by_type.get(event.type)
        except TypeError:
            continue
        if not rules:
            continue
        age = _age_days(event.at, now)
        if age is None:
            continue
        attributes: Values | None = None
        for rule in rules:
            spec = rule.spec
            if spec.within_days is not None and age > spec.within_days:
                continue
            if rule.where is not None:
                if attributes is None:
                    attrs = event.attributes
                    attributes = Values(attrs if isinstance(attrs, Mapping) else {}, now)
                if not rule.where(attributes):
                    continue
            slot = rule.slot
            entry = acc.get(slot)
            decay = rule.decay
            if decay.kind == "none" or age <= 0:
                earned = spec.points
            elif decay.kind == "half_life":
                earned = spec.points * 2.0 ** (-age / decay.days)
            else:
                earned = spec.points * max(0.0, 1.0 - age / decay.days)
            if entry is None:
                acc[slot] = [1.0, earned, age]
            else:
                entry[0] += 1.0
                entry[1] += earned
                entry[2] = min(entry[2], age)
    return acc


def _age_days(at: object, now: datetime) -> float | None:
    if not isinstance(at, datetime):
        return None
    try:
        seconds = (now - at).total_seconds()
    except TypeError:
        seconds = (now - at.replace(tzinfo=UTC)).total_seconds()
    age = seconds / _DAY_SECONDS
    if math.isnan(age):
        return None
    return age if age > 0 else 0.0


def evaluate_rule(
    rule: CompiledRule, values: Values, events: Mapping[int, list[float]]
) -> Hit | None:
    """What `rule` earns for this record, or None when it does not fire."""
    spec = rule.spec
    kind = spec.kind
    if kind == "condition":
        assert rule.pred is not None
        if not rule.pred(values):
            return None
        if spec.age_from is None:
            return Hit(spec.points, "")
        age = values.age_days(spec.age_from)
        if age is None:
            return None
        age = max(age, 0.0)
        return Hit(spec.points * decay_factor(rule.decay, age), "", age_days=age)
    if kind == "event":
        entry = events.get(rule.slot)
        if entry is None:
            return None
        count, total, newest = int(entry[0]), entry[1], entry[2]
        if spec.bands:
            band = band_points(spec.bands, count)
            if band is None:
                return None
            total = band.points * decay_factor(rule.decay, newest)
        capped = cap(total, spec.max)
        note = f"capped at {_num(spec.max)}" if spec.max is not None and capped != total else ""
        return Hit(capped, f"{count}x {spec.event}", age_days=newest, count=count, note=note)
    assert spec.property is not None
    if kind == "bands":
        number = values.num(spec.property)
        if number is None:
            return None
        band = band_points(spec.bands, number)
        if band is None:
            return None
        return Hit(band.points, f"{spec.property} = {_num(number)}", value=number)
    age = values.age_days(spec.property)
    if age is None:
        return None
    age = max(age, 0.0)
    if kind == "recency":
        band = band_points(spec.bands, age)
        if band is None:
            return None
        return Hit(band.points, f"{_num(math.floor(age))}d ago", age_days=age, value=age)
    # elapsed: points every `every_days` days since the date, at most `max`
    assert spec.every_days is not None
    steps = math.floor(age / spec.every_days)
    if steps <= 0:
        return None
    total = spec.points * steps
    capped = cap(total, spec.max)
    note = f"capped at {_num(spec.max)}" if spec.max is not None and capped != total else ""
    return Hit(capped, f"{_num(math.floor(age))}d elapsed", value=age, count=steps, note=note)
