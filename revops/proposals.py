"""New rules `calibrate --propose` offers: bands for numeric properties and rules for values.

Candidates come from the data without looking at the outcome, so their held-out figures stay
honest: every numeric property gets bands at its quantiles (half-open, `{gte: a, lt: b}`, so
adjacent bands touch without a gap or an overlap), every text property with few distinct values
a rule per value held by at least `MIN_SHARE` of the records. They are added to the model as
0-point rules in one group per property (`Proposed: <property>`), which changes no score; the
calibration then weighs them with the rest (their sign is free), and a proposal is kept in the
written file only when it earned points and its held-out gain is clear of the folds' noise
(`revops.calibrate.earns_its_place`). Properties the
leakage checks flag, the outcome columns and the record id are never proposed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scoring.coerce import to_number

#: Smallest share of records a proposed value rule or band must hold.
MIN_SHARE = 0.01
#: Most bands proposed for one numeric property. Eight left curved effects coarse (market
#: indicators, age, attempts); on UCI Bank Marketing 16 raised the held-out AUC of the
#: calibrated model from 0.7939 to 0.7955 (`bench/calibration.py`).
MAX_BANDS = 16
#: Text properties with more distinct values than this are not proposed (names, ids, emails).
MAX_VALUES = 40
#: Values that mean "unknown" in exports; never proposed as a value rule.
PLACEHOLDERS = frozenset({"", "unknown", "n/a", "na", "-", "none", "null", "select"})
GROUP_PREFIX = "Proposed: "


@dataclass(frozen=True, slots=True)
class Candidate:
    """One proposed rule: its name, the property, its condition and how many records it holds."""

    name: str
    property: str
    condition: Mapping[str, object]
    support: int


def _number_text(value: float) -> str:
    return f"{value:g}"


def _bands(name: str, numbers: np.ndarray, total: int) -> list[Candidate]:
    cuts = np.unique(np.quantile(numbers, np.linspace(0, 1, MAX_BANDS + 1)[1:-1]))
    edges = sorted({float(f"{c:.6g}") for c in cuts if numbers.min() < c <= numbers.max()})
    out: list[Candidate] = []
    bounds = [-math.inf, *edges, math.inf]
    for low, high in itertools.pairwise(bounds):
        inside = (numbers >= low) & (numbers < high)
        support = int(inside.sum())
        if support < MIN_SHARE * total:
            continue
        condition: dict[str, object] = {}
        if low != -math.inf:
            condition["gte"] = low
        if high != math.inf:
            condition["lt"] = high
        if low == -math.inf:
            label = f"{name} below {_number_text(high)}"
        elif high == math.inf:
            label = f"{name} {_number_text(low)} or more"
        else:
            label = f"{name} {_number_text(low)} to under {_number_text(high)}"
        out.append(Candidate(label, name, condition, support))
    return out if len(out) > 1 else []


def candidates(
    records: Sequence[Mapping[str, object]], *, exclude: Collection[str]
) -> list[Candidate]:
    """Bands and value rules for every usable property of `records` (see the module docstring)."""
    total = len(records)
    names = sorted({k for r in records for k in r} - set(exclude))
    out: list[Candidate] = []
    for name in names:
        raw = [r.get(name) for r in records]
        texts = ["" if v is None else str(v).strip() for v in raw]
        filled = [t for t in texts if t.lower() not in PLACEHOLDERS]
        if len(filled) < MIN_SHARE * total:
            continue
        numbers = [to_number(t) for t in filled]
        if all(n is not None for n in numbers) and len(set(filled)) > 2:
            out.extend(_bands(name, np.asarray(numbers, dtype=float), total))
            continue
        counts: dict[str, int] = {}
        for t in filled:
            counts[t] = counts.get(t, 0) + 1
        if len(counts) > MAX_VALUES:
            continue
        for value in sorted(counts):
            if counts[value] >= MIN_SHARE * total and counts[value] < total:
                out.append(Candidate(f"{name} is {value}", name, {"eq": value}, counts[value]))
    return out


def groups(found: Sequence[Candidate]) -> dict[str, list[Candidate]]:
    """Candidates by property, in order."""
    by_property: dict[str, list[Candidate]] = {}
    for candidate in found:
        by_property.setdefault(candidate.property, []).append(candidate)
    return by_property


@dataclass(frozen=True, slots=True)
class ProposedRule:
    """A proposed rule after calibration: its figures and whether the written file keeps it."""

    name: str
    property: str
    support: int
    share: float
    points: float
    #: mean held-out AUC gain over the folds, and the standard error of that mean
    gain: float
    gain_se: float
    kept: bool


def usable_properties(
    records: Sequence[Mapping[str, object]],
    outcomes: Sequence[bool],
    *,
    ignore: Collection[str],
) -> list[str]:
    """Properties proposals may read: not ignored, and not flagged by any leakage check."""
    from revops import leakage

    names = sorted({k for r in records for k in r} - set(ignore))
    flagged = {w.subject for w in leakage.post_outcome_fields(names)}
    columns = {n: [r.get(n) for r in records] for n in names if n not in flagged}
    flagged |= {w.subject for w in leakage.separating_fields(columns, outcomes)}
    return [n for n in names if n not in flagged]
