"""Grade and tier thresholds from a score distribution, each level holding a real share.

`calibrate` proposes the fit grades (`A`, `B`, ...) and interest tiers (`1`, `2`, ...) from the
scores its fit gives the data: population shares growing 1:2:3... best first (10/20/30/40% for
four levels), as closely as the scores allow, with every level holding at least
`MIN_GRADE_SHARE` of the records. A distribution that cannot fill that many levels (most records
at 0 interest, a few distinct scores) gets fewer levels rather than an empty one: `Ladder.left_out`
names the levels dropped, so the summary can say so.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revops import fitting
from revops.evaluation import Numbers

#: No grade or tier may hold less than this share of records.
MIN_GRADE_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Ladder:
    """Whole-number thresholds per level, best first, ending at 0, and what they hold."""

    thresholds: dict[str, float]
    shares: tuple[float, ...]
    #: The model's level names the distribution could not fill, in the model's order.
    left_out: tuple[str, ...] = ()


def grade_shares(values: Numbers, ladder: Sequence[tuple[str, float]]) -> list[float]:
    """Share of `values` in each grade of `ladder` ((name, threshold), best first)."""
    v = np.asarray(values, dtype=float)
    if not len(v):
        return [0.0] * len(ladder)
    shares, above = [], 0.0
    for _, threshold in ladder:
        here = float((v >= threshold).mean())
        shares.append(here - above)
        above = here
    return shares


def _best_cuts(at_or_above: np.ndarray, levels: int) -> list[int] | None:
    """Indices (into the distinct positive scores, best first) of the `levels - 1` cuts whose
    cumulative shares come closest in total to the 1:2:3... ladder, every level holding at
    least `MIN_GRADE_SHARE`; None when no choice does."""
    cuts = levels - 1
    if cuts == 0:
        return []
    targets = np.cumsum(fitting.ladder_shares(levels))[:-1]
    n = len(at_or_above)
    eps = 1e-12
    # cost[i][j]: least total deviation of cuts 0..i with cut i at index j; None = unreachable.
    cost: list[list[float | None]] = [[None] * n for _ in range(cuts)]
    back: list[list[int]] = [[-1] * n for _ in range(cuts)]
    for j in range(n):
        if at_or_above[j] >= MIN_GRADE_SHARE - eps:
            cost[0][j] = abs(float(at_or_above[j]) - targets[0])
    for i in range(1, cuts):
        for j in range(n):
            best: float | None = None
            for k in range(j):
                prior = cost[i - 1][k]
                if prior is None or at_or_above[j] - at_or_above[k] < MIN_GRADE_SHARE - eps:
                    continue
                if best is None or prior < best:
                    best, back[i][j] = prior, k
            if best is not None:
                cost[i][j] = best + abs(float(at_or_above[j]) - targets[i])
    last = [
        j
        for j in range(n)
        if cost[cuts - 1][j] is not None and 1.0 - at_or_above[j] >= MIN_GRADE_SHARE - eps
    ]
    if not last:
        return None
    j = min(last, key=lambda k: (cost[cuts - 1][k], k))
    out = [j]
    for i in range(cuts - 1, 0, -1):
        j = back[i][j]
        out.append(j)
    return out[::-1]


def _kept_names(names: Sequence[str], levels: int) -> list[tuple[str, ...]]:
    """The ways to keep `levels` of `names` in order, most preferred first: with the lowest
    name, then the best names (a model's conditions may name some; the caller takes the first
    way its model accepts)."""
    ways = list(itertools.combinations(names, levels))
    return sorted(ways, key=lambda kept: kept[-1] != names[-1])


def threshold_ladders(values: Numbers, names: Sequence[str]) -> list[Ladder]:
    """The proposed ladder of `names` for `values` (its possible namings, preferred first).

    Each threshold is a whole score; the ladder whose cumulative shares come closest to 1:2:3...
    among those leaving every level at least `MIN_GRADE_SHARE` of the records. When no ladder of
    `len(names)` levels can, the most levels that can are kept (preferably the lowest name and the
    best ones), so no two thresholds sit a point apart with nobody between them.
    """
    v = np.floor(np.asarray(values, dtype=float))
    if not len(v):
        thresholds = {name: float(len(names) - 1 - i) for i, name in enumerate(names)}
        return [Ladder(thresholds, tuple(0.0 for _ in names))]
    distinct = np.unique(v[v > 0])[::-1]
    at_or_above = np.array([(v >= t).mean() for t in distinct])
    levels = len(names)
    cuts = _best_cuts(at_or_above, levels)
    while cuts is None:
        levels -= 1
        cuts = _best_cuts(at_or_above, levels)
    values_at = [float(distinct[j]) for j in cuts] + [0.0]
    out = []
    for kept in _kept_names(names, levels):
        thresholds = dict(zip(kept, values_at, strict=True))
        shares = tuple(grade_shares(v, list(thresholds.items())))
        out.append(Ladder(thresholds, shares, tuple(n for n in names if n not in kept)))
    return out


def threshold_ladder(values: Numbers, names: Sequence[str]) -> dict[str, float]:
    """The preferred ladder's thresholds (see `threshold_ladders`)."""
    return threshold_ladders(values, names)[0].thresholds
