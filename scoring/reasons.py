"""Short human lines: the top reasons for a score and what changed since the previous one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import itemgetter

from scoring.coerce import round_half_up
from scoring.types import Contribution, ScoreResult


def signed(points: float) -> str:
    """`+50`, `-10`; whole points, rounded half away from zero."""
    whole = round_half_up(points)
    return f"+{whole}" if whole > 0 else str(whole)


def age_text(age_days: float) -> str:
    """`today`, `1d ago`, `12d ago`."""
    days = math.floor(age_days) if math.isfinite(age_days) else 0
    return "today" if days <= 0 else f"{days}d ago"


def reason_line(contribution: Contribution, count: int) -> str:
    """e.g. `+50 Demo request (3d ago)` or `+12 Pricing page (3x, last 2d ago)`."""
    line = f"{signed(contribution.points)} {contribution.rule}"
    if contribution.age_days is not None:
        when = age_text(contribution.age_days)
        if count > 1:
            line += f" ({count}x, last {when})"
        else:
            line += f" ({when})"
    return line


_size = itemgetter(3)


def reason_lines(
    items: Sequence[tuple[Contribution, int, str | None, float]],
    top: int,
    disqualified: str | None,
) -> tuple[str, ...]:
    """The `top` contributions by size, one line each; ties keep rule order.

    Each item is (contribution, occurrences, prebuilt line or None, -abs(points)). Contributions
    that round to 0 points are left out. A disqualification reason comes first.
    """
    lines: list[str] = []
    if disqualified is not None:
        lines.append(f"Disqualified: {disqualified}")
    wanted = len(lines) + top
    for contribution, count, line, _ in sorted(items, key=_size):
        if len(lines) >= wanted:
            break
        points = contribution.points
        if -0.5 < points < 0.5:
            break  # sorted by size: every later one rounds to 0 too
        lines.append(line if line is not None else reason_line(contribution, count))
    return tuple(lines)


def change_lines(current: ScoreResult, previous: ScoreResult, top: int) -> tuple[str, ...]:
    """What moved since `previous`: status changes first, then the `top` rule deltas.

    e.g. `+15 since last score: Pricing page`, `-6 since last score: Demo request`.
    """
    return change_lines_of(
        previous,
        top,
        version=current.model_version,
        disqualified_reason=current.disqualified_reason,
        qualified=current.qualified,
        grade=current.grade,
        contributions=current.contributions,
    )


def change_lines_of(  # noqa: PLR0913  the current result's fields before the result is built
    previous: ScoreResult,
    top: int,
    *,
    version: str,
    disqualified_reason: str | None,
    qualified: bool,
    grade: str,
    contributions: Sequence[Contribution],
) -> tuple[str, ...]:
    """`change_lines` from the current result's fields (before the result is built)."""
    lines: list[str] = []
    if previous.model_version != version:
        lines.append(f"Model changed: {previous.model_version} -> {version}")
    if disqualified_reason != previous.disqualified_reason:
        if disqualified_reason is not None:
            lines.append(f"Disqualified: {disqualified_reason}")
        else:
            lines.append("No longer disqualified")
    if qualified != previous.qualified:
        lines.append("Qualified" if qualified else "No longer qualified")
    if grade != previous.grade:
        lines.append(f"Grade {previous.grade} -> {grade}")
    before = _by_rule(previous.contributions)
    after = _by_rule(contributions)
    deltas: list[tuple[float, str]] = []
    for key in list(after) + [k for k in before if k not in after]:
        delta = after.get(key, 0.0) - before.get(key, 0.0)
        # most rules did not move: well under half a point rounds to 0 without rounding
        if -0.4 < delta < 0.4:
            continue
        if round_half_up(delta) != 0:
            deltas.append((delta, key[1]))
    deltas.sort(key=lambda d: -abs(d[0]))
    lines.extend(f"{signed(delta)} since last score: {rule}" for delta, rule in deltas[:top])
    return tuple(lines)


def _by_rule(contributions: Sequence[Contribution]) -> dict[tuple[str, str], float]:
    totals: dict[tuple[str, str], float] = {}
    for c in contributions:
        key = (c.dimension, c.rule)
        totals[key] = totals.get(key, 0.0) + c.points
    return totals
