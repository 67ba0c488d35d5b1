"""Evaluation maths for backtests: how well a score ranks records that later converted.

Everything here is a pure function of scores and outcomes (no model, no I/O), so each figure can be
checked by hand on a small table. Conventions shared by every function:

- `outcomes` are booleans (converted or not); `scores` are numbers where higher means "more likely".
- Deciles split the records by rank, a tenth each (sizes differ by at most one), so no decile is
  empty however many scores tie: records are ordered by score, best first, then by a stable key
  (the record id where the caller gives one, else input order). A tie group can therefore span
  deciles; `Bucket.low`/`high` show it (two deciles with the same score range).
- `lift` is a conversion rate divided by the base rate of the whole population.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Scores or outcomes: a sequence or a numpy array.
Numbers = Sequence[float] | npt.NDArray[np.float64]
Bools = Sequence[bool] | npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Bucket:
    """Conversion within one slice of the population (a decile, a label, a score band)."""

    name: str
    count: int
    converted: int
    rate: float | None
    lift: float | None
    low: float | None = None
    high: float | None = None
    mean_score: float | None = None


@dataclass(frozen=True, slots=True)
class Qualification:
    """Precision and recall of the model's qualification decision against outcomes."""

    qualified: int
    converted: int
    true_positives: int
    precision: float | None
    recall: float | None


@dataclass(frozen=True, slots=True)
class RuleLift:
    """Conversion of records where a rule fired versus where it did not."""

    rule: str
    points_sign: int
    support: int
    support_share: float
    rate_with: float | None
    rate_without: float | None
    lift: float | None

    @property
    def contradicts(self) -> bool:
        """True when the data points the other way than the rule's points."""
        if self.lift is None or self.points_sign == 0:
            return False
        return (self.points_sign > 0 and self.lift < 1.0) or (
            self.points_sign < 0 and self.lift > 1.0
        )


def _arrays(scores: Numbers, outcomes: Bools) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(outcomes, dtype=bool)
    if s.shape != y.shape:
        raise ValueError(f"{len(s)} scores for {len(y)} outcomes")
    return s, y


def _rate(converted: int, count: int) -> float | None:
    return converted / count if count else None


def _lift(rate: float | None, base: float | None) -> float | None:
    if rate is None or not base:
        return None
    return rate / base


def base_rate(outcomes: Bools) -> float | None:
    """The share of records that converted (None for an empty population)."""
    y = np.asarray(outcomes, dtype=bool)
    return float(y.mean()) if len(y) else None


def roc_auc(scores: Numbers, outcomes: Bools) -> float | None:
    """Area under the ROC curve; tied scores count one half (the Mann-Whitney statistic).

    It is the probability that a random converted record scores above a random other one. None
    when one of the two classes is empty, where the figure has no meaning.
    """
    s, y = _arrays(scores, outcomes)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return None
    from scipy.stats import rankdata  # imported here: scipy costs ~1 s at CLI start

    ranks = rankdata(s, method="average")
    rank_sum = float(ranks[y].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def _id_key(record_id: str) -> tuple[int, int | str]:
    """Numeric ids in numeric order, then the rest as text: "9" before "10"."""
    return (0, int(record_id)) if record_id.isdigit() else (1, record_id)


def decile_of(scores: Numbers, bins: int = 10, ids: Sequence[str] | None = None) -> np.ndarray:
    """The decile (1 = best) of each record, by rank: best score first, ties in the order of
    `ids` (or of the input); decile sizes differ by at most one record."""
    s = np.asarray(scores, dtype=float)
    n = len(s)
    if n == 0:
        return np.zeros(0, dtype=int)
    if ids is None:
        tiebreak = np.arange(n)
    else:
        if len(ids) != n:
            raise ValueError(f"{len(ids)} ids for {n} scores")
        order_of = sorted(range(n), key=lambda i: _id_key(str(ids[i])))
        tiebreak = np.empty(n, dtype=int)
        tiebreak[order_of] = np.arange(n)
    # lexsort sorts by the last key first: score descending, then the tie-break ascending.
    ranked = np.lexsort((tiebreak, -s))
    rank = np.empty(n, dtype=int)
    rank[ranked] = np.arange(n)
    return (rank * bins // n).astype(int) + 1


def lift_by_decile(
    scores: Numbers, outcomes: Bools, bins: int = 10, ids: Sequence[str] | None = None
) -> list[Bucket]:
    """Conversion rate and lift of each decile, best first (see `decile_of` for ties); a
    decile is empty only when there are fewer records than deciles."""
    s, y = _arrays(scores, outcomes)
    base = base_rate(y)
    deciles = decile_of(s, bins, ids)
    rows = []
    for d in range(1, bins + 1):
        mask = deciles == d
        count = int(mask.sum())
        converted = int(y[mask].sum())
        rate = _rate(converted, count)
        rows.append(
            Bucket(
                name=str(d),
                count=count,
                converted=converted,
                rate=rate,
                lift=_lift(rate, base),
                low=float(s[mask].min()) if count else None,
                high=float(s[mask].max()) if count else None,
                mean_score=float(s[mask].mean()) if count else None,
            )
        )
    return rows


def shared_scores(deciles: Sequence[Bucket]) -> list[tuple[float, tuple[str, ...]]]:
    """Each score whose tied records were split over two or more adjacent deciles, with the
    deciles it spans, best first."""
    runs: list[tuple[float, tuple[str, ...]]] = []
    filled = [b for b in deciles if b.count]
    for above, below in itertools.pairwise(filled):
        if above.low is None or above.low != below.high:
            continue
        if runs and runs[-1][0] == above.low and runs[-1][1][-1] == above.name:
            runs[-1] = (above.low, (*runs[-1][1], below.name))
        else:
            runs.append((above.low, (above.name, below.name)))
    return runs


def tie_note(deciles: Sequence[Bucket]) -> str | None:
    """A sentence saying which deciles share a tied score, or None when no tie was split."""
    runs = shared_scores(deciles)
    if not runs:
        return None
    parts = [f"the score {score:g} spans deciles {names[0]}-{names[-1]}" for score, names in runs]
    return (
        "; ".join(parts)
        + ": records with the same score are split between deciles by rank (record id), so "
        "their difference in conversion is chance, not score"
    )


def cumulative_gains(deciles: Sequence[Bucket]) -> list[float | None]:
    """Share of all conversions captured by the top 1, 2, ... deciles."""
    total = sum(b.converted for b in deciles)
    gains: list[float | None] = []
    running = 0
    for bucket in deciles:
        running += bucket.converted
        gains.append(running / total if total else None)
    return gains


def conversion_by_label(
    labels: Sequence[str], outcomes: Bools, order: Sequence[str] = ()
) -> list[Bucket]:
    """Conversion rate and lift per label, in `order` first, then any other label seen."""
    y = np.asarray(outcomes, dtype=bool)
    base = base_rate(y)
    counts: dict[str, list[int]] = {name: [0, 0] for name in order}
    for label, converted in zip(labels, y, strict=True):
        entry = counts.setdefault(label, [0, 0])
        entry[0] += 1
        entry[1] += int(converted)
    rows = []
    for name, (count, converted) in counts.items():
        rate = _rate(converted, count)
        rows.append(Bucket(name, count, converted, rate, _lift(rate, base)))
    return rows


def qualification(qualified: Bools, outcomes: Bools) -> Qualification:
    """Precision (qualified that converted) and recall (converted that were qualified)."""
    q = np.asarray(qualified, dtype=bool)
    y = np.asarray(outcomes, dtype=bool)
    tp = int((q & y).sum())
    n_q = int(q.sum())
    n_y = int(y.sum())
    return Qualification(n_q, n_y, tp, _rate(tp, n_q), _rate(tp, n_y))


def calibration_table(
    scores: Numbers, outcomes: Bools, width: float = 10.0, top: float = 100.0
) -> list[Bucket]:
    """Observed conversion per score band [0,10), [10,20) ... [90,100] (the last band is closed).

    This is what a RevOps admin reads as "a lead scoring 80-89 converts N% of the time"; bands
    are fixed so two models can be compared band by band. Whole-number scores (leadsync's)
    name their bands by the scores they hold, as the sync's score distribution does: `0-9`,
    `10-19` ... `90-100`; other scores by the band's bounds (`0-10` holds up to 10, excluded).
    """
    s, y = _arrays(scores, outcomes)
    base = base_rate(y)
    n_bands = max(1, math.ceil(top / width))
    index = np.clip(np.floor(s / width), 0, n_bands - 1).astype(int)
    whole = bool(np.all(s == np.floor(s))) and float(width).is_integer()
    rows = []
    for band in range(n_bands):
        mask = index == band
        count = int(mask.sum())
        converted = int(y[mask].sum())
        rate = _rate(converted, count)
        low = band * width
        high = min(top, (band + 1) * width)
        last = high if band == n_bands - 1 else high - 1
        rows.append(
            Bucket(
                name=f"{low:g}-{last:g}" if whole else f"{low:g}-{high:g}",
                count=count,
                converted=converted,
                rate=rate,
                lift=_lift(rate, base),
                low=low,
                high=high,
                mean_score=float(s[mask].mean()) if count else None,
            )
        )
    return rows


def inversions(buckets: Sequence[Bucket], min_count: int = 30) -> list[tuple[str, str]]:
    """Pairs of consecutive well-populated bands where conversion falls as the score rises."""
    filled = [b for b in buckets if b.count >= min_count and b.rate is not None]
    return [
        (lower.name, upper.name)
        for lower, upper in itertools.pairwise(filled)
        if upper.rate is not None and lower.rate is not None and upper.rate < lower.rate
    ]


def rule_lifts(
    fired: Mapping[str, Sequence[bool]], outcomes: Bools, signs: Mapping[str, int]
) -> list[RuleLift]:
    """For each rule: support, conversion with and without it, and lift (with / without)."""
    y = np.asarray(outcomes, dtype=bool)
    n = len(y)
    rows = []
    for rule, flags in fired.items():
        f = np.asarray(flags, dtype=bool)
        support = int(f.sum())
        rate_with = _rate(int((f & y).sum()), support)
        rate_without = _rate(int((~f & y).sum()), n - support)
        lift: float | None
        if rate_with is None or rate_without is None:
            lift = None
        elif rate_without == 0:
            lift = math.inf if rate_with > 0 else None
        else:
            lift = rate_with / rate_without
        rows.append(
            RuleLift(
                rule=rule,
                points_sign=signs.get(rule, 0),
                support=support,
                support_share=support / n if n else 0.0,
                rate_with=rate_with,
                rate_without=rate_without,
                lift=lift,
            )
        )
    return rows
