"""`explain`: a structured trace of how a record got its score, plus a text rendering.

The trace lists every rule of the model in file order, whether it fired, the values it looked at,
its points before and after caps, event counts, ages and decay, then group caps, disqualifiers,
grade overrides, thresholds and the qualification decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scoring.conditions import LeafTrace, Values, describe_cond, trace_cond
from scoring.evaluate import evaluate
from scoring.model import CompiledRule, ScoringModel
from scoring.rollup import MemberFacts, record_facts
from scoring.rules import band_text
from scoring.spec import RollupSpec
from scoring.trace import CheckTrace, GroupTrace, QualifyTrace, RuleTrace, Trace
from scoring.types import Record, ScoreResult


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    """A rule's trace with the condition leaves it tested and a one-line description."""

    trace: RuleTrace
    test: str
    leaves: tuple[LeafTrace, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    record_id: str
    model_name: str
    model_version: str
    now: datetime
    result: ScoreResult
    rules: tuple[RuleExplanation, ...]
    groups: tuple[GroupTrace, ...]
    checks: tuple[CheckTrace, ...]
    qualify: QualifyTrace | None
    grade_before_overrides: str | None
    grades: tuple[tuple[str, float], ...]
    tiers: tuple[tuple[str, float], ...]
    missing: tuple[str, ...]
    #: Account models: the facts of the people the roll-ups read.
    members: tuple[MemberFacts, ...] = ()
    #: People models: how the person was tied to their account (e.g. a domain match).
    account_link: str | None = None
    #: Account models: how each member was tied to the account (`Record.link`), by member id.
    member_links: tuple[tuple[str, str], ...] = ()
    #: Account models: the roll-up rules' names, in the order of each member's `values`.
    member_rules: tuple[str, ...] = ()
    #: (property, value as sent) of the values the model's placeholders made "no data".
    placeholders: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form."""
        links = dict(self.member_links)
        return {
            "record_id": self.record_id,
            "model": self.model_name,
            "model_version": self.model_version,
            "now": self.now.isoformat(),
            "result": self.result.to_dict(),
            "rules": [
                {
                    "rule": r.trace.rule,
                    "dimension": r.trace.dimension,
                    "group": r.trace.group,
                    "kind": r.trace.kind,
                    "matched": r.trace.matched,
                    "points": r.trace.points,
                    "earned": r.trace.earned,
                    "count": r.trace.count,
                    "age_days": r.trace.age_days,
                    "decay": r.trace.decay,
                    "note": r.trace.note,
                    "test": r.test,
                    "values": [
                        {"property": leaf.prop, "op": leaf.op, "value": _jsonable(leaf.value),
                         "matched": leaf.matched}
                        for leaf in r.leaves
                    ],
                }
                for r in self.rules
            ],
            "groups": [
                {"name": g.name, "dimension": g.dimension, "max": g.max,
                 "total_before_cap": g.total_before_cap, "total": g.total}
                for g in self.groups
            ],
            "checks": [
                {"name": c.name, "kind": c.kind, "matched": c.matched, "effect": c.effect}
                for c in self.checks
            ],
            "qualify": None
            if self.qualify is None
            else {
                "previously": self.qualify.previously,
                "enter_holds": self.qualify.enter_holds,
                "exit_holds": self.qualify.exit_holds,
                "cooldown_held": self.qualify.cooldown_held,
                "decision": self.qualify.decision,
                "why": self.qualify.why,
            },
            "missing": list(self.missing),
            "members": [
                {**m.to_dict(), "link": links.get(m.id)} for m in self.members
            ],
            "member_rules": list(self.member_rules),
            "account_link": self.account_link,
            "placeholders": {name: value for name, value in self.placeholders},
        }  # fmt: skip

    def to_text(self) -> str:  # noqa: PLR0912  one branch per part of the explanation
        """A readable multi-line rendering for `leadsync explain`."""
        r = self.result
        out = [
            f"record {self.record_id}  model {self.model_name} ({self.model_version})"
            f"  as of {self.now.isoformat()}",
            f"fit {r.fit} (raw {r.fit_raw:g})  interest {r.interest} (raw {r.interest_raw:g})"
            f"  score {r.score}  label {r.label}  qualified {'yes' if r.qualified else 'no'}"
            f"  completeness {r.completeness:.0%}",
        ]
        if r.disqualified_reason:
            out.append(f"DISQUALIFIED: {r.disqualified_reason}")
        for dimension in ("fit", "interest"):
            out.append(f"{dimension}:")
            for rule in self.rules:
                if rule.trace.dimension == dimension:
                    out.extend(_rule_lines(rule))
            for group in self.groups:
                if group.dimension == dimension and group.name and group.max is not None:
                    state = "cap reached" if group.total != group.total_before_cap else "under cap"
                    out.append(
                        f"  group {group.name}: {group.total_before_cap:g} -> {group.total:g} "
                        f"(max {group.max:g}, {state})"
                    )
        for check in self.checks:
            mark = "x" if check.matched else " "
            effect = f": {check.effect}" if check.effect else ""
            out.append(f"[{mark}] {check.kind} {check.name}{effect}")
        grades = ", ".join(f"{g}>={t:g}" for g, t in self.grades)
        tiers = ", ".join(f"{t}>={v:g}" for t, v in self.tiers)
        before = self.grade_before_overrides
        shift = f" (before overrides {before})" if before and before != r.grade else ""
        out.append(f"grade {r.grade}{shift} [{grades}]  tier {r.tier} [{tiers}]")
        if self.qualify is not None:
            q = self.qualify
            was = (
                "new"
                if q.previously is None
                else ("qualified" if q.previously else "not qualified")
            )
            now_text = "qualified" if q.decision else "not qualified"
            out.append(f"qualification: {was} -> {now_text} ({q.why})")
        if self.missing:
            out.append(f"no data for: {', '.join(self.missing)}")
        if self.placeholders:
            shown = ", ".join(f"{name}={value!r}" for name, value in self.placeholders)
            out.append(f"placeholders (read as no data): {shown}")
        if self.account_link is not None:
            out.append(f"account: {self.account_link}")
        if self.members:
            out.append(f"members: {len(self.members)}")
            links = dict(self.member_links)
            out.extend(
                _member_line(m, links.get(m.id), self.member_rules)
                for m in self.members[:MEMBERS_SHOWN]
            )
            if len(self.members) > MEMBERS_SHOWN:
                out.append(f"  ... and {len(self.members) - MEMBERS_SHOWN} more")
        if r.reasons:
            out.append("reasons: " + " | ".join(r.reasons))
        if r.changes:
            out.append("changes: " + " | ".join(r.changes))
        return "\n".join(out)


MEMBERS_SHOWN = 25


def _member_line(member: MemberFacts, link: str | None, rules: Sequence[str]) -> str:
    """One member's role-weighted value under each roll-up rule, named by the rule."""
    values = ", ".join(f"{rule}: {v:g}" for rule, v in zip(rules, member.values, strict=True))
    via = f"  via {link}" if link else ""
    return f"  {member.id} {member.title} (weight {member.weight:g}): [{values}]{via}"


def _rule_lines(rule: RuleExplanation) -> list[str]:
    t = rule.trace
    mark = "x" if t.matched else " "
    points = f"{t.points:+g}" if t.matched else "0"
    extra = []
    if t.count > 1 or (t.kind == "event" and t.matched):
        extra.append(f"{t.count}x")
    if t.age_days is not None:
        extra.append(f"newest {t.age_days:.1f}d ago")
    if t.decay and t.matched:
        extra.append(t.decay)
    if t.matched and t.earned != t.points:
        extra.append(f"earned {t.earned:g} before the group cap")
    if t.note:
        extra.append(t.note)
    where = f" [{t.group}]" if t.group else ""
    lines = [
        f"  [{mark}] {points:>7} {t.rule}{where}: {rule.test}"
        + (f" ({'; '.join(extra)})" if extra else "")
    ]
    for leaf in rule.leaves:
        ok = "yes" if leaf.matched else "no"
        lines.append(f"          {leaf.prop} = {leaf.value!r} -> {leaf.op}: {ok}")
    return lines


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _test_text(rule: CompiledRule) -> str:
    spec = rule.spec
    if spec.kind == "condition" and spec.cond is not None:
        text = describe_cond(spec.cond)
        return text + (f", aged from {spec.age_from}" if spec.age_from else "")
    if spec.kind == "event":
        where = f" where {describe_cond(spec.where)}" if spec.where is not None else ""
        window = f" within {spec.within_days:g}d" if spec.within_days is not None else ""
        how = "bands on count" if spec.bands else f"{spec.points:+g} each"
        cap = f", max {spec.max:g}" if spec.max is not None else ""
        return f"{spec.event}{where}{window}: {how}{cap}"
    if spec.kind == "elapsed":
        cap = f", max {spec.max:g}" if spec.max is not None else ""
        return f"{spec.property}: {spec.points:+g} every {spec.every_days:g}d elapsed{cap}"
    if spec.kind == "recency":
        steps = ", ".join(f"<={b.max:g}d {b.points:+g}" for b in spec.bands)
        return f"days since {spec.property}: {steps}"
    steps = ", ".join(f"{band_text(b)} {b.points:+g}" for b in spec.bands)
    return f"{spec.property} bands: {steps}"


def _rollup_text(rule: RollupSpec) -> str:
    cap = f", max {rule.max:g}" if rule.max is not None else ""
    how = rule.aggregate if rule.aggregate != "top_mean" else f"mean of top {rule.top}"
    if rule.kind == "breadth":
        events = ", ".join(rule.events) if rule.events else "any event"
        steps = ", ".join(f"{band_text(b)} {b.points:+g}" for b in rule.bands)
        return f"people with {events} within {rule.within_days:g}d, counted by role weight: {steps}"
    if rule.kind == "score":
        whose = f" (model {rule.model})" if rule.model else ""
        return f"members' {rule.score}{whose} x role weight, {how}, x {rule.points:g}{cap}"
    where = f" where {describe_cond(rule.where)}" if rule.where is not None else ""
    window = f" within {rule.within_days:g}d" if rule.within_days is not None else ""
    return f"members' {rule.event}{where}{window}: {rule.points:+g} each x role weight, {how}{cap}"


def explain(  # noqa: PLR0913  the inputs of one evaluation
    record: Record,
    model: ScoringModel,
    now: datetime,
    previous: ScoreResult | None = None,
    *,
    members: Sequence[MemberFacts] = (),
    account_link: str | None = None,
) -> Explanation:
    """Score `record` and return the full trace of every rule and decision.

    For an account model, `members` are its people's facts, as for `scoring.score`; for a
    person, `account_link` says how they were tied to their account (shown as is).
    """
    trace = Trace()
    if model.rollup is not None and not members and record.members:
        members = record_facts(record.members, model.rollup, now)
    result = evaluate(record, model, now, previous, trace, members=members)
    rollups = model.rollup.rules if model.rollup is not None else ()
    props = record.properties if isinstance(record.properties, Mapping) else {}
    known = model.known(props)
    values = Values(known, now)
    placeholders = tuple(
        (name, str(props[name]))
        for name in sorted(props)
        if known is not props and known.get(name) is None and props[name] is not None
    )
    rules_by_slot: dict[int, CompiledRule] = {
        rule.slot: rule
        for dim in (model.fit, model.interest)
        for group in dim.groups
        for rule in group.rules
    }
    explained = []
    for rule_trace in sorted(trace.rules, key=lambda t: t.slot):
        if rule_trace.slot >= model.rule_count:
            text = _rollup_text(rollups[rule_trace.slot - model.rule_count])
            explained.append(RuleExplanation(rule_trace, text, ()))
            continue
        rule = rules_by_slot[rule_trace.slot]
        leaves: tuple[LeafTrace, ...] = ()
        if rule.spec.cond is not None:
            _, leaves = trace_cond(rule.spec.cond, values)
        explained.append(RuleExplanation(rule_trace, _test_text(rule), leaves))
    missing = tuple(n for n in model.completeness_properties if not values.present(n))
    return Explanation(
        record_id=str(record.id),
        model_name=model.name,
        model_version=model.version,
        now=now,
        result=result,
        rules=tuple(explained),
        groups=tuple(trace.groups),
        checks=tuple(trace.checks),
        qualify=trace.qualify,
        grade_before_overrides=trace.grade_before_overrides,
        grades=model.spec.grades,
        tiers=model.spec.tiers,
        missing=missing,
        members=tuple(members) if model.rollup is not None else (),
        account_link=account_link,
        member_links=tuple((m.id, m.link) for m in record.members if m.link),
        member_rules=tuple(rule.name for rule in rollups),
        placeholders=placeholders,
    )
