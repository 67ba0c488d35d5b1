"""Compile a model's rule groups into one generated Python function (the scoring fast path).

The closures in `scoring.conditions` and `scoring.rules` cost a few Python calls per rule, which
dominates a properties-only model. Here the whole rule evaluation of a model becomes one function:
every property the conditions read is coerced once into a local, each condition becomes an inline
expression over those locals, constant results are prebuilt items, and rules that need more
(events, recency, elapsed time, age-decayed conditions) call their runner. The generated source
holds only identifiers and `repr()` of validated constants; everything else is passed in the
namespace. `explain` does not use the rule function: it runs the closures with a trace, and tests
check both paths give the same results. Events are matched by generated per-type functions on
both paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from math import fsum
from typing import Any, cast

from scoring.coerce import MISSING_TOKENS, to_bool, to_datetime, to_domain, to_number, to_text
from scoring.conditions import Values, compile_leaf
from scoring.patterns import compile_matcher
from scoring.rules import BandTable, Item, RecencySteps, Runner, collect_events
from scoring.spec import AllOf, AnyOf, Band, Cond, Leaf, NotOf


@dataclass(frozen=True, slots=True)
class RulePlan:
    """How the fast path evaluates one rule: inline when it can, else by calling `runner`.

    `cond` + `fixed`: a plain condition and its constant item; `bands`: (property, band table);
    `recency`: (date property, steps).
    """

    runner: Runner
    cond: Cond | None = None
    fixed: Item | None = None
    bands: tuple[str, BandTable] | None = None
    recency: tuple[str, RecencySteps] | None = None


#: (group name, rules, first_match, cap)
GroupPlan = tuple[str | None, Sequence[RulePlan], bool, float | None]

_DAY_SECONDS = 86400.0
_INF = float("inf")


class _Builder:
    """Generates expressions over coerced locals; `fields` binds property names to existing
    variables (any other property reads as None) instead of reading them from `raw`."""

    def __init__(
        self,
        now_name: str = "now",
        *,
        fields: Mapping[str, str] | None = None,
        prefix: str = "",
        ns: dict[str, Any] | None = None,
    ) -> None:
        self.needs_values = False
        self.fields = fields
        self.prefix = prefix
        self.ns: dict[str, Any] = (
            ns
            if ns is not None
            else {
                "VALUES": Values,
                "MISSING": MISSING_TOKENS,
                "TXT": to_text,
                "NUM": to_number,
                "DATE": to_datetime,
                "DOM": to_domain,
                "BOOL": to_bool,
                "inf": _INF,
            }
        )
        self.locals: dict[tuple[str, str], str] = {}
        self.prologue: list[str] = []
        self.raw_names: dict[str, str] = {}
        self.now = now_name

    def const(self, value: object, prefix: str = "K") -> str:
        name = f"{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def _raw(self, prop: str) -> str:
        name = self.raw_names.get(prop)
        if name is None:
            name = self.raw_names[prop] = f"{self.prefix}x{len(self.raw_names)}"
            if self.fields is None:
                self.prologue.append(f"{name} = get({prop!r})")
            else:
                self.prologue.append(f"{name} = {self.fields.get(prop, 'None')}")
        return name

    def local(self, prop: str, kind: str) -> str:
        """A local holding `prop` coerced to `kind` (t text, n number, d date, m domain, a age,
        s regex subject), computed once in the prologue."""
        key = (prop, kind)
        name = self.locals.get(key)
        if name is not None:
            return name
        raw = self._raw(prop)
        name = f"{self.prefix}{kind}{len(self.locals)}"
        if kind == "t":
            self.prologue.append(
                f"{name} = {raw}.strip().casefold() if {raw}.__class__ is str else TXT({raw})"
            )
            self.prologue.append(f"if {name} in MISSING: {name} = None")
        elif kind == "n":
            self.prologue.append(f"{name} = NUM({raw})")
        elif kind == "d":
            self.prologue.append(f"{name} = DATE({raw})")
        elif kind == "m":
            self.prologue.append(f"{name} = DOM({raw})")
        elif kind == "a":
            date = self.local(prop, "d")
            self.prologue.append(
                f"{name} = None if {date} is None else "
                f"({self.now} - {date}).total_seconds() / {_DAY_SECONDS!r}"
            )
        else:  # "s": the raw text for regexes
            text = self.local(prop, "t")
            self.prologue.append(f"{name} = {raw} if {raw}.__class__ is str else {text}")
        self.locals[key] = name
        return name

    def expr(self, cond: Cond) -> str:
        if isinstance(cond, Leaf):
            return self.leaf(cond)
        if isinstance(cond, NotOf):
            return f"(not {self.expr(cond.item)})"
        joiner = " and " if isinstance(cond, AllOf) else " or "
        assert isinstance(cond, AllOf | AnyOf)
        return "(" + joiner.join(self.expr(c) for c in cond.items) + ")"

    def leaf(self, leaf: Leaf) -> str:  # noqa: PLR0912  one branch per condition operator
        p, op, arg = leaf.prop, leaf.op, leaf.arg
        if op in ("eq", "neq") and isinstance(arg, str):
            t = self.local(p, "t")
            return f"({t} == {arg!r})" if op == "eq" else f"({t} is not None and {t} != {arg!r})"
        if op in ("eq", "neq") and isinstance(arg, float):
            n = self.local(p, "n")
            test = f"{n} == {arg!r}"
            return (
                f"({test})" if op == "eq" else f"({self.local(p, 't')} is not None and not {test})"
            )
        if op in ("in", "not_in") and isinstance(arg, tuple):
            texts = frozenset(a for a in arg if isinstance(a, str))
            numbers = frozenset(a for a in arg if isinstance(a, float))
            if len(texts) + len(numbers) == len(arg):
                t = self.local(p, "t")
                parts = [f"{t} in {self.const(texts)}"] if texts else []
                if numbers:
                    parts.append(f"{self.local(p, 'n')} in {self.const(numbers)}")
                test = " or ".join(parts)
                return f"({test})" if op == "in" else f"({t} is not None and not ({test}))"
        if op in ("contains", "not_contains", "starts_with", "ends_with") and isinstance(
            arg, tuple
        ):
            t = self.local(p, "t")
            needles = tuple(str(a) for a in arg)
            if op in ("starts_with", "ends_with"):
                method = "startswith" if op == "starts_with" else "endswith"
                return f"({t} is not None and {t}.{method}({self.const(needles)}))"
            test = " or ".join(f"{n!r} in {t}" for n in needles)
            if op == "contains":
                return f"({t} is not None and ({test}))"
            return f"({t} is not None and not ({test}))"
        if op == "matches" and isinstance(arg, str):
            s = self.local(p, "s")
            search = self.const(compile_matcher(arg), "R")
            return f"({s} is not None and {search}({s}))"
        if op in ("exists", "missing") and isinstance(arg, bool):
            t = self.local(p, "t")
            present = arg if op == "exists" else not arg
            return f"({t} is not None)" if present else f"({t} is None)"
        if op in ("gt", "gte", "lt", "lte"):
            symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
            if isinstance(arg, float):
                n = self.local(p, "n")
                return f"({n} is not None and {n} {symbol} {arg!r})"
            if isinstance(arg, str):
                d = self.local(p, "d")
                return f"({d} is not None and {d} {symbol} {self.const(to_datetime(arg), 'D')})"
        if op == "between" and isinstance(arg, tuple):
            low, high = arg
            if isinstance(low, float) and isinstance(high, float):
                n = self.local(p, "n")
                return f"({n} is not None and {low!r} <= {n} <= {high!r})"
        if op == "domain_in" and isinstance(arg, tuple):
            m = self.local(p, "m")
            domains = frozenset(str(a) for a in arg)
            suffixes = tuple("." + d for d in sorted(domains))
            return (
                f"({m} is not None and ({m} in {self.const(domains)} "
                f"or {m}.endswith({self.const(suffixes)})))"
            )
        if op in ("within_days", "older_than_days") and isinstance(arg, float):
            a = self.local(p, "a")
            symbol = "<=" if op == "within_days" else ">"
            return f"({a} is not None and {a} {symbol} {arg!r})"
        # Anything else (bool equality, date between, mixed lists) uses the compiled closure.
        self.needs_values = True
        return f"{self.const(compile_leaf(leaf), 'L')}(values)"


@dataclass(frozen=True, slots=True)
class PageTail:
    """What the page scorer needs of a model beyond its rules: the fields of the result."""

    fit_max: float
    interest_max: float
    weights: tuple[float, float]
    grades: tuple[tuple[str, float], ...]
    tiers: tuple[tuple[str, float], ...]
    version: str
    reasons_top: int
    changes_top: int
    completeness: Sequence[str]
    #: Reason written for each disqualifier (its `reason`, else its name), in order.
    disqualified_reasons: Sequence[str]
    #: apply(values, grade) -> grade after the model's overrides, or None without overrides.
    overrides: Callable[[Values, str], str] | None
    #: qualify(now, previous, fields, disqualified) -> (qualified, qualified_at); generated
    #: inline instead from `enter` and `exit` when the model has no cooldown.
    qualify: Callable[..., tuple[bool, datetime | None]]
    enter: Cond | None
    exit: Cond | None
    cooldown: float
    #: The event matchers by event type (empty for a model without event rules).
    matchers: Mapping[str, EventMatcher]
    #: An account model's roll-up plan (`scoring.rollup.RollupPlan`), None for people models.
    rollup: Any = None
    #: The model's placeholder filter (`scoring.placeholders`), run on each record's properties
    #: before any rule reads them; None without placeholders.
    clean: Callable[[Mapping[str, object]], Mapping[str, object]] | None = None


#: page(records, now, previous results aligned with records or None, members' facts aligned
#: with records or None, out): appends one `ScoreResult` per record to `out`.
PageFunction = Callable[
    [Sequence[Any], datetime, Sequence[Any] | None, Sequence[Any] | None, list[Any]], None
]


def compile_page_scorer(  # noqa: PLR0913  the plans of both dimensions, the disqualifiers, the cap, the tail and the helpers
    fit: Sequence[GroupPlan],
    interest: Sequence[GroupPlan],
    disqualifiers: Sequence[Cond],
    cap_group: Callable[[float, list[Item], list[Item]], None],
    *,
    tail: PageTail,
    helpers: Mapping[str, Any],
) -> PageFunction:
    """Generate the scorer of a page of records: one loop holding every rule of the model
    inline (see the module docstring) and the whole way from points to `ScoreResult`.

    `helpers` supplies RESULT (the result type), REASONS (`reason_lines`), CHANGES
    (`change_lines_of`), SHARE (`outcome.share`) and ROLLUP (`rollup.rollup_items`).
    """
    b = _Builder(now_name="now")
    b.ns.update(helpers)
    b.ns["CAP"] = cap_group
    body = _rule_lines(b, fit, interest, disqualifiers, cap_group)
    b.ns.update(
        FSUM=fsum,
        FLOOR=math.floor,
        MAPPING=Mapping,
        QUALIFY=tail.qualify,
        OVERRIDE=tail.overrides,
        COLLECT=collect_events,
        MATCHERS=tail.matchers,
        DQ=tuple(tail.disqualified_reasons),
        EMPTY={},
        CLEAN=tail.clean,
    )
    if tail.rollup is not None:
        # an account's roll-ups over its people's facts, after its own interest rules
        b.ns["PLAN"] = tail.rollup
        body += [
            "facts = members[index] if members is not None else None",
            "if facts: items.extend(ROLLUP(facts, PLAN))",
        ]
    wf, wi = tail.weights
    present = " + ".join(f"({b.local(p, 't')} is not None)" for p in tail.completeness) or "0"
    body += [
        f"completeness = SHARE({present}, {len(tail.completeness)})",
        "contributions = tuple([item[0] for item in items])",
        "points = [c.points for c in contributions]",
        # fsum is exact and order-free, so anyone can re-add the contributions and get these.
        "fit_raw = FSUM(points[:fit_items])",
        "interest_raw = FSUM(points[fit_items:])",
        *_scaled("fit", "fit_raw", tail.fit_max),
        *_scaled("interest", "interest_raw", tail.interest_max),
        f"total = {wf!r} * fit + {wi!r} * interest",
        "total = int(FLOOR(total + 0.5)) if total >= 0 else -int(FLOOR(-total + 0.5))",
        f"grade = {_banded('fit', tail.grades)}",
    ]
    if tail.overrides is not None:
        b.needs_values = True
        body.append("grade = OVERRIDE(values, grade)")
    body += [
        f"tier = {_banded('interest', tail.tiers)}",
        "if dq >= 0:",
        "    disqualified = DQ[dq]",
        f"    fit = total = 0; grade = {tail.grades[-1][0]!r}",
        "else:",
        "    disqualified = None",
        "label = grade + tier",
        "before = previous[index] if previous is not None else None",
        *_qualify_lines(b, tail),
        f"reasons = REASONS(items, {tail.reasons_top}, disqualified)",
        f"changes = () if before is None else CHANGES(before, {tail.changes_top}, "
        f"version={tail.version!r}, disqualified_reason=disqualified, qualified=qualified, "
        "grade=grade, contributions=contributions)",
        "out_append(RESULT(fit, interest, total, grade, tier, label, qualified, disqualified, "
        f"contributions, reasons, completeness, {tail.version!r}, fit_raw, interest_raw, "
        "changes, qualified_at))",
    ]
    head = [
        "raw = record.properties",
        "if raw.__class__ is not dict and not isinstance(raw, MAPPING): raw = {}",
        *(["raw = CLEAN(raw)"] if tail.clean is not None else []),
        "get = raw.get",
        "items = []",
        "append = items.append",
    ]
    if tail.matchers:
        head.append("occurred = record.events")
        head.append("events = COLLECT(occurred, MATCHERS, now) if occurred else EMPTY")
    else:
        head.append("events = EMPTY")
    if b.needs_values:
        head.append("values = VALUES(raw, now)")
    lines = [
        "def page(records, now, previous, members, out):",
        "    out_append = out.append",
        "    for index, record in enumerate(records):",
        *("        " + line for line in head + b.prologue + body),
    ]
    return cast(PageFunction, _compile(b, "page", lines))


#: The result fields qualify conditions read, by name, and the generated variable holding each.
_RESULT_FIELDS = {
    "fit": "fit",
    "interest": "interest",
    "score": "total",
    "grade": "grade",
    "tier": "tier",
    "label": "label",
}


def _qualify_lines(b: _Builder, tail: PageTail) -> list[str]:
    """`outcome.qualify` inline (no cooldown, conditions without closures), else its call."""
    call = [
        "qualified, qualified_at = QUALIFY(now, before, "
        "(fit, interest, total, grade, tier, label), dq >= 0)"
    ]
    if tail.cooldown > 0:
        return call
    lines = ["qualified = False"]
    if tail.enter is not None:
        q = _Builder("now", fields=_RESULT_FIELDS, prefix="q", ns=b.ns)
        enter = q.expr(tail.enter)
        leave = q.expr(tail.exit) if tail.exit is not None else None
        if q.needs_values:
            return call
        lines = ["if dq >= 0:", "    qualified = False", "else:"]
        lines += ["    " + line for line in q.prologue]
        if leave is not None:
            lines += [
                "    if before is not None and before.qualified:",
                f"        qualified = not {leave}",
                "    else:",
                f"        qualified = {enter}",
            ]
        else:
            lines.append(f"    qualified = {enter}")
    return [
        *lines,
        "if before is not None:",
        "    qualified_at = now if qualified != before.qualified else before.qualified_at",
        "else:",
        "    qualified_at = now if qualified else None",
    ]


def slots_constructor(cls: type) -> Callable[..., Any]:
    """A faster equivalent of a frozen slots dataclass's `__init__` taking every field
    positionally: it sets the slots through their descriptors, where the generated `__init__`
    goes through `object.__setattr__` per field (about twice the time for a 16-field result)."""
    fields = list(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    assert not hasattr(cls, "__post_init__"), cls
    ns: dict[str, Any] = {"NEW": object.__new__, "CLS": cls}
    body = ["result = NEW(CLS)"]
    for index, name in enumerate(fields):
        ns[f"S{index}"] = getattr(cls, name).__set__
        body.append(f"S{index}(result, {name})")
    lines = [f"def make({', '.join(fields)}):", *("    " + line for line in body)]
    lines.append("    return result")
    namespace = dict(ns)
    exec(compile("\n".join(lines), f"<leadsync {cls.__name__}>", "exec"), namespace)
    return cast(Callable[..., Any], namespace["make"])


def _scaled(name: str, raw: str, maximum: float) -> list[str]:
    # `outcome.scale` then `outcome.round_half` (the clamped value is never negative)
    clamp = f"0.0 if {raw} < 0.0 else ({maximum!r} if {raw} > {maximum!r} else {raw})"
    if maximum == 100.0:
        return [f"{name} = {clamp}", f"{name} = int(FLOOR({name} + 0.5))"]
    return [f"{name} = {clamp}", f"{name} = int(FLOOR({name} * 100.0 / {maximum!r} + 0.5))"]


def _banded(value: str, bands: Sequence[tuple[str, float]]) -> str:
    # `outcome.band`: the first band reached, else the last one
    chain = [f"{name!r} if {value} >= {threshold!r} else " for name, threshold in bands]
    return "".join(chain) + repr(bands[-1][0])


def _rule_lines(  # noqa: PLR0912  one branch per rule kind
    b: _Builder,
    fit: Sequence[GroupPlan],
    interest: Sequence[GroupPlan],
    disqualifiers: Sequence[Cond],
    cap_group: Callable[[float, list[Item], list[Item]], None],
) -> list[str]:
    """Lines appending each fired rule's item to `items` (`append`), setting `fit_items` and
    `dq` (index of the first disqualifier that holds, or -1)."""
    b.ns["CAP"] = cap_group
    body: list[str] = []
    for dimension, groups in (("fit", fit), ("interest", interest)):
        for _name, rules, first_match, limit in groups:
            target = "append" if limit is None else "gappend"
            if limit is not None:
                body.append("group = []")
                body.append("gappend = group.append")
            if first_match:
                body.append("while True:")
            indent = "    " if first_match else ""
            for plan in rules:
                if plan.cond is not None and plan.fixed is not None:
                    body.append(f"{indent}if {b.expr(plan.cond)}:")
                    body.append(f"{indent}    {target}({b.const(plan.fixed, 'I')})")
                elif plan.bands is not None or plan.recency is not None:
                    if plan.bands is not None:
                        n = b.local(plan.bands[0], "n")
                        branches = [
                            (_band_test(band, n), b.const(item, "I"))
                            for band, item in plan.bands[1]
                        ]
                    else:
                        assert plan.recency is not None
                        n = b.local(plan.recency[0], "a")
                        branches = [
                            (f"{n} <= {within!r}", f"{b.const(make, 'M')}({n})")
                            for within, make in plan.recency[1]
                        ]
                    body.append(f"{indent}if {n} is not None:")
                    keyword = "if"
                    for test, produce in branches:
                        body.append(f"{indent}    {keyword} {test}:")
                        body.append(f"{indent}        {target}({produce})")
                        if first_match:
                            body.append(f"{indent}        break")
                        keyword = "elif"
                    continue
                else:
                    b.needs_values = True  # runners take the record's `Values` view
                    body.append(f"{indent}item = {b.const(plan.runner, 'F')}(values, events)")
                    body.append(f"{indent}if item is not None:")
                    body.append(f"{indent}    {target}(item)")
                if first_match:
                    body.append(f"{indent}    break")
            if first_match:
                body.append(f"{indent}break")
            if limit is not None:
                body.append(f"if group: CAP({limit!r}, group, items)")
        if dimension == "fit":
            body.append("fit_items = len(items)")
    body.append("dq = -1")
    keyword = "if"
    for index, cond in enumerate(disqualifiers):
        body.append(f"{keyword} {b.expr(cond)}:")
        body.append(f"    dq = {index}")
        keyword = "elif"
    return body


def _band_test(band: Band, n: str) -> str:
    # `Band.holds` inline
    tests = []
    if band.min is not None:
        tests.append(f"{band.min!r} {'<' if band.min_open else '<='} {n}")
    if band.max is not None:
        tests.append(f"{n} {'<' if band.max_open else '<='} {band.max!r}")
    return " and ".join(tests) or "True"


def _compile(builder: _Builder, name: str, lines: Sequence[str]) -> Any:
    source = "\n".join(lines)
    namespace = dict(builder.ns)
    exec(compile(source, f"<leadsync {name}>", "exec"), namespace)
    function = namespace[name]
    function.__doc__ = source
    return function


def _define(
    builder: _Builder, name: str, params: str, body: Sequence[str], head: Sequence[str] = ()
) -> Any:
    lines = [
        f"def {name}({params}):",
        *("    " + line for line in head),
        "    get = raw.get",
        *("    " + line for line in builder.prologue),
    ]
    lines.extend("    " + line for line in body)
    return _compile(builder, name, lines)


def compile_values_predicate(cond: Cond) -> Callable[[Values], bool]:
    """`cond` as a generated predicate over a `Values` view (same contract as `compile_cond`)."""
    b = _Builder(now_name="values.now")
    body = [f"return {b.expr(cond)}"]
    function = _define(b, "pred", "values", body, head=["raw = values.raw"])
    return cast(Callable[[Values], bool], function)


#: One event rule: (slot, within_days or inf, where or None, points, decay kind, decay days).
EventRulePlan = tuple[int, float, Cond | None, float, str, float]
#: matcher(attributes, age in days, now, totals): adds the event to every rule it matches.
EventMatcher = Callable[[Mapping[str, object], float, datetime, dict[int, list[float]]], None]


def compile_event_matcher(rules: Sequence[EventRulePlan]) -> EventMatcher:
    """One generated function testing an event of one type against all that type's rules."""
    b = _Builder(now_name="now")
    body: list[str] = []
    for slot, within, where, points, kind, days in rules:
        tests = []
        if within != _INF:
            tests.append(f"age <= {within!r}")
        if kind == "linear":
            tests.append(f"age < {days!r}")  # past its lifespan an occurrence no longer counts
        if where is not None:
            tests.append(b.expr(where))
        if kind == "half_life":
            earned = f"{points!r} * 2.0 ** (-age / {days!r})"
        elif kind == "linear":
            earned = f"{points!r} * (1.0 - age / {days!r})"
        else:
            earned = repr(points)
        body.append(f"if {' and '.join(tests) or 'True'}:")
        body.append(f"    earned = {earned}")
        body.append(f"    entry = acc.get({slot})")
        body.append("    if entry is None:")
        body.append(f"        acc[{slot}] = [1.0, earned, age]")
        body.append("    else:")
        body.append("        entry[0] += 1.0")
        body.append("        entry[1] += earned")
        body.append("        if age < entry[2]: entry[2] = age")
    if b.needs_values:
        b.prologue.insert(0, "values = VALUES(raw, now)")
    return cast(EventMatcher, _define(b, "match", "raw, age, now, acc", body))
