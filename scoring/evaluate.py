"""`score`: one record in, one `ScoreResult` out; `score_page`: the same for many records at
once. The clock and the previous result are inputs.

Order of work: accumulate events per event rule, evaluate every group of each dimension (rule
caps, `first_match`, group caps), clamp each dimension to `[0, max]` and scale it to 0-100,
combine, grade (then grade overrides), tier, disqualifiers, qualification with hysteresis, and
finally the reasons and the "what changed" lines.

Both run the model's generated page scorer (`scoring.codegen.compile_page_scorer`): every rule
inline in one loop over the records, with no per-record calls beyond coercion, the reasons and
the result itself. `evaluate` with a trace (used by `scoring.explain`) walks the compiled rules
one by one instead; tests check both ways give equal results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from math import fsum

from scoring.conditions import Values
from scoring.model import CompiledDimension, CompiledGroup, ScoringModel
from scoring.outcome import apply_overrides, band, qualify, round_half, scale, share
from scoring.reasons import change_lines, reason_lines
from scoring.rollup import MemberFacts, record_facts, rollup_items
from scoring.rules import EventTotals, Item, clip_to_cap, collect_events, describe_decay
from scoring.trace import CheckTrace, GroupTrace, RuleTrace, Trace
from scoring.types import Record, ScoreResult

_EMPTY: dict[int, list[float]] = {}


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
    now = _utc(now)
    if model.rollup is not None and not members and record.members:
        members = record_facts(record.members, model.rollup, now)
    out: list[ScoreResult] = []
    model.page((record,), now, None if previous is None else (previous,), (members,), out)
    return out[0]


def score_page(
    records: Sequence[Record],
    model: ScoringModel,
    now: datetime,
    previous: Sequence[ScoreResult | None] | None = None,
    *,
    members: Sequence[Sequence[MemberFacts]] | None = None,
) -> list[ScoreResult]:
    """`score` of each of `records` (equal results, in order), faster per record: one call
    scores the whole page. `previous` and, for an account model, `members`, when given, hold
    each record's previous result (or None) and its people's facts, aligned with `records`;
    an account without given facts uses the people read with it (`Record.members`)."""
    for name, given in (("previous results", previous), ("members", members)):
        if given is not None and len(given) != len(records):
            raise ValueError(f"{len(given)} {name} for {len(records)} records")
    now = _utc(now)
    plan = model.rollup
    if plan is not None:
        given_facts = members if members is not None else [()] * len(records)
        members = [
            facts if facts or not record.members else record_facts(record.members, plan, now)
            for record, facts in zip(records, given_facts, strict=True)
        ]
    out: list[ScoreResult] = []
    model.page(records, now, previous, members, out)
    return out


def _utc(now: datetime) -> datetime:
    # callers pass UTC; a naive one must not break scoring
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def evaluate(  # noqa: PLR0913  the inputs of one evaluation and its trace
    record: Record,
    model: ScoringModel,
    now: datetime,
    previous: ScoreResult | None,
    trace: Trace | None,
    *,
    members: Sequence[MemberFacts] = (),
) -> ScoreResult:
    """`score` with an optional trace collector (used by `scoring.explain`)."""
    if trace is None:
        return score(record, model, now, previous, members=members)
    now = _utc(now)
    props = record.properties
    if props.__class__ is not dict and not isinstance(props, Mapping):
        props = {}
    values = Values(model.known(props), now)
    events: EventTotals = _EMPTY
    if model.event_rules and record.events:
        events = collect_events(record.events, model.event_rules, now)
    items: list[Item] = []
    disqualified = None
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
        _trace_rollups(model, rolled, trace)
    contributions = tuple([item[0] for item in items])
    points = [c.points for c in contributions]
    # fsum is exact and order-free, so anyone can re-add the contributions and get these values.
    fit_raw = fsum(points[:fit_items])
    interest_raw = fsum(points[fit_items:])

    spec = model.spec
    fit = round_half(scale(fit_raw, model.fit_max))
    interest = round_half(scale(interest_raw, model.interest_max))
    w_fit, w_interest = spec.weights
    total = round_half(w_fit * fit + w_interest * interest)

    grade = band(spec.grades, fit)
    trace.grade_before_overrides = grade
    if model.overrides:
        grade = apply_overrides(model.overrides, model.grades, values, grade, trace)
    tier = band(spec.tiers, interest)
    if disqualified is not None:
        fit, total = 0, 0
        grade = model.grades[-1]
    label = grade + tier

    qualified, qualified_at = qualify(
        model.qualify_enter,
        model.qualify_exit,
        spec.qualify.cooldown_days if spec.qualify is not None else 0.0,
        now=now,
        previous=previous,
        fields=(fit, interest, total, grade, tier, label),
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


def _completeness(model: ScoringModel, values: Values) -> float:
    names = model.completeness_properties
    if not names:
        return 1.0
    return share(sum(1 for name in names if values.present(name)), len(names))
