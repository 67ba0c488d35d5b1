"""`score`: one record in, one `ScoreResult` out; the clock and the previous result are inputs.

Order of work: accumulate events per event rule, evaluate every group of each dimension (rule
caps, `first_match`, group caps), clamp each dimension to `[0, max]` and scale it to 0-100,
combine, grade (then grade overrides), tier, disqualifiers, qualification with hysteresis, and
finally the reasons and the "what changed" lines.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from math import fsum

from scoring.conditions import Values
from scoring.model import CompiledDimension, CompiledGroup, ScoringModel
from scoring.reasons import change_lines, reason_lines
from scoring.rollup import MemberFacts, record_facts, rollup_items
from scoring.rules import EventTotals, Item, clip_to_cap, collect_events, describe_decay
from scoring.trace import CheckTrace, GroupTrace, QualifyTrace, RuleTrace, Trace
from scoring.types import Record, ScoreResult

_EMPTY: dict[int, list[float]] = {}
_floor = math.floor


def score(
    record: Record,
    model: ScoringModel,
    now: datetime,
    previous: ScoreResult | None = None,
    *,
    members: Sequence[MemberFacts] = (),
) -> ScoreResult:
    """Score `record` with `model` as of `now`; `previous` drives hysteresis and the changes.

    For an account model, `members` are the facts of the account's people
    (`scoring.rollup.member_facts`) its roll-up rules read; without them, the people read with
    the record (`Record.members`) are used. Never raises on property or event values, whatever
    the CRM sent.
    """
    return evaluate(record, model, now, previous, None, members=members)


def _round(number: float) -> int:
    # Round half away from zero (scoring.coerce.round_half_up), inlined for speed.
    if number >= 0:
        return int(_floor(number + 0.5))
    return -int(_floor(-number + 0.5))


def evaluate(  # noqa: PLR0912, PLR0913, PLR0915  the scoring hot path, inlined for speed (bench/score_throughput.py)
    record: Record,
    model: ScoringModel,
    now: datetime,
    previous: ScoreResult | None,
    trace: Trace | None,
    *,
    members: Sequence[MemberFacts] = (),
) -> ScoreResult:
    """`score` with an optional trace collector (used by `scoring.explain`)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)  # callers pass UTC; a naive one must not break scoring
    props = record.properties
    if props.__class__ is not dict and not isinstance(props, Mapping):
        props = {}
    values = Values(props, now)
    events: EventTotals = _EMPTY
    if model.event_rules and record.events:
        events = collect_events(record.events, model.event_rules, now)
    items: list[Item] = []
    disqualified = None
    if trace is None:
        fit_items, present, dq = model.fast(props, values, events, items)
        completeness = _share(present, len(model.completeness_properties))
        if dq >= 0:
            check = model.disqualifiers[dq]
            disqualified = check.reason or check.name
    else:
        _dimension(model.fit, values, events, items, trace)
        fit_items = len(items)
        _dimension(model.interest, values, events, items, trace)
        completeness = _completeness(model, values)
        for check in model.disqualifiers:
            hit = disqualified is None and check.pred(values)
            if hit:
                disqualified = check.reason or check.name
            effect = "score forced to 0" if hit else ""
            trace.checks.append(CheckTrace(check.name, "disqualify", bool(hit), effect))
    if model.rollup is not None:
        if not members and record.members:
            members = record_facts(record.members, model.rollup, now)
        rolled = rollup_items(members, model.rollup) if members else []
        items.extend(rolled)
        if trace is not None:
            _trace_rollups(model, rolled, trace)
    contributions = tuple([item[0] for item in items])
    points = [c.points for c in contributions]
    # fsum is exact and order-free, so anyone can re-add the contributions and get these values.
    fit_raw = fsum(points[:fit_items])
    interest_raw = fsum(points[fit_items:])

    spec = model.spec
    fit = _round(_scale(fit_raw, model.fit_max))
    interest = _round(_scale(interest_raw, model.interest_max))
    w_fit, w_interest = spec.weights
    total = _round(w_fit * fit + w_interest * interest)

    grade = _band(spec.grades, fit)
    if trace is not None:
        trace.grade_before_overrides = grade
    if model.overrides:
        grade = _apply_overrides(model, values, grade, trace)
    tier = _band(spec.tiers, interest)
    if disqualified is not None:
        fit, total = 0, 0
        grade = model.grades[-1]
    label = grade + tier

    qualified, qualified_at = _qualify(
        model,
        now,
        previous,
        (fit, interest, total, grade, tier, label),
        disqualified=disqualified is not None,
        trace=trace,
    )
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
        reasons=reason_lines(items, spec.reasons_top, disqualified),
        completeness=completeness,
        model_version=model.version,
        fit_raw=fit_raw,
        interest_raw=interest_raw,
        qualified_at=qualified_at,
    )
    if previous is None:
        return result
    changes = change_lines(result, previous, spec.changes_top)
    return dataclasses.replace(result, changes=changes)


def _scale(raw: float, maximum: float) -> float:
    clamped = 0.0 if raw < 0.0 else (maximum if raw > maximum else raw)
    return clamped if maximum == 100.0 else clamped * 100.0 / maximum


def _dimension(
    dim: CompiledDimension,
    values: Values,
    events: EventTotals,
    items: list[Item],
    trace: Trace | None,
) -> float:
    start = len(items)
    for group in dim.groups:
        _group(group, values, events, items, trace)
    return fsum([item[0].points for item in items[start:]])


def _group(
    group: CompiledGroup,
    values: Values,
    events: EventTotals,
    items: list[Item],
    trace: Trace | None,
) -> None:
    """A group with a cap, `first_match`, or being traced."""
    fired: list[tuple[int, Item]] = []
    for position, run in enumerate(group.runners):
        item = run(values, events)
        if item is not None:
            fired.append((position, item))
            if group.first_match:
                break
    kept = fired
    if group.max is not None and fired:
        clipped = clip_to_cap(group.max, [item for _, item in fired])
        kept = [(position, item) for (position, _), item in zip(fired, clipped, strict=True)]
    items.extend(item for _, item in kept)
    if trace is not None:
        _trace_group(group, fired, kept, trace)


def _trace_group(
    group: CompiledGroup,
    fired: list[tuple[int, Item]],
    kept: list[tuple[int, Item]],
    trace: Trace,
) -> None:
    earned = {position: item[0] for position, item in fired}
    final = {position: item for position, item in kept}
    first_hit = min(earned) if group.first_match and earned else None
    for position, rule in enumerate(group.rules):
        spec = rule.spec
        decay = describe_decay(rule.decay) if spec.kind == "event" or spec.age_from else ""
        if position not in final:
            note = ""
            if first_hit is not None and position > first_hit:
                note = "skipped: an earlier rule of this first_match group fired"
            trace.rules.append(
                RuleTrace(
                    spec.name, rule.dimension, group.name, spec.kind, rule.slot, False,
                    decay=decay, note=note,
                )
            )  # fmt: skip
            continue
        contribution, count, _, _ = final[position]
        trace.rules.append(
            RuleTrace(
                rule=spec.name,
                dimension=rule.dimension,
                group=group.name,
                kind=spec.kind,
                slot=rule.slot,
                matched=True,
                points=contribution.points,
                earned=earned[position].points,
                count=count,
                age_days=contribution.age_days,
                decay=decay,
                note=contribution.detail,
            )
        )
    before = sum(c.points for c in earned.values())
    after = sum(item[0].points for _, item in kept)
    dimension = group.rules[0].dimension if group.rules else "fit"
    trace.groups.append(
        GroupTrace(group.name, dimension, group.max, before, after, group.first_match)
    )


def _trace_rollups(model: ScoringModel, rolled: list[Item], trace: Trace) -> None:
    assert model.rollup is not None
    fired = {item[0].rule: item for item in rolled}
    for position, rule in enumerate(model.rollup.rules):
        slot = model.rule_count + position
        item = fired.get(rule.name)
        if item is None:
            trace.rules.append(RuleTrace(rule.name, "interest", None, "rollup", slot, False))
            continue
        contribution, count, _, _ = item
        trace.rules.append(
            RuleTrace(
                rule=rule.name,
                dimension="interest",
                group=None,
                kind="rollup",
                slot=slot,
                matched=True,
                points=contribution.points,
                earned=contribution.points,
                count=count,
                age_days=contribution.age_days,
                note=contribution.detail,
            )
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


def _qualify(  # noqa: PLR0913  the inputs of one evaluation
    model: ScoringModel,
    now: datetime,
    previous: ScoreResult | None,
    fields: tuple[int, int, int, str, str, str],
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
        fit, interest, total, grade, tier, label = fields
        view = Values(
            {
                "fit": fit,
                "interest": interest,
                "score": total,
                "grade": grade,
                "tier": tier,
                "label": label,
            },
            now,
        )
        if was and exit_pred is not None:
            exit_holds = exit_pred(view)
            decision = not exit_holds
            why = "exit condition holds" if exit_holds else "exit condition does not hold"
        else:
            enter_holds = enter(view)
            decision = enter_holds
            why = "enter condition holds" if enter_holds else "enter condition does not hold"
        spec = model.spec.qualify
        cooldown = spec.cooldown_days if spec is not None else 0.0
        since = previous.qualified_at if previous is not None else None
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        if (
            was is not None
            and decision != was
            and cooldown > 0
            and since is not None
            and now - since < timedelta(days=cooldown)
        ):
            decision, held = was, True
            why = f"held by the {cooldown:g}-day cooldown since {since.date().isoformat()}"
    if previous is not None:
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
    return _share(sum(1 for name in names if values.present(name)), len(names))


@functools.cache
def _share(present: int, total: int) -> float:
    # Cached: a model has only `total + 1` shares, and float `round` to 3 digits is slow.
    return round(present / total, 3) if total else 1.0
