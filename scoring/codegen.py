"""Compile a model's rule groups into one generated Python function (the scoring fast path).

The closures in `scoring.conditions` and `scoring.rules` cost a few Python calls per rule, which
dominates a properties-only model. Here the whole rule evaluation of a model becomes one function:
every property the conditions read is coerced once into a local (`scoring.expr_codegen`), each
condition becomes an inline expression over those locals, constant results are prebuilt items,
segments decided by one property's value are looked up in a memo by that value
(`scoring.rule_codegen`), and rules that need more (events, elapsed time, age-decayed
conditions) call their runner. The generated source holds only identifiers and `repr()` of
validated constants; everything else is passed in the namespace. `explain` does not use the
rule function: it runs the closures with a trace, and tests check both paths give the same
results. Events are matched by generated per-type functions on
both paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from math import fsum
from operator import itemgetter
from typing import Any, cast

from scoring.coerce import epoch_micros, to_text
from scoring.conditions import Values
from scoring.event_codegen import (
    EventMatcher,
    EventRulePlan,
    compile_event_matcher,
    event_loop_lines,
)
from scoring.expr_codegen import ExprBuilder, compile_source, compile_values_predicate
from scoring.rule_codegen import GroupPlan, Memos, RulePlan, presence, rule_lines
from scoring.rules import Item, capped_note, collect_events
from scoring.spec import Cond
from scoring.types import new_contribution, slots_constructor

__all__ = [
    "EventMatcher",
    "EventRulePlan",
    "GroupPlan",
    "PageFunction",
    "PageTail",
    "RulePlan",
    "compile_event_matcher",
    "compile_page_scorer",
    "compile_values_predicate",
    "slots_constructor",
]


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
    #: The event rules by event type (what the matchers test).
    event_plans: Mapping[str, Sequence[EventRulePlan]]
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

    `helpers` supplies RESULT (the result type), LINE (`reasons.reason_line`), CHANGES
    (`change_lines_of`), SHARE (`outcome.share`, asked here for every share the model can
    give) and ROLLUP (`rollup.rollup_items`).
    """
    b = ExprBuilder(now_name="now", now_micros="now_micros")
    b.ns.update(helpers)
    b.ns["CAP"] = cap_group
    b.ns.update(MAPPING=Mapping, EMPTY={}, NEWC=new_contribution, CAPPED=capped_note)
    b.ns["FIRST"] = itemgetter(0)  # an item's contribution (`map` with it: no comprehension)
    events = event_loop_lines(b, tail.event_plans) if tail.event_plans else []
    if events is None:  # the matchers accumulate the events, the runners read them
        fit, interest = _without_events(fit), _without_events(interest)
    memos = Memos(b)
    body, exact = rule_lines(b, fit, interest, disqualifiers, memos)
    if tail.rollup is not None:
        exact.discard("interest")  # roll-up items join the interest items unsummed
    b.ns.update(
        FSUM=fsum,
        MICROS=epoch_micros,
        FLOOR=math.floor,
        QUALIFY=tail.qualify,
        OVERRIDE=tail.overrides,
        COLLECT=collect_events,
        MATCHERS=tail.matchers,
        DQ=tuple(tail.disqualified_reasons),
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
    present = " + ".join(presence(b, memos, p) for p in tail.completeness) or "0"
    # every share the model can give, by the number of properties present
    share, counted = helpers["SHARE"], len(tail.completeness)
    shares = b.const(tuple(share(n, counted) for n in range(counted + 1)))
    body += [
        f"completeness = {shares}[{present}]",
        "contributions = tuple(map(FIRST, items))",
        *_raw_sums(exact),
        *_scaled("fit", "fit_raw", tail.fit_max),
        *_scaled("interest", "interest_raw", tail.interest_max),
        f"total = {wf!r} * fit + {wi!r} * interest",
        # fit and interest are never negative: so is the total under non-negative weights
        "total = FLOOR(total + 0.5)"
        if wf >= 0 and wi >= 0
        else "total = FLOOR(total + 0.5) if total >= 0 else -FLOOR(-total + 0.5)",
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
        *_reason_lines(b, tail),
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
    if events is None:
        head.append("occurred = record.events")
        head.append("events = COLLECT(occurred, MATCHERS, now) if occurred else EMPTY")
    else:
        head += [*events, "events = EMPTY"]
    if b.needs_values:
        head.append("values = VALUES(raw, now)")
    looked_up = memos.prologue()
    lines = [
        "def page(records, now, previous, members, out):",
        "    out_append = out.append",
        "    now_micros = MICROS(now)",
        "    for index, record in enumerate(records):",
        *("        " + line for line in head + b.prologue + looked_up + body),
    ]
    return cast(PageFunction, compile_source(b, "page", lines))


def _without_events(groups: Sequence[GroupPlan]) -> list[GroupPlan]:
    """The plans with event rules left to their runners."""
    return [
        (name, [replace(plan, event=None) for plan in rules], first_match, limit)
        for name, rules, first_match, limit in groups
    ]


def _raw_sums(exact: set[str]) -> list[str]:
    """`fit_raw` and `interest_raw`: the running sum where it is exact, else `fsum` (exact and
    order-free, so anyone can re-add the contributions and get these values)."""
    lines = [] if exact >= {"fit", "interest"} else ["points = [c.points for c in contributions]"]
    for name, part in (("fit", "[:fit_items]"), ("interest", "[fit_items:]")):
        lines.append(
            f"{name}_raw = {name}_acc" if name in exact else f"{name}_raw = FSUM(points{part})"
        )
    return lines


def _reason_lines(b: ExprBuilder, tail: PageTail) -> list[str]:
    """`reasons.reason_lines` inline: the `reasons_top` largest items (stable), without those
    that round to 0 points (`-abs(points)`, an item's sort key, above -0.5)."""
    b.ns["SIZE"] = itemgetter(3)
    b.ns["DQLINES"] = tuple(f"Disqualified: {reason}" for reason in tail.disqualified_reasons)
    return [
        # `items` is not needed in rule order past `contributions`
        "if items:",
        "    items.sort(key=SIZE)",
        f"    del items[{tail.reasons_top}:]",
        # a loop, not a comprehension (no function to make and call per record); sorted by
        # size, so the first item that rounds to 0 points ends the lines
        "reasons = []",
        "for reason_item in items:",
        "    if reason_item[3] > -0.5: break",
        "    reason_line = reason_item[2]",
        "    reasons.append(reason_line if reason_line is not None "
        "else LINE(reason_item[0], reason_item[1]))",
        "reasons = tuple(reasons)",
        "if dq >= 0: reasons = (DQLINES[dq], *reasons)",
    ]


#: The result fields qualify conditions read, by name, and the generated variable holding each.
_RESULT_FIELDS = {
    "fit": "fit",
    "interest": "interest",
    "score": "total",
    "grade": "grade",
    "tier": "tier",
    "label": "label",
}


def _qualify_lines(b: ExprBuilder, tail: PageTail) -> list[str]:
    """`outcome.qualify` inline (no cooldown, conditions without closures), else its call."""
    call = [
        "qualified, qualified_at = QUALIFY(now, before, "
        "(fit, interest, total, grade, tier, label), dq >= 0)"
    ]
    if tail.cooldown > 0:
        return call
    lines = ["qualified = False"]
    if tail.enter is not None:
        q = ExprBuilder("now", fields=_RESULT_FIELDS, prefix="q", ns=b.ns, texts=_texts(tail))
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


def _texts(tail: PageTail) -> dict[str, dict[str, str | None]]:
    """The text of every grade, tier and label the model can give (`coerce.to_text` of each),
    for qualify conditions on them."""
    grades = [name for name, _ in tail.grades]
    tiers = [name for name, _ in tail.tiers]
    labels = [grade + tier for grade in grades for tier in tiers]
    return {
        field: {value: to_text(value) for value in values}
        for field, values in (("grade", grades), ("tier", tiers), ("label", labels))
    }


def _scaled(name: str, raw: str, maximum: float) -> list[str]:
    # `outcome.scale` then `outcome.round_half` (the clamped value is never negative)
    clamp = f"0.0 if {raw} < 0.0 else ({maximum!r} if {raw} > {maximum!r} else {raw})"
    if maximum == 100.0:
        return [f"{name} = {clamp}", f"{name} = FLOOR({name} + 0.5)"]
    return [f"{name} = {clamp}", f"{name} = FLOOR({name} * 100.0 / {maximum!r} + 0.5)"]


def _banded(value: str, bands: Sequence[tuple[str, float]]) -> str:
    # `outcome.band`: the first band reached, else the last one (so the last needs no test)
    chain = [f"{name!r} if {value} >= {threshold!r} else " for name, threshold in bands[:-1]]
    return "".join(chain) + repr(bands[-1][0])
