"""Generated event matching: per event type, one test of an event against all rules of its type.

Two forms share the rule tests (`_rule_tests`): `compile_event_matcher`, a function per event
type accumulating into a dict by rule slot (the traced path and account roll-ups use it), and
`event_loop_lines`, the page scorer's loop over a record's events with the accumulators in
locals (`c<slot>` count, `s<slot>` summed decayed points, `n<slot>` newest age) and no call
per event. Both take an event as `rules.collect_events` does: its type looked up as a key, its
age in days from `now` (a naive time taken as UTC, a future one as 0, a non-time skipped), its
attributes read as a mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import cast

from scoring.expr_codegen import ExprBuilder, define, memo_lookup, value_only_property
from scoring.spec import Cond

__all__ = ["EventMatcher", "EventRulePlan", "compile_event_matcher", "event_loop_lines"]

_INF = float("inf")

#: One event rule: (slot, within_days or inf, where or None, points, decay kind, decay days).
EventRulePlan = tuple[int, float, Cond | None, float, str, float]
#: matcher(attributes, age in days, now, totals): adds the event to every rule it matches.
EventMatcher = Callable[[Mapping[str, object], float, datetime, dict[int, list[float]]], None]


def _rule_tests(
    b: ExprBuilder, rule: EventRulePlan, where_test: str | None = None
) -> tuple[str, str]:
    """(the test an event of the rule's type passes, the points it earns), as expressions
    over `age` and the event's attributes; `where_test` replaces the rule's `where`."""
    _slot, within, where, points, kind, days = rule
    tests = []
    if within != _INF:
        tests.append(f"age <= {within!r}")
    if kind == "linear":
        tests.append(f"age < {days!r}")  # past its lifespan an occurrence no longer counts
    if where_test is not None:
        tests.append(where_test)
    elif where is not None:
        tests.append(b.expr(where))
    if kind == "half_life":
        earned = f"{points!r} * 2.0 ** (-age / {days!r})"
    elif kind == "linear":
        earned = f"{points!r} * (1.0 - age / {days!r})"
    else:
        earned = repr(points)
    return " and ".join(tests) or "True", earned


def compile_event_matcher(rules: Sequence[EventRulePlan]) -> EventMatcher:
    """One generated function testing an event of one type against all that type's rules."""
    b = ExprBuilder(now_name="now")
    body: list[str] = []
    for rule in rules:
        test, earned = _rule_tests(b, rule)
        slot = rule[0]
        body.append(f"if {test}:")
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
    return cast(EventMatcher, define(b, "match", "raw, age, now, acc", body))


def event_loop_lines(
    b: ExprBuilder, plans: Mapping[str, Sequence[EventRulePlan]]
) -> list[str] | None:
    """The page scorer's lines accumulating one record's events (`record.events`) into the
    locals `c<slot>`, `s<slot>` and `n<slot>` of every event rule; None when a rule's `where`
    needs a closure over a `Values` view (then the page scorer uses the matchers)."""
    b.ns.update(
        KIND={kind: index for index, kind in enumerate(plans)}.get, DATETIME=datetime, UTC=UTC
    )
    lines = [f"c{rule[0]} = 0" for rules in plans.values() for rule in rules]
    lines += [
        "occurred = record.events",
        "for event in occurred if occurred else ():",
        "    try:",
        "        kind = KIND(event.type)",
        "    except TypeError:  # an unhashable type is no type of ours",
        "        continue",
        "    if kind is None:",
        "        continue",
        "    at = event.at",
        "    try:",
        "        age = (now - at).total_seconds() / 86400.0",
        "    except TypeError:",
        "        if not isinstance(at, DATETIME):",
        "            continue",
        "        age = (now - at.replace(tzinfo=UTC)).total_seconds() / 86400.0",
        "    if age < 0.0:",
        "        age = 0.0",
        "    attrs = event.attributes",
        "    if attrs.__class__ is not dict and not isinstance(attrs, MAPPING):",
        "        attrs = EMPTY",
        "    eget = attrs.get",
    ]
    keyword = "if"
    for index, rules in enumerate(plans.values()):
        eb = ExprBuilder(
            "now", prefix=f"e{index}_", ns=b.ns, now_micros="now_micros", getter="eget"
        )
        branch: list[str] = []
        wheres = _memo_wheres(b, eb, f"m{index}", rules)
        for rule, where_test in zip(rules, wheres, strict=True):
            test, earned = _rule_tests(eb, rule, where_test)
            slot = rule[0]
            branch += [
                f"if {test}:",
                f"    earned = {earned}",
                f"    if c{slot}:",
                f"        c{slot} += 1",
                f"        s{slot} += earned",
                f"        if age < n{slot}: n{slot} = age",
                "    else:",
                f"        c{slot} = 1",
                f"        s{slot} = earned",
                f"        n{slot} = age",
            ]
        if eb.needs_values:
            return None
        lines.append(f"    {keyword} kind == {index}:")
        lines += ["        " + line for line in eb.prologue + branch]
        keyword = "elif"
    return lines


def _memo_wheres(
    b: ExprBuilder, eb: ExprBuilder, name: str, rules: Sequence[EventRulePlan]
) -> list[str | None]:
    """When one attribute's value alone decides every `where` of a type's rules (a page's
    URL, a form's name), each `where` as a slot of a memo by that value (URLs and form names
    repeat), else Nones (tested inline)."""
    wheres = [rule[2] for rule in rules]
    attributes = {value_only_property(w) for w in wheres if w is not None}
    if len(attributes) != 1 or None in attributes:
        return [None] * len(rules)
    attribute = attributes.pop()
    assert attribute is not None
    fill = ExprBuilder("now", fields={attribute: "value"}, prefix="f", ns=b.ns)
    lines = [f"slots.append(bool({fill.expr(w)}))" for w in wheres if w is not None]
    eb.prologue += memo_lookup(b, name, eb.raw(attribute), fill, lines)
    slot = iter(range(len(lines)))
    return [None if w is None else f"{name}[{next(slot)}]" for w in wheres]
