"""`ScoringModel`: a validated `ModelSpec` compiled once for fast scoring.

Compiling turns every condition into a predicate (regexes compiled, constants coerced), resolves
each event rule's effective decay, indexes event rules by event type and computes the version: a
hash of the normalized spec. The version ignores formatting, comments, key order, shorthand versus
long form, the order of values in a list test and the names of named lists, and the model's own
`name`/`description`; it changes when anything that affects the written values changes, including
rule names (they appear in the reasons written to the CRM).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass

from scoring.codegen import (
    EventRulePlan,
    GroupPlan,
    PageFunction,
    PageTail,
    RulePlan,
    compile_event_matcher,
    compile_page_scorer,
    compile_values_predicate,
    slots_constructor,
)
from scoring.conditions import Pred, Values, compile_cond, cond_properties
from scoring.outcome import apply_overrides, qualifier, share
from scoring.placeholders import PlaceholderFilter, Properties, placeholder_filter
from scoring.reasons import change_lines_of, reason_line
from scoring.rollup import RollupPlan, compile_rollup, rollup_items
from scoring.rules import (
    Dimension,
    EventMatcher,
    Item,
    Runner,
    band_items,
    cap_into,
    event_plan,
    fixed_item,
    make_runner,
    recency_steps,
)
from scoring.spec import ACCOUNT_PREFIX, NO_DECAY, Decay, ModelSpec, RuleSpec
from scoring.types import ScoreResult


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate; `slot` is its position among all rules of the model."""

    spec: RuleSpec
    dimension: Dimension
    group: str | None
    slot: int
    pred: Pred | None
    where: Pred | None
    decay: Decay
    run: Runner
    #: The constant result of a plain condition rule (None for other rules).
    fixed: Item | None


@dataclass(frozen=True, slots=True)
class CompiledGroup:
    """Rules sharing a cap. Ungrouped rules form a group with `name` None and no cap."""

    name: str | None
    rules: tuple[CompiledRule, ...]
    first_match: bool
    max: float | None
    runners: tuple[Runner, ...]
    #: No cap and no first_match: every rule's result is kept as is.
    plain: bool


@dataclass(frozen=True, slots=True)
class CompiledDimension:
    max: float
    groups: tuple[CompiledGroup, ...]


@dataclass(frozen=True, slots=True)
class CompiledCheck:
    name: str
    pred: Pred
    reason: str = ""
    at_least: str | None = None
    at_most: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class ScoringModel:
    """A compiled scoring model. Build it with `compile_model` (or `config.model_loader`)."""

    spec: ModelSpec
    name: str
    object: str
    version: str
    properties: frozenset[str]
    event_types: frozenset[str]
    grades: tuple[str, ...]
    tiers: tuple[str, ...]
    labels: tuple[str, ...]
    fit_max: float
    interest_max: float
    fit: CompiledDimension
    interest: CompiledDimension
    #: Per event type, the generated matcher of that type's event rules.
    event_rules: dict[str, EventMatcher]
    disqualifiers: tuple[CompiledCheck, ...]
    overrides: tuple[CompiledCheck, ...]
    qualify_enter: Pred | None
    qualify_exit: Pred | None
    #: CRM lifecycle stage to move a record to when it becomes qualified (None: never touch it).
    qualify_lifecycle_stage: str | None
    completeness_properties: tuple[str, ...]
    rule_count: int
    #: The generated scorer of a page of records (see scoring.codegen and `score_page`).
    page: PageFunction
    #: Account models: roles and roll-ups over the account's people (None for people models).
    rollup: RollupPlan | None = None
    #: People models: the `account.<field>` names the rules read from the person's account.
    account_fields: frozenset[str] = frozenset()
    #: The declared placeholder values as a filter of a record's properties (None: none).
    placeholder_filter: PlaceholderFilter | None = None
    #: The file the model was read from (`config.model_loader.load_model`), for messages; None
    #: when compiled from text or a spec.
    source: str | None = None

    def known(self, properties: Properties) -> Properties:
        """`properties` with the model's placeholder values (`Select`, ...) as None: what the
        rules read. The same mapping when the model declares no placeholders."""
        if self.placeholder_filter is None:
            return properties
        return self.placeholder_filter(properties)


def model_version(spec: ModelSpec) -> str:
    """The stable content hash of a spec (12 hex digits)."""
    data = _canonical(spec)
    assert isinstance(data, dict)
    data.pop("name", None)
    data.pop("description", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _canonical(value: object) -> object:
    """JSON-ready data naming each node's type, so that e.g. `all` and `any` hash apart."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {"@": type(value).__name__}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            # An optional key left out (at its default) hashes as if the language never had it,
            # so adding one keeps the versions of existing models.
            if field.metadata.get("hash_when_set") and item == field.default:
                continue
            out[field.name] = _canonical(item)
        return out
    if isinstance(value, tuple | list):
        return [_canonical(item) for item in value]
    if isinstance(value, bool | str | int | float) or value is None:
        return value
    return str(value)


def _compile_rule(
    spec: RuleSpec, dimension: Dimension, group: str | None, slot: int, default_decay: Decay
) -> CompiledRule:
    pred = compile_cond(spec.cond) if spec.cond is not None else None
    decay = spec.decay if spec.decay is not None else default_decay
    return CompiledRule(
        spec=spec,
        dimension=dimension,
        group=group,
        slot=slot,
        pred=pred,
        where=compile_cond(spec.where) if spec.where is not None else None,
        decay=decay,
        run=make_runner(spec, dimension, group, slot=slot, pred=pred, decay=decay),
        fixed=fixed_item(spec, dimension, group),
    )


def _rule_properties(rule: RuleSpec) -> frozenset[str]:
    props = cond_properties(rule.cond)
    if rule.property:
        props |= {rule.property}
    if rule.age_from:
        props |= {rule.age_from}
    return props


def rules_reading(
    spec: ModelSpec, event_types: Collection[str], prefixes: Collection[str]
) -> list[str]:
    """The names of the spec's rules, disqualifiers and overrides that read events of
    `event_types` or a property beginning with one of `prefixes` (such as `company.`), in
    the spec's order."""
    starts = tuple(prefixes)

    def reads(props: frozenset[str]) -> bool:
        return bool(starts) and any(p.startswith(starts) for p in props)

    names = [
        r.name for r in spec.every_rule if r.event in event_types or reads(_rule_properties(r))
    ]
    names += [d.name for d in spec.disqualify if reads(cond_properties(d.cond))]
    names += [o.name for o in spec.overrides if reads(cond_properties(o.cond))]
    return names


def spec_properties(spec: ModelSpec) -> frozenset[str]:
    """Every record property a spec reads (rules, disqualifiers, overrides, completeness),
    without its `account.<field>` values."""
    props: set[str] = set(spec.completeness)
    for rule in spec.every_rule:
        props |= _rule_properties(rule)
    for cond in [d.cond for d in spec.disqualify] + [o.cond for o in spec.overrides]:
        props |= cond_properties(cond)
    return frozenset(p for p in props if not p.startswith(ACCOUNT_PREFIX))


def compile_model(spec: ModelSpec) -> ScoringModel:
    """Compile a validated spec. The spec is trusted: validation happens in the loader."""
    slot = 0
    dims: dict[Dimension, CompiledDimension] = {}
    properties: set[str] = set()
    fit_properties: list[str] = []
    events: dict[str, list[EventRulePlan]] = {}
    for dimension in ("fit", "interest"):
        dim_spec = spec.fit if dimension == "fit" else spec.interest
        default_decay = dim_spec.decay if dimension == "interest" else NO_DECAY
        groups: list[CompiledGroup] = []
        sources: list[tuple[str | None, tuple[RuleSpec, ...], bool, float | None]] = [
            (g.name, g.rules, g.first_match, g.max) for g in dim_spec.groups
        ]
        if dim_spec.rules:
            sources.append((None, dim_spec.rules, False, None))
        for name, rule_specs, first_match, cap in sources:
            compiled: list[CompiledRule] = []
            for rule_spec in rule_specs:
                rule = _compile_rule(rule_spec, dimension, name, slot, default_decay)
                slot += 1
                compiled.append(rule)
                props = _rule_properties(rule_spec)
                properties |= props
                if dimension == "fit":
                    fit_properties.extend(sorted(props - set(fit_properties)))
                if rule_spec.event is not None:
                    within = rule_spec.within_days
                    params: EventRulePlan = (
                        rule.slot,
                        within if within is not None else float("inf"),
                        rule_spec.where,
                        rule_spec.points,
                        rule.decay.kind,
                        rule.decay.days,
                    )
                    events.setdefault(rule_spec.event, []).append(params)
            runners = tuple(r.run for r in compiled)
            plain = not first_match and cap is None
            groups.append(CompiledGroup(name, tuple(compiled), first_match, cap, runners, plain))
        dims[dimension] = CompiledDimension(dim_spec.max, tuple(groups))

    disqualifiers = tuple(
        CompiledCheck(d.name, compile_values_predicate(d.cond), reason=d.reason)
        for d in spec.disqualify
    )
    overrides = tuple(
        CompiledCheck(
            o.name, compile_values_predicate(o.cond), at_least=o.at_least, at_most=o.at_most
        )
        for o in spec.overrides
    )
    for check_cond in [d.cond for d in spec.disqualify] + [o.cond for o in spec.overrides]:
        properties |= cond_properties(check_cond)
    grades = tuple(g for g, _ in spec.grades)
    tiers = tuple(t for t, _ in spec.tiers)
    qualify = spec.qualify
    # `account.<field>` values come from the person's account result, not from the CRM.
    account_fields = frozenset(p for p in properties if p.startswith(ACCOUNT_PREFIX))
    properties -= account_fields
    fit_properties = [p for p in fit_properties if p not in account_fields]
    completeness = spec.completeness or tuple(fit_properties)
    clean = placeholder_filter(spec.placeholders, spec.property_placeholders)
    event_rules = {k: compile_event_matcher(v) for k, v in events.items()}
    rollup = compile_rollup(spec.members, spec.interest.decay) if spec.members else None
    qualify_enter = compile_values_predicate(qualify.enter) if qualify else None
    qualify_exit = compile_values_predicate(qualify.exit) if qualify and qualify.exit else None
    version = model_version(spec)
    override_checks = overrides

    def override(values: Values, grade: str) -> str:
        return apply_overrides(override_checks, grades, values, grade, None)

    page = compile_page_scorer(
        _plan(dims["fit"]),
        _plan(dims["interest"]),
        [d.cond for d in spec.disqualify],
        cap_into,
        tail=PageTail(
            fit_max=spec.fit.max,
            interest_max=spec.interest.max,
            weights=spec.weights,
            grades=spec.grades,
            tiers=spec.tiers,
            version=version,
            reasons_top=spec.reasons_top,
            changes_top=spec.changes_top,
            completeness=completeness,
            disqualified_reasons=[d.reason or d.name for d in disqualifiers],
            overrides=override if overrides else None,
            qualify=qualifier(
                qualify_enter, qualify_exit, qualify.cooldown_days if qualify else 0.0
            ),
            enter=qualify.enter if qualify else None,
            exit=qualify.exit if qualify else None,
            cooldown=qualify.cooldown_days if qualify else 0.0,
            matchers=event_rules,
            event_plans=events,
            rollup=rollup,
            clean=clean,
        ),
        helpers={
            "RESULT": slots_constructor(ScoreResult),
            "LINE": reason_line,
            "CHANGES": change_lines_of,
            "SHARE": share,
            "ROLLUP": rollup_items,
        },
    )
    return ScoringModel(
        spec=spec,
        name=spec.name,
        object=spec.object,
        version=version,
        properties=frozenset(properties),
        event_types=frozenset(events),
        grades=grades,
        tiers=tiers,
        labels=tuple(g + t for g in grades for t in tiers),
        fit_max=spec.fit.max,
        interest_max=spec.interest.max,
        fit=dims["fit"],
        interest=dims["interest"],
        event_rules=event_rules,
        disqualifiers=disqualifiers,
        overrides=overrides,
        qualify_enter=qualify_enter,
        qualify_exit=qualify_exit,
        qualify_lifecycle_stage=qualify.lifecycle_stage if qualify else None,
        completeness_properties=completeness,
        rule_count=slot,
        page=page,
        rollup=rollup,
        account_fields=account_fields,
        placeholder_filter=clean,
    )


def _plan(dim: CompiledDimension) -> list[GroupPlan]:
    return [
        (group.name, [_rule_plan(r) for r in group.rules], group.first_match, group.max)
        for group in dim.groups
    ]


def _rule_plan(rule: CompiledRule) -> RulePlan:
    spec = rule.spec
    if rule.fixed is not None:
        return RulePlan(rule.run, cond=spec.cond, fixed=rule.fixed)
    if spec.kind == "bands" and spec.property:
        table = band_items(spec, rule.dimension, rule.group)
        return RulePlan(rule.run, bands=(spec.property, table))
    if spec.kind == "recency" and spec.property:
        steps = recency_steps(spec, rule.dimension, rule.group)
        return RulePlan(rule.run, recency=(spec.property, steps))
    if spec.kind == "event":
        return RulePlan(
            rule.run, event=event_plan(spec, rule.dimension, rule.group, rule.slot, rule.decay)
        )
    return RulePlan(rule.run)


def event_horizon_days(spec: ModelSpec, event_type: str) -> float | None:
    """How many days back an event of `event_type` can still change a score: the longest
    horizon of the rules on it (`within_days`, or a linear decay's length when no count bands
    read the events), None when some rule reads events of any age (half-life decay, no decay
    or count bands without `within_days`) or no rule reads that type."""
    longest = 0.0
    found = False
    for dimension in (spec.fit, spec.interest):
        for rule in dimension.every_rule:
            if rule.event != event_type:
                continue
            found = True
            decay = rule.decay if rule.decay is not None else dimension.decay
            if rule.within_days is not None:
                horizon = rule.within_days
            elif decay.kind == "linear" and not rule.bands:
                horizon = decay.days
            else:
                return None
            longest = max(longest, horizon)
    return longest if found else None
