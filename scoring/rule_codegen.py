"""The rule part of the generated page scorer: each rule group evaluated in rule order.

A group is evaluated whole when it is `first_match` or capped, else rule by rule; each such
segment appends its fired items to the record's `items` and, where the sum is exact (whole
points, see `exact_sum`), adds their points to a running sum instead of a later `fsum`.

A segment decided by one property's value alone (plain conditions and bands, with no clock and
no closure) is looked up instead of evaluated: per such property a memo holds, by raw text, the
items of all its segments, its completeness flag and its value-only disqualifiers (`Memos`).
CRM values repeat (picklists, titles, sizes), so most records pay one dict lookup per property.
Domains are left out: they come from email addresses and websites, which rarely repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scoring.expr_codegen import ExprBuilder, memo_lookup, value_only_property
from scoring.rules import BandTable, EventPlan, Item, RecencySteps, Runner
from scoring.spec import Band, Cond


@dataclass(frozen=True, slots=True)
class RulePlan:
    """How the fast path evaluates one rule: inline when it can, else by calling `runner`.

    `cond` + `fixed`: a plain condition and its constant item; `bands`: (property, band table);
    `recency`: (date property, steps); `event`: an event rule whose
    occurrences the page scorer accumulates in locals (`c<slot>` count, `s<slot>` summed
    points, `n<slot>` newest age; see `scoring.codegen`).
    """

    runner: Runner
    cond: Cond | None = None
    fixed: Item | None = None
    bands: tuple[str, BandTable] | None = None
    recency: tuple[str, RecencySteps] | None = None
    event: EventPlan | None = None


#: (group name, rules, first_match, cap)
GroupPlan = tuple[str | None, Sequence[RulePlan], bool, float | None]

#: Whole points up to this size add exactly in any order (far inside 2**53).
_WHOLE_LIMIT = 2.0**40


def _whole(points: float) -> bool:
    # integral points well inside the float mantissa: any order of adding them is exact
    return points.is_integer() and abs(points) <= _WHOLE_LIMIT


def _plan_points(plan: RulePlan) -> list[float] | None:
    """The constant points `plan` can produce, or None when they vary (events, decay)."""
    if plan.cond is not None and plan.fixed is not None:
        return [plan.fixed[0].points]
    if plan.bands is not None:
        return [item[0].points for _, item in plan.bands[1]]
    if plan.recency is not None:
        return [make(0.0)[0].points for _, make in plan.recency[1]]
    return None


def _exact_sum(groups: Sequence[GroupPlan]) -> bool:
    """Whether a running sum of the dimension's points equals their `fsum`: every rule has
    constant whole points and every group cap is whole."""
    for _name, rules, _first, limit in groups:
        if limit is not None and not _whole(limit):
            return False
        for plan in rules:
            points = _plan_points(plan)
            if points is None or not all(_whole(p) for p in points):
                return False
    return True


def _segments(groups: Sequence[GroupPlan]) -> list[GroupPlan]:
    """The units evaluated on their own, in rule order: a `first_match` or capped group
    whole, every other group rule by rule."""
    out: list[GroupPlan] = []
    for group in groups:
        name, rules, first_match, limit = group
        if first_match or limit is not None:
            out.append(group)
        else:
            out.extend((name, [plan], False, None) for plan in rules)
    return out


def _memo_property(segment: GroupPlan) -> str | None:
    """The property whose raw value alone decides `segment`'s items, else None."""
    props: set[str | None] = set()
    for plan in segment[1]:
        if plan.cond is not None and plan.fixed is not None:
            props.add(value_only_property(plan.cond))
        elif plan.bands is not None:
            props.add(plan.bands[0])
        else:
            return None
    return props.pop() if len(props) == 1 else None


def _group_lines(
    b: ExprBuilder, segment: GroupPlan, *, acc: str | None, items: str = "items"
) -> list[str]:
    """Lines appending `segment`'s fired items to `items` (through `append`), adding their
    points to `acc` when it is given (see `_exact_sum`)."""
    _name, rules, first_match, limit = segment
    body: list[str] = []
    target = "append" if limit is None else "gappend"
    into = acc if limit is None else "group_acc"
    if limit is not None:
        body += ["group = []", "gappend = group.append"]
        if acc is not None:
            body.append("group_acc = 0.0")
    if first_match:
        body.append("while True:")
    indent = "    " if first_match else ""
    for plan in rules:
        lines = _one_rule(
            b, plan, target, into if acc is not None else None, first_match=first_match
        )
        body += [indent + line for line in lines]
    if first_match:
        body.append(f"{indent}break")
    if limit is not None:
        body.append("if group:")
        body.append(f"    CAP({limit!r}, group, {items})")
        if acc is not None:
            # `clip_to_cap` leaves the group's total at exactly min(total, cap)
            body.append(f"    {acc} += group_acc if group_acc <= {limit!r} else {limit!r}")
    return body


def _one_rule(
    b: ExprBuilder,
    plan: RulePlan,
    target: str,
    acc: str | None,
    *,
    first_match: bool,
) -> list[str]:
    """One rule: its item appended through `target` when it fires (its points added to
    `acc`), then `break` in a `first_match` group."""
    if plan.bands is not None or plan.recency is not None:
        return _ranged_lines(b, plan, target, acc, first_match=first_match)
    if plan.event is not None:
        return _event_lines(b, plan.event, target, first_match=first_match)
    if plan.cond is not None and plan.fixed is not None:
        lines = [f"if {b.expr(plan.cond)}:", f"    {target}({b.const(plan.fixed, 'I')})"]
        if acc is not None:
            lines.append(f"    {acc} += {plan.fixed[0].points!r}")
    else:
        b.needs_values = True  # runners take the record's `Values` view
        lines = [
            f"item = {b.const(plan.runner, 'F')}(values, events)",
            "if item is not None:",
            f"    {target}(item)",
        ]
    if first_match:
        lines.append("    break")
    return lines


def _ranged_lines(
    b: ExprBuilder, plan: RulePlan, target: str, acc: str | None, *, first_match: bool
) -> list[str]:
    """A bands or recency rule: the first band or step holding the value fires."""
    if plan.bands is not None:
        n = b.local(plan.bands[0], "n")
        branches = [(_band_test(band, n), b.const(item, "I")) for band, item in plan.bands[1]]
    else:
        assert plan.recency is not None
        n = b.local(plan.recency[0], "a")
        branches = [
            (f"{n} <= {within!r}", f"{b.const(make, 'M')}({n})") for within, make in plan.recency[1]
        ]
    body = [f"if {n} is not None:"]
    keyword = "if"
    for (test, produce), earned in zip(branches, _plan_points(plan) or [], strict=True):
        body.append(f"    {keyword} {test}:")
        body.append(f"        {target}({produce})")
        if acc is not None:
            body.append(f"        {acc} += {earned!r}")
        if first_match:
            body.append("        break")
        keyword = "elif"
    return body


def _event_lines(b: ExprBuilder, plan: EventPlan, target: str, *, first_match: bool) -> list[str]:
    """An event rule's item from its accumulated occurrences (`scoring.rules.event_finisher`
    inline, or called when count bands decide the points)."""
    slot = plan.slot
    if plan.banded:
        return [
            f"if c{slot}:",
            f"    item = {b.const(plan.finish, 'E')}(c{slot}, s{slot}, n{slot})",
            "    if item is not None:",
            f"        {target}(item)",
            *(["        break"] if first_match else []),
        ]
    lines = [f"if c{slot}:", f"    capped = s{slot}"]
    if plan.limit is not None:
        limit = plan.limit
        lines.append(f"    if capped > {limit!r}: capped = {limit!r}")
        lines.append(f"    elif capped < {-limit!r}: capped = {-limit!r}")
    count = f"{b.const(f'x {plan.event}', 'K')}"
    lines += [
        f"    detail = str(c{slot}) + {count}",
        f"    if capped != s{slot}: detail += CAPPED(capped)",
        f"    {target}((NEWC({plan.name!r}, {plan.dimension!r}, capped, detail, "
        f"{plan.group!r}, n{slot}), c{slot}, None, -capped if capped >= 0.0 else capped))",
    ]
    if first_match:
        lines.append("    break")
    return lines


def _band_test(band: Band, n: str) -> str:
    # `Band.holds` inline
    tests = []
    if band.min is not None:
        tests.append(f"{band.min!r} {'<' if band.min_open else '<='} {n}")
    if band.max is not None:
        tests.append(f"{n} {'<' if band.max_open else '<='} {band.max!r}")
    return " and ".join(tests) or "True"


@dataclass
class _Memo:
    """One property's memo while it is built: its per-record tuple's name, the builder of its
    fill function (reading the property from `value`), the fill's lines, and its slots."""

    name: str
    builder: ExprBuilder
    lines: list[str] = field(default_factory=list)
    slots: int = 0


class Memos:
    """The memos of one page scorer, by property (see the module docstring): each maps a raw
    text to a tuple of slots (a segment's items, their points, a completeness flag, a
    disqualifier's test) computed by a generated fill function on a miss."""

    def __init__(self, b: ExprBuilder) -> None:
        self.b = b
        self._memos: dict[str, _Memo] = {}

    def __contains__(self, prop: str) -> bool:
        return prop in self._memos

    def builder(self, prop: str) -> ExprBuilder:
        """The builder of `prop`'s fill function (its value is the function's argument)."""
        memo = self._memos.get(prop)
        if memo is None:
            fill = ExprBuilder("now", fields={prop: "value"}, prefix="f", ns=self.b.ns)
            memo = self._memos[prop] = _Memo(f"o{len(self._memos)}", fill)
        return memo.builder

    def add(self, prop: str, lines: Sequence[str], value: str) -> str:
        """A new slot of `prop`'s memo holding `value` after the fill runs `lines`; returns
        the expression reading the slot per record."""
        self.builder(prop)
        memo = self._memos[prop]
        memo.lines += [*lines, f"slots.append({value})"]
        memo.slots += 1
        return f"{memo.name}[{memo.slots - 1}]"

    def prologue(self) -> list[str]:
        """Per record, each memo's tuple (see `expr_codegen.memo_lookup`)."""
        lines: list[str] = []
        for prop, memo in self._memos.items():
            lines += memo_lookup(self.b, memo.name, self.b.raw(prop), memo.builder, memo.lines)
        return lines


def rule_lines(
    b: ExprBuilder,
    fit: Sequence[GroupPlan],
    interest: Sequence[GroupPlan],
    disqualifiers: Sequence[Cond],
    memos: Memos,
) -> tuple[list[str], set[str]]:
    """Lines appending each fired rule's item to `items` (`append`), setting `fit_items` and
    `dq` (index of the first disqualifier that holds, or -1), and the dimensions whose raw
    sum they keep in `<dimension>_acc` as they go (see `_exact_sum`). Segments decided by
    one property's value read `memos` instead of testing their rules."""
    body: list[str] = []
    exact: set[str] = set()
    for dimension, groups in (("fit", fit), ("interest", interest)):
        summed = _exact_sum(groups)
        acc = f"{dimension}_acc" if summed else None
        if summed:
            exact.add(dimension)
            body.append(f"{dimension}_acc = 0.0")
        for segment in _segments(groups):
            prop = _memo_property(segment)
            if prop is None:
                body.extend(_group_lines(b, segment, acc=acc))
                continue
            fill = ["items = []", "append = items.append"]
            if summed:
                fill.append("seg_acc = 0.0")
            fill += _group_lines(memos.builder(prop), segment, acc="seg_acc" if summed else None)
            read = memos.add(prop, fill, "tuple(items)")
            body.append(f"if {read}:")
            body.append(f"    items += {read}")
            if summed:
                body.append(f"    {acc} += {memos.add(prop, [], 'seg_acc')}")
        if dimension == "fit":
            body.append("fit_items = len(items)")
    body.append("dq = -1")
    keyword = "if"
    for index, cond in enumerate(disqualifiers):
        prop = value_only_property(cond)
        if prop is None:
            test = b.expr(cond)
        else:
            test = memos.add(prop, [], f"bool({memos.builder(prop).expr(cond)})")
        body.append(f"{keyword} {test}:")
        body.append(f"    dq = {index}")
        keyword = "elif"
    return body, exact


def presence(b: ExprBuilder, memos: Memos, prop: str) -> str:
    """Whether the record holds a value of `prop` (for completeness), as an expression."""
    if prop not in memos:
        return f"({b.local(prop, 't')} is not None)"
    return memos.add(prop, [], f"{memos.builder(prop).local(prop, 't')} is not None")
