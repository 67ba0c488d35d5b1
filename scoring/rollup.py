"""Account interest rolled up from the account's people (pure: no I/O, no clock).

Two steps, so a run can keep the second one's input between runs:

1. `member_facts(member, plan, now)`: what the roll-up needs of one person, computed once when
   the person is scored: their title, role weight and, per roll-up rule, their role-weighted
   value, occurrence count and newest age (`MemberFacts`, small and serialisable).
2. `rollup_items(facts, plan)`: the account's interest contributions from its members' facts,
   one per roll-up rule that fires, each with a reason line that names the people behind it
   (`+20 4 people engaged in 14 days: VP Sales, CFO, 2x Engineer`).

Aggregations (per rule, over the members' role-weighted values): `sum`, `max`, and `top_mean`
(the mean of the `top` highest values; an account with fewer people averages in zeros, so one
hot person alone does not make a hot account). The aggregate is multiplied by the rule's
`points` (score roll-ups: a scale, default 1) and capped by its `max`. Breadth rules count the
people engaged within D days, each counted by their role weight, and look the count up in bands.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from scoring.coerce import MISSING_TOKENS, round_half_up, to_number
from scoring.conditions import Pred, Values, compile_cond, cond_properties
from scoring.event_codegen import EventRulePlan, compile_event_matcher
from scoring.reasons import signed
from scoring.rules import EventMatcher, Item, band_for, cap, collect_events
from scoring.spec import MEMBER_SCORES, NO_DECAY, Decay, MembersSpec, RollupSpec
from scoring.types import EVENT_TYPES, Contribution, Event, Record, ScoreResult

_INF = math.inf
#: How many people a reason line names before "+N more".
NAMED_PEOPLE = 4


@dataclass(frozen=True, slots=True)
class Member:
    """One person of an account: their properties, events and their own 0-100 `fit`,
    `interest` and `score` (absent: 0)."""

    id: str
    properties: Mapping[str, object]
    events: Sequence[Event] = ()
    scores: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def scored(cls, record: Record, result: ScoreResult) -> Member:
        """A person with the result they were just scored with."""
        scores = {"fit": result.fit, "interest": result.interest, "score": result.score}
        return cls(record.id, record.properties, record.events, scores)

    @classmethod
    def from_record(cls, record: Record, names: Sequence[str] = MEMBER_SCORES) -> Member:
        """A person as read from the CRM: their scores (`names`, output keys: `interest`, or
        `pl_b_interest` of a people model with an output prefix) are leadsync's outputs on the
        record (what the person's own model last wrote), unreadable values as 0."""
        scores = {}
        for name in names:
            number = to_number(record.outputs.get(name))
            scores[name] = number if number is not None else 0.0
        return cls(record.id, record.properties, record.events, scores)


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the roll-up needs of one member; per roll-up rule (in model order) the member's
    role-weighted value, occurrence count and newest age in days (inf when none)."""

    id: str
    title: str
    weight: float
    values: tuple[float, ...]
    counts: tuple[int, ...]
    ages: tuple[float, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable form (ages of inf as None), the inverse of `from_dict`."""
        return {
            "id": self.id,
            "title": self.title,
            "weight": self.weight,
            "values": list(self.values),
            "counts": list(self.counts),
            "ages": [None if a == _INF else a for a in self.ages],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MemberFacts:
        """Rebuild facts stored with `to_dict`."""
        values = data["values"]
        counts = data["counts"]
        ages = data["ages"]
        assert isinstance(values, list) and isinstance(counts, list) and isinstance(ages, list)
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            weight=float(str(data["weight"])),
            values=tuple(float(v) for v in values),
            counts=tuple(int(c) for c in counts),
            ages=tuple(_INF if a is None else float(a) for a in ages),
        )


@dataclass(frozen=True, slots=True)
class RollupPlan:
    """An account model's members section compiled once (see `compile_rollup`)."""

    spec: MembersSpec
    roles: tuple[tuple[str, Pred, float], ...]
    rules: tuple[RollupSpec, ...]
    #: Per event type, the generated matcher of the event and breadth rules (slot = rule index).
    matchers: Mapping[str, EventMatcher]
    #: Properties of a member the roll-up reads (title and role conditions).
    properties: frozenset[str]
    #: Event types of members the roll-up reads.
    event_types: frozenset[str]
    #: The member scores the score roll-ups read, as output keys (`interest`, `pl_b_interest`).
    score_names: tuple[str, ...] = ()
    #: Per rule, the output namespace of the people model whose score a score roll-up reads
    #: (`pl_b_`; "" for the unprefixed outputs and for other kinds), see `with_namespaces`.
    namespaces: tuple[str, ...] = ()
    #: (role inputs, now) -> (weight, title): people share few titles, and RE2 matching is the
    #: costliest step of a member, so each combination is judged once (bounded, see `_who`).
    who: dict[tuple[object, ...], tuple[float, str]] = field(
        default_factory=dict, compare=False, repr=False
    )


def compile_rollup(spec: MembersSpec, interest_decay: Decay) -> RollupPlan:
    """Compile roles into predicates and event and breadth rules into event matchers."""
    plans: dict[str, list[EventRulePlan]] = {}
    for slot, rule in enumerate(spec.rollups):
        within = rule.within_days if rule.within_days is not None else _INF
        if rule.kind == "event" and rule.event is not None:
            decay = rule.decay if rule.decay is not None else interest_decay
            plan = (slot, within, rule.where, rule.points, decay.kind, decay.days)
            plans.setdefault(rule.event, []).append(plan)
        elif rule.kind == "breadth":
            for event_type in rule.events or EVENT_TYPES:
                plan = (slot, within, None, 1.0, NO_DECAY.kind, NO_DECAY.days)
                plans.setdefault(event_type, []).append(plan)
    properties = {spec.title}
    for role in spec.roles:
        properties |= cond_properties(role.cond)
    return RollupPlan(
        spec=spec,
        roles=tuple((r.name, compile_cond(r.cond), r.weight) for r in spec.roles),
        rules=spec.rollups,
        matchers={t: compile_event_matcher(p) for t, p in plans.items()},
        properties=frozenset(properties),
        event_types=frozenset(plans),
        score_names=tuple(sorted({r.score for r in spec.rollups if r.score is not None})),
        namespaces=("",) * len(spec.rollups),
    )


def with_namespaces(plan: RollupPlan, namespaces: Sequence[str]) -> RollupPlan:
    """`plan` whose score roll-ups read the people outputs of `namespaces` (one per rule, in
    model order: `pl_b_` reads `pl_b_interest`), as the configuration resolves each rule's
    `model`."""
    if len(namespaces) != len(plan.rules):
        raise ValueError(f"{len(namespaces)} namespaces for {len(plan.rules)} roll-up rules")
    names = {ns + r.score for ns, r in zip(namespaces, plan.rules, strict=True) if r.score}
    return replace(plan, score_names=tuple(sorted(names)), namespaces=tuple(namespaces), who={})


def member_facts(member: Member, plan: RollupPlan, now: datetime) -> MemberFacts:
    """The roll-up's view of one member as of `now` (never raises on CRM values)."""
    props = member.properties if isinstance(member.properties, Mapping) else {}
    weight, title = _who(props, plan, now)
    totals: Mapping[int, list[float]] = {}
    if plan.matchers and member.events:
        totals = collect_events(member.events, plan.matchers, now)
    scores = member.scores
    values: list[float] = []
    counts: list[int] = []
    ages: list[float] = []
    for slot, rule in enumerate(plan.rules):
        if rule.kind == "score":
            base = float(scores.get(plan.namespaces[slot] + (rule.score or "score"), 0.0))
            values.append(base * weight)
            counts.append(1 if base else 0)
            ages.append(_INF)
            continue
        entry = totals.get(slot)
        if entry is None:
            values.append(0.0)
            counts.append(0)
            ages.append(_INF)
            continue
        values.append(entry[1] * weight if rule.kind == "event" else weight)
        counts.append(int(entry[0]))
        ages.append(entry[2])
    return MemberFacts(
        id=str(member.id),
        title=title,
        weight=weight,
        values=tuple(values),
        counts=tuple(counts),
        ages=tuple(ages),
    )


#: Entries of `RollupPlan.who` before it starts afresh.
WHO_CACHE = 65_536


def _who(props: Mapping[str, object], plan: RollupPlan, now: datetime) -> tuple[float, str]:
    """A member's role weight and shown title (their title, else their role's name)."""
    key: tuple[object, ...] | None = (now, *[props.get(p) for p in sorted(plan.properties)])
    cache = plan.who
    try:
        found = cache.get(key)  # type: ignore[arg-type]
    except TypeError:  # an unhashable CRM value: judge it without the cache
        found, key = None, None
    if found is not None:
        return found
    weight = plan.spec.default_weight
    role = ""
    if plan.roles:
        view = Values(props, now)
        for name, pred, role_weight in plan.roles:
            if pred(view):
                weight, role = role_weight, name
                break
    raw_title = props.get(plan.spec.title)
    title = raw_title.strip() if isinstance(raw_title, str) else ""
    if title.casefold() in MISSING_TOKENS:
        title = ""
    found = (weight, title or role or "(no title)")
    if key is not None:
        if len(cache) >= WHO_CACHE:
            cache.clear()
        cache[key] = found
    return found


def record_facts(members: Sequence[Record], plan: RollupPlan, now: datetime) -> list[MemberFacts]:
    """`member_facts` of people read from the CRM with their account (`Member.from_record`)."""
    names = plan.score_names
    return [member_facts(Member.from_record(m, names), plan, now) for m in members]


def rollup_items(facts: Sequence[MemberFacts], plan: RollupPlan) -> list[Item]:
    """The account's roll-up contributions (interest), one per rule that fires, in model order."""
    items: list[Item] = []
    for slot, rule in enumerate(plan.rules):
        item = (
            _breadth(slot, rule, facts) if rule.kind == "breadth" else _aggregate(slot, rule, facts)
        )
        if item is not None:
            items.append(item)
    return items


def _aggregate(slot: int, rule: RollupSpec, facts: Sequence[MemberFacts]) -> Item | None:
    engaged = [f for f in facts if f.values[slot] != 0.0]
    if not engaged:
        return None

    def by_value(f: MemberFacts) -> float:
        return f.values[slot]

    how = rule.aggregate
    if how == "sum":
        total = math.fsum(f.values[slot] for f in engaged)
        named = heapq.nlargest(NAMED_PEOPLE, engaged, key=by_value)
        scope = _people_count(len(engaged))
    elif how == "max":
        best = max(engaged, key=by_value)
        total = best.values[slot]
        named = [best]
        scope = f"highest of {_people_count(len(engaged))}"
    else:
        top = heapq.nlargest(rule.top, engaged, key=by_value)
        total = math.fsum(f.values[slot] for f in top) / rule.top
        named = top[:NAMED_PEOPLE]
        scope = f"mean of top {rule.top} of {_people_count(len(engaged))}"
    scaled = total * rule.points if rule.kind == "score" else total
    points = cap(scaled, rule.max)
    if rule.kind == "score":
        people = ", ".join(_scored(f, slot) for f in named)
        whose = f"{rule.model} " if rule.model else ""
        detail = f"{scope} by {whose}{rule.score}: {people}"
        age = None
    else:
        occurrences = sum(f.counts[slot] for f in engaged)
        detail = f"{occurrences}x {rule.event}, {scope}: {_titles(named, len(engaged))}"
        age = min(f.ages[slot] for f in engaged)
    if named and len(engaged) > len(named) and rule.kind == "score":
        detail += f", +{len(engaged) - len(named)} more"
    if points != scaled:
        detail += f"; capped at {_whole(points)}"
    contribution = Contribution(rule.name, "interest", points, detail, None, age)
    line = f"{signed(points)} {rule.name}: {detail}"
    return (contribution, len(engaged), line, -abs(points))


def _breadth(slot: int, rule: RollupSpec, facts: Sequence[MemberFacts]) -> Item | None:
    engaged = [f for f in facts if f.counts[slot] > 0 and f.weight > 0]
    if not engaged:
        return None
    counted = math.fsum(f.weight for f in engaged)
    band = band_for(rule.bands, counted)
    if band is None:
        return None
    engaged.sort(key=lambda f: (-f.weight, f.ages[slot], f.title.casefold()))
    days = _whole(rule.within_days) if rule.within_days is not None else "all"
    people = len(engaged)
    head = f"{_people_count(people)} engaged in {days} days"
    if counted != people:
        head += f" (counted {_whole(counted)} by role)"
    detail = f"{head}: {_titles(engaged, people)}"
    age = min(f.ages[slot] for f in engaged)
    contribution = Contribution(rule.name, "interest", band.points, detail, None, age)
    line = f"{signed(band.points)} {detail}"
    return (contribution, people, line, -abs(band.points))


def _titles(people: Sequence[MemberFacts], total: int) -> str:
    """`VP Sales, CFO, 2x Engineer`: the first `NAMED_PEOPLE` titles, then `+N more`."""
    spelling: dict[str, str] = {}
    tally: dict[str, int] = {}
    for person in people:
        key = person.title.casefold()
        if key in tally:
            tally[key] += 1
        elif len(tally) < NAMED_PEOPLE:
            spelling[key] = person.title
            tally[key] = 1
    parts = [f"{n}x {spelling[k]}" if n > 1 else spelling[k] for k, n in tally.items()]
    named = sum(tally.values())
    if total > named:
        parts.append(f"+{total - named} more")
    return ", ".join(parts)


def _scored(person: MemberFacts, slot: int) -> str:
    """`CFO 60`, or `VP Sales 80x2` when the role weight is not 1."""
    if person.weight in {1.0, 0.0}:
        return f"{person.title} {_whole(person.values[slot])}"
    own = person.values[slot] / person.weight
    return f"{person.title} {_whole(own)}x{person.weight:g}"


def _people_count(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def _whole(number: float) -> str:
    return str(round_half_up(number))
