"""From rule points to a result's fields: scaling, rounding, bands, grade overrides and
qualification with hysteresis. Shared by the traced evaluation (`scoring.evaluate`) and the
generated page scorer (`scoring.codegen`), so both decide these the same way.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from scoring.conditions import Pred, Values
from scoring.trace import CheckTrace, QualifyTrace, Trace

if TYPE_CHECKING:
    from scoring.model import CompiledCheck
    from scoring.types import ScoreResult

_floor = math.floor


def round_half(number: float) -> int:
    """Round half away from zero (`scoring.coerce.round_half_up` without its finiteness check:
    points are finite)."""
    if number >= 0:
        return int(_floor(number + 0.5))
    return -int(_floor(-number + 0.5))


def scale(raw: float, maximum: float) -> float:
    """`raw` clamped to `[0, maximum]` and scaled to 0-100."""
    clamped = 0.0 if raw < 0.0 else (maximum if raw > maximum else raw)
    return clamped if maximum == 100.0 else clamped * 100.0 / maximum


def band(bands: tuple[tuple[str, float], ...], value: int) -> str:
    """The first band whose threshold `value` reaches, else the last band."""
    for name, threshold in bands:
        if value >= threshold:
            return name
    return bands[-1][0]


@functools.cache
def share(present: int, total: int) -> float:
    """`present / total` to 3 digits (cached: a model has only `total + 1` shares, and float
    `round` to 3 digits is slow)."""
    return round(present / total, 3) if total else 1.0


def apply_overrides(
    overrides: Sequence[CompiledCheck],
    grades: tuple[str, ...],
    values: Values,
    grade: str,
    trace: Trace | None,
) -> str:
    """The grade after the model's overrides (`at_least` / `at_most`), in order."""
    index = grades.index(grade)
    for check in overrides:
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


def qualify(  # noqa: PLR0913  the conditions, the previous state and the result fields
    enter: Pred | None,
    exit_pred: Pred | None,
    cooldown: float,
    *,
    now: datetime,
    previous: ScoreResult | None,
    fields: tuple[int, int, int, str, str, str],
    disqualified: bool,
    trace: Trace | None,
) -> tuple[bool, datetime | None]:
    """(qualified, when the state last changed) from the enter/exit conditions over the
    result's `fields` (fit, interest, score, grade, tier, label), the previous state and the
    cooldown."""
    was = previous.qualified if previous is not None else None
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


#: decide(now, previous, fields, disqualified) -> (qualified, qualified_at)
Qualifier = Callable[
    [datetime, "ScoreResult | None", tuple[int, int, int, str, str, str], bool],
    tuple[bool, datetime | None],
]


def qualifier(enter: Pred | None, exit_pred: Pred | None, cooldown: float) -> Qualifier:
    """`qualify` bound to one model's conditions, without a trace (for the page scorer)."""

    def decide(
        now: datetime,
        previous: ScoreResult | None,
        fields: tuple[int, int, int, str, str, str],
        disqualified: bool,  # noqa: FBT001  (called positionally by generated code)
    ) -> tuple[bool, datetime | None]:
        return qualify(
            enter,
            exit_pred,
            cooldown,
            now=now,
            previous=previous,
            fields=fields,
            disqualified=disqualified,
            trace=None,
        )

    return decide
