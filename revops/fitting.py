"""The statistics behind `calibrate`: weights for rule indicators and thresholds from data.

- `fit_weights`: an L2-regularised logistic regression (scikit-learn) of the outcome on the
  model's rule indicators, with each weight kept on the side the model's author chose: a rule
  written as a bonus never turns into a penalty. A rule the data points the other way gets weight
  0 and is reported, so the admin decides, not the optimiser.
- `threshold_for_precision` and `threshold_for_share`: the lowest score threshold that reaches a
  target precision, or that qualifies no more than a share of records (a sales capacity);
  `threshold_for_f1`: the best balance of precision and recall (a capacity that does not bind).
- `quantile_thresholds`: grade/tier cut-offs that give each letter a share of the population.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revops.evaluation import Bools, Numbers

#: Inverse regularisation strength of the logistic regression (scikit-learn's `C`).
DEFAULT_C = 1.0


@dataclass(frozen=True, slots=True)
class Weights:
    """Log-odds weight of each indicator column, which columns were held at 0, and why."""

    coef: tuple[float, ...]
    intercept: float
    zeroed: tuple[int, ...]


def fit_weights(x: np.ndarray, y: Bools, signs: Sequence[int], *, c: float = DEFAULT_C) -> Weights:
    """Sign-constrained regularised logistic regression.

    `signs[j]` is +1 (weight must be >= 0), -1 (<= 0) or 0 (free). Columns whose fitted weight
    has the wrong sign are removed and the regression refitted until every weight agrees; removed
    columns and columns that never vary get weight 0.
    """
    target = np.asarray(y, dtype=bool)
    n_cols = x.shape[1]
    if len(np.unique(target)) < 2:
        raise ValueError("the outcome has a single class; nothing to learn from")
    active = [j for j in range(n_cols) if np.ptp(x[:, j]) > 0]
    zeroed: list[int] = []
    coef = np.zeros(n_cols)
    intercept = float(np.log(target.mean() / (1 - target.mean())))
    # Rule indicators repeat a lot: fit on distinct rows weighted by their outcome counts, which
    # is the same objective on a much smaller matrix.
    rows, inverse = np.unique(x, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    converted = np.bincount(inverse, weights=target.astype(float), minlength=len(rows))
    total = np.bincount(inverse, minlength=len(rows)).astype(float)
    stacked = np.vstack([rows, rows])
    labels = np.concatenate([np.ones(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)])
    weight = np.concatenate([converted, total - converted])
    keep = weight > 0
    stacked, labels, weight = stacked[keep], labels[keep], weight[keep]
    while active:
        from sklearn.linear_model import LogisticRegression  # heavy; only when fitting

        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(stacked[:, active], labels, sample_weight=weight)
        fitted = model.coef_[0]
        wrong = [
            j
            for j, w in zip(active, fitted, strict=True)
            if (signs[j] > 0 and w < 0) or (signs[j] < 0 and w > 0)
        ]
        if not wrong:
            coef[:] = 0.0
            coef[active] = fitted
            intercept = float(model.intercept_[0])
            break
        # Drop the most contradicting column only: others may recover once it is gone.
        worst = max(wrong, key=lambda j: abs(fitted[active.index(j)]))
        active.remove(worst)
        zeroed.append(worst)
    return Weights(tuple(float(w) for w in coef), intercept, tuple(sorted(zeroed)))


def threshold_for_precision(
    scores: Numbers, outcomes: Bools, target: float, min_count: int = 1
) -> float | None:
    """The lowest threshold T with precision(score >= T) >= target, None if none reaches it.

    The lowest such T qualifies the most records, i.e. has the best recall at that precision.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(outcomes, dtype=bool)
    best: float | None = None
    for t in np.unique(s)[::-1]:
        chosen = s >= t
        count = int(chosen.sum())
        if count >= min_count and y[chosen].mean() >= target:
            best = float(t)
    return best


def threshold_for_share(scores: Numbers, share: float) -> float | None:
    """The lowest threshold T with share(score >= T) <= share; None if even the top is too many."""
    s = np.asarray(scores, dtype=float)
    n = len(s)
    if n == 0:
        return None
    best: float | None = None
    for t in np.unique(s)[::-1]:
        if (s >= t).sum() / n <= share:
            best = float(t)
        else:
            break
    return best


def threshold_for_f1(scores: Numbers, outcomes: Bools, min_count: int = 1) -> float | None:
    """The threshold T with the best F1 (harmonic mean of precision and recall) of score >= T.

    Only thresholds above the lowest score count (qualifying everyone is no choice), each
    qualifying at least `min_count` records; ties go to the higher threshold. None when no
    threshold qualifies a converted record.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(outcomes, dtype=bool)
    positives = int(y.sum())
    best: tuple[float, float] | None = None
    for t in np.unique(s)[:0:-1]:
        chosen = s >= t
        count, hits = int(chosen.sum()), int(y[chosen].sum())
        if count < min_count or not hits:
            continue
        f1 = 2.0 * hits / (count + positives)
        if best is None or f1 > best[0]:
            best = (f1, float(t))
    return None if best is None else best[1]


def ladder_shares(levels: int) -> list[float]:
    """Population shares for `levels` grades, best first, growing 1:2:3:... (10/20/30/40)."""
    total = levels * (levels + 1) / 2
    return [(i + 1) / total for i in range(levels)]


def quantile_thresholds(values: Numbers, shares: Sequence[float]) -> list[float]:
    """Lowest value of each level, best first, so that level i holds about `shares[i]`.

    The last level always starts at 0. Tied values stay in one level, and thresholds never
    increase down the ladder.
    """
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    n = len(v)
    thresholds: list[float] = []
    cumulative = 0.0
    for share in shares[:-1]:
        cumulative += share
        index = min(n - 1, max(0, round(cumulative * n) - 1)) if n else 0
        value = float(v[index]) if n else 0.0
        if thresholds and value > thresholds[-1]:
            value = thresholds[-1]
        thresholds.append(value)
    thresholds.append(0.0)
    return thresholds
