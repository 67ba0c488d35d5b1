"""`score`: one record in, one `ScoreResult` out; the clock and the previous result are inputs.

Order of work: accumulate events per event rule, evaluate every group of each dimension (rule
caps, `first_match`, group caps), clamp each dimension to `[0, max]` and scale it to 0-100,
combine, grade (then grade overrides), tier, disqualifiers, qualification with hysteresis, and
finally the reasons and the "what changed" lines.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta

from scoring.coerce import round_half_up
from scoring.conditions import Values
from scoring.model import CompiledDimension, CompiledGroup, ScoringModel
from scoring.reasons import change_lines, reason_lines
from scoring.rules import Hit, collect_events, describe_decay, evaluate_rule
from scoring.trace import CheckTrace, GroupTrace, QualifyTrace, RuleTrace, Trace
from scoring.types import Contribution, Record, ScoreResult

Item = tuple[Contribution, int]


def score(
    record: Record, model: ScoringModel, now: datetime, previous: ScoreResult | None = None
) -> ScoreResult:
    """Score `record` with `model` as of `now`; `previous` drives hysteresis and the changes.

    Never raises on property or event values, whatever the CRM sent.
    """
    return evaluate(record, model, now, previous, None)


def evaluate(
    record: Record,
    model: ScoringModel,
    now: datetime,
    previous: ScoreResult | None,
    trace: Trace | None,
) -> ScoreResult:
    """`score` with an optional trace collector (used by `scoring.explain`)."""
    props = record.properties if isinstance(record.properties, Mapping) else {}
    values = Values(props, now)
    events = collect_events(record.events or (), model, now) if model.event_rules else {}
    items: list[Item] = []
    fit_raw = _dimension(model.fit, values, events, items, trace)
    interest_raw = _dimension(model.interest, values, events, items, trace)

    fit_norm = _normalize(fit_raw, model.fit_max)
    interest_norm = _normalize(interest_raw, model.interest_max)
    fit = round_half_up(fit_norm)
    interest = round_half_up(interest_norm)
    w_fit, w_interest = model.spec.weights
    total = round_half_up(w_fit * fit + w_interest * interest)

    disqualified = None
    for check in model.disqualifiers:
        hit = disqualified is None and check.pred(values)
        if hit:
            disqualified = check.reason or check.name
        if trace is not None:
            effect = "score forced to 0" if hit else ""
            trace.checks.append(CheckTrace(check.name, "disqualify", bool(hit), effect))

    grade = _band(model.spec.grades, fit)
    if trace is not None:
        trace.grade_before_overrides = grade
    grade = _apply_overrides(model, values, grade, trace)
    tier = _band(model.spec.tiers, interest)
    if disqualified is not None:
        fit, total = 0, 0
        grade = model.grades[-1]
    label = grade + tier

    qualified, qualified_at = _qualify(
        model,
        now,
        previous,
        {
            "fit": fit,
            "interest": interest,
            "score": total,
            "grade": grade,
            "tier": tier,
            "label": label,
        },
        disqualified=disqualified is not None,
        trace=trace,
    )
    completeness = _completeness(model, values)
    contributions = tuple(c for c, _ in items)
    reasons = reason_lines(items, model.spec.reasons_top, disqualified)
    result = ScoreResult(
        fit=fit,
        interest=interest,
        score=total,
        grade=grade,
        tier=tier,
        label=label,
        qualified=qualified,
        disqualified_reason=disqualified,
        contributions=contributions,
        reasons=reasons,
        completeness=completeness,
        model_version=model.version,
        fit_raw=fit_raw,
        interest_raw=interest_raw,
        qualified_at=qualified_at,
    )
    if previous is None:
        return result
    changes = change_lines(result, previous, model.spec.changes_top)
    return dataclasses.replace(result, changes=changes)


def _normalize(raw: float, maximum: float) -> float:
    clamped = min(max(raw, 0.0), maximum)
    return clamped * 100.0 / maximum if maximum != 100.0 else clamped


def _dimension(
    dim: CompiledDimension,
    values: Values,
    events: Mapping[int, list[float]],
    items: list[Item],
    trace: Trace | None,
) -> float:
    start = len(items)
    for group in dim.groups:
        _group(group, values, events, items, trace)
    raw = 0.0
    for contribution, _ in items[start:]:
        raw += contribution.points
    return raw


def _group(
    group: CompiledGroup,
    values: Values,
    events: Mapping[int, list[float]],
    items: list[Item],
    trace: Trace | None,
) -> None:
    fired: list[tuple[int, Hit]] = []
    for position, rule in enumerate(group.rules):
        hit = evaluate_rule(rule, values, events)
        if hit is None:
            if trace is not None:
                trace.rules.append(_rule_trace(group, position, None, 0.0, ""))
            continue
        fired.append((position, hit))
        if group.first_match:
            if trace is not None:
                for later in range(position + 1, len(group.rules)):
                    note = "skipped: an earlier rule of this first_match group fired"
                    trace.rules.append(_rule_trace(group, later, None, 0.0, note))
            break
    earned = [hit.points for _, hit in fired]
    if group.max is not None:
        room = group.max - sum(p for p in earned if p < 0)
        for i, points in enumerate(earned):
            if points > 0:
                kept = max(0.0, min(points, room))
                room -= kept
                earned[i] = kept
    for (position, hit), points in zip(fired, earned, strict=True):
        rule = group.rules[position]
        spec = rule.spec
        detail = hit.detail
        note = hit.note
        if points != hit.points:
            note = f"cut to {points:g} by the group cap of {group.max:g}"
        if note:
            detail = f"{detail}; {note}" if detail else note
        items.append(
            (
                Contribution(
                    rule=spec.name,
                    dimension=rule.dimension,
                    points=points,
                    detail=detail,
                    group=group.name,
                    age_days=hit.age_days,
                ),
                hit.count,
            )
        )
        if trace is not None:
            trace.rules.append(_rule_trace(group, position, hit, points, note))
    if trace is not None:
        before = sum(hit.points for _, hit in fired)
        after = sum(earned)
        dimension = group.rules[0].dimension if group.rules else "fit"
        trace.groups.append(
            GroupTrace(group.name, dimension, group.max, before, after, group.first_match)
        )


def _rule_trace(
    group: CompiledGroup, position: int, hit: Hit | None, points: float, note: str
) -> RuleTrace:
    rule = group.rules[position]
    spec = rule.spec
    decay = describe_decay(rule.decay) if spec.kind == "event" or spec.age_from else ""
    if hit is None:
        return RuleTrace(
            spec.name, rule.dimension, group.name, spec.kind, rule.slot, False, decay=decay,
            note=note,
        )  # fmt: skip
    return RuleTrace(
        rule=spec.name,
        dimension=rule.dimension,
        group=group.name,
        kind=spec.kind,
        slot=rule.slot,
        matched=True,
        points=points,
        uncapped=hit.points,
        value=hit.value,
        count=hit.count,
        age_days=hit.age_days,
        decay=decay,
        note=note,
    )


def _band(bands: tuple[tuple[str, float], ...], value: int) -> str:
    for name, threshold in bands:
        if value >= threshold:
            return name
    return bands[-1][0]


def _apply_overrides(model: ScoringModel, values: Values, grade: str, trace: Trace | None) -> str:
    grades = model.grades
    index = grades.index(grade)
    for check in model.overrides:
        hit = check.pred(values)
        before = index
        if hit and check.at_least is not None:
            index = min(index, grades.index(check.at_least))
        if hit and check.at_most is not None:
            index = max(index, grades.index(check.at_most))
        if trace is not None:
            effect = f"grade {grades[before]} -> {grades[index]}" if index != before else ""
            trace.checks.append(CheckTrace(check.name, "override", hit, effect))
    return grades[index]


def _qualify(
    model: ScoringModel,
    now: datetime,
    previous: ScoreResult | None,
    fields: dict[str, object],
    *,
    disqualified: bool,
    trace: Trace | None,
) -> tuple[bool, datetime | None]:
    was = previous.qualified if previous is not None else None
    enter = model.qualify_enter
    exit_pred = model.qualify_exit
    enter_holds: bool | None = None
    exit_holds: bool | None = None
    held = False
    if enter is None:
        decision, why = False, "the model has no qualify section"
    elif disqualified:
        decision, why = False, "disqualified"
    else:
        view = Values(fields, now)
        if was:
            if exit_pred is not None:
                exit_holds = exit_pred(view)
                decision = not exit_holds
                why = "exit condition holds" if exit_holds else "exit condition does not hold"
            else:
                enter_holds = enter(view)
                decision = enter_holds
                why = "enter condition holds" if enter_holds else "enter condition no longer holds"
        else:
            enter_holds = enter(view)
            decision = enter_holds
            why = "enter condition holds" if enter_holds else "enter condition does not hold"
        cooldown = model.spec.qualify.cooldown_days if model.spec.qualify else 0.0
        since = previous.qualified_at if previous is not None else None
        if (
            was is not None
            and decision != was
            and cooldown > 0
            and since is not None
            and now - since < timedelta(days=cooldown)
        ):
            decision, held = was, True
            why = f"held by the {cooldown:g}-day cooldown since {since.date().isoformat()}"
    if was is not None and previous is not None:
        qualified_at = now if decision != was else previous.qualified_at
    else:
        qualified_at = now if decision else None
    if trace is not None:
        trace.qualify = QualifyTrace(was, enter_holds, exit_holds, held, decision, why)
    return decision, qualified_at


def _completeness(model: ScoringModel, values: Values) -> float:
    names = model.completeness_properties
    if not names:
        return 1.0
    present = sum(1 for name in names if values.present(name))
    return round(present / len(names), 3)
