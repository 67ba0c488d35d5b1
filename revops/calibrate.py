"""Calibrate: propose points and thresholds for a model from labelled data, and prove them.

1. Score every record with the current model, keeping which rule (or band) fired: the *units* of
   `revops.features`.
2. Fit a sign-constrained, L2-regularised logistic regression of the outcome on the units
   (`revops.fitting`). Units that never fire keep their points; units whose data contradicts
   their sign get 0 points and a note.
3. Turn log-odds weights into points per dimension: the best-scoring record of the data reaches
   the dimension's cap (`max`), and the combine weights are set so that the combined score is
   proportional to the summed log-odds (so the 0-100 score ranks like the regression).
4. Grade and tier thresholds give the letters population shares growing 1:2:3... (10/20/30/40% for
   four grades, best first), each holding at least 5%, fewer of them when the scores cannot
   (`revops.ladder`). The qualification threshold reaches a target precision, fits a sales
   capacity (the best F1 when the capacity exceeds the arrivals), or (by default) keeps the share
   the current model qualifies; exit is at 3/4 of it.
5. Everything is measured on held-out folds: each fold's model is fitted without the fold and
   scored (by the real engine, through the written YAML) on it. The final proposal is fitted on
   all records and written with the admin's comments and layout kept.
6. With proposed rules (`revops.proposals`), the folds also measure each candidate's held-out
   gain; a candidate is kept when the fit on all records gives it points and its mean gain is
   at least `MIN_GAIN_T` standard errors above zero, and the folds run again with only the kept
   ones, whose figures are the ones reported.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from config.errors import ProblemsError, UserError
from config.model_loader import parse_model
from revops import evaluation as ev
from revops import fitting, leakage, proposals
from revops.features import (
    Activity,
    Unit,
    check_properties,
    model_rules,
    rule_activity,
    rule_properties,
)
from revops.ladder import MIN_GRADE_SHARE, Ladder, threshold_ladders
from revops.model_edit import Edits, apply_edits, unified_diff
from revops.outcomes import Labelled, point_in_time_lines
from scoring import score
from scoring.coerce import round_half_up
from scoring.model import ScoringModel
from scoring.types import ScoreResult

#: Exit threshold of the proposed qualification as a share of the entry threshold (hysteresis).
EXIT_RATIO = 0.75
#: A proposed rule is kept when its mean held-out gain is at least this many standard errors of
#: the per-fold gains above zero. On UCI Bank Marketing a positive mean alone kept 41 of 117
#: candidates, many within the folds' noise (+0.0000 AUC), at held-out AUC 0.7966; this bar
#: keeps 18 at 0.7968 (`bench/calibration.py`).
MIN_GAIN_T = 2.0


@dataclass(frozen=True, slots=True)
class Target:
    """What the qualification threshold should achieve; both None keeps the current share.

    A `share` of 1 or more is a capacity that does not bind (more room than records arrive):
    the threshold is then the best balance of precision and recall, not everyone.
    """

    precision: float | None = None
    share: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class PointChange:
    """One unit's current and proposed points, with the fitted log-odds weight."""

    rule: str
    dimension: str
    before: float
    after: float
    weight: float


@dataclass(frozen=True, slots=True)
class LeakyRule:
    """A rule reading a property the leakage checks flagged, and what calibrate did to it."""

    rule: str
    reasons: tuple[str, ...]
    before: float
    after: float
    excluded: bool


@dataclass(frozen=True, slots=True)
class Proposal:
    """A fitted model: its YAML text, compiled form and the numbers behind it."""

    text: str
    model: ScoringModel
    points: dict[str, float]
    weights: tuple[float, ...]
    zeroed: tuple[str, ...]
    unused: tuple[str, ...]
    threshold: float | None
    threshold_share: float | None
    grades: Ladder
    tiers: Ladder
    #: False when a capacity (`Target.share` >= 1) left room for every record.
    capacity_binds: bool = True


@dataclass(frozen=True, slots=True)
class Calibration:
    """Everything `calibrate` reports; "before"/"after" figures are on held-out folds."""

    model_name: str
    records: int
    folds: int
    auc_before: float
    auc_after: float
    fold_auc_before: tuple[float, ...]
    fold_auc_after: tuple[float, ...]
    scores_before: tuple[float, ...]
    scores_after: tuple[float, ...]
    deciles_before: tuple[ev.Bucket, ...]
    deciles_after: tuple[ev.Bucket, ...]
    calibration_before: tuple[ev.Bucket, ...]
    calibration_after: tuple[ev.Bucket, ...]
    labels_before: tuple[ev.Bucket, ...]
    labels_after: tuple[ev.Bucket, ...]
    qualification_before: ev.Qualification
    qualification_after: ev.Qualification
    changes: tuple[PointChange, ...]
    zeroed: tuple[str, ...]
    notes: tuple[str, ...]
    threshold_notes: tuple[str, ...]
    text: str
    diff: str
    warnings: tuple[leakage.LeakageWarning, ...] = ()
    leaky: tuple[LeakyRule, ...] = ()
    #: Disqualify checks and grade overrides reading a flagged property, with the warnings:
    #: calibrate fits points only, so they stay in the proposed model for the admin to edit.
    leaky_checks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    proposed: tuple[proposals.ProposedRule, ...] = ()
    #: When each record was taken and which properties had history (`point_in_time_lines`).
    point_in_time: tuple[str, ...] = ()


def _points_for(
    units: Sequence[Unit], x: np.ndarray, coef: np.ndarray, model: ScoringModel
) -> tuple[np.ndarray, dict[str, float]]:
    """Points per unit (whole numbers) and the log-odds reach of each dimension."""
    points = np.zeros(len(units))
    reach: dict[str, float] = {}
    for dimension, cap in (("fit", model.fit_max), ("interest", model.interest_max)):
        cols = [i for i, u in enumerate(units) if u.dimension == dimension]
        if not cols:
            continue
        logit = x[:, cols] @ coef[cols]
        top = float(logit.max()) if len(logit) else 0.0
        reach[dimension] = max(top, 0.0)
        scale = cap / top if top > 0 else 0.0
        points[cols] = [round_half_up(w * scale) for w in coef[cols]]
    return points, reach


def _approx_scores(
    units: Sequence[Unit], x: np.ndarray, points: np.ndarray, model: ScoringModel,
    weights: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Fit, interest and score each record would get (group caps aside), for thresholds."""
    out = []
    for dimension, cap in (("fit", model.fit_max), ("interest", model.interest_max)):
        cols = [i for i, u in enumerate(units) if u.dimension == dimension]
        raw = x[:, cols] @ points[cols] if cols else np.zeros(len(x))
        out.append(np.floor(np.clip(raw, 0.0, cap) * 100.0 / cap + 0.5))
    fit, interest = out
    total = np.floor(weights[0] * fit + weights[1] * interest + 0.5)
    return fit, interest, total


def propose(  # noqa: PLR0913  the options of one analysis
    text: str,
    model: ScoringModel,
    units: Sequence[Unit],
    x: np.ndarray,
    y: np.ndarray,
    *,
    current_qualified_share: float,
    target: Target,
    c: float = fitting.DEFAULT_C,
    header: str | None = None,
    dropped: frozenset[int] = frozenset(),
    bonuses: frozenset[int] = frozenset(),
) -> Proposal:
    """Fit points on (x, y) and build the proposed model text and compiled model.

    Units in `dropped` (leaky rules with `--exclude-leaky`, proposals not kept) take no part in
    the fit and get 0 points; units in `bonuses` (proposed rules) may only earn points: a
    dimension is clamped at 0, so penalties on most records would flatten its ranking.
    """
    signs = [1 if i in bonuses else u.sign for i, u in enumerate(units)]
    if dropped:
        x = x.copy()
        x[:, sorted(dropped)] = 0.0
    weights = fitting.fit_weights(x, y, signs, c=c)
    coef = np.asarray(weights.coef)
    unused = [i for i in range(len(units)) if np.ptp(x[:, i]) == 0 and i not in dropped]
    points, reach = _points_for(units, x, coef, model)
    for i in unused:
        points[i] = units[i].points
    for i in dropped:
        points[i] = 0.0
    if "fit" in reach and "interest" in reach and reach["fit"] + reach["interest"] > 0:
        w_fit = round(reach["fit"] / (reach["fit"] + reach["interest"]), 2)
        combine: tuple[float, float] = (w_fit, round(1.0 - w_fit, 2))
    else:
        combine = (model.spec.weights[0], model.spec.weights[1])
    fit, interest, total = _approx_scores(units, x, points, model, combine)
    share = target.share
    binds = share is None or share < 1.0
    if target.precision is not None or not binds:
        found = (
            fitting.threshold_for_precision(total, y, target.precision, min_count=10)
            if target.precision is not None
            else fitting.threshold_for_f1(total, y, min_count=10)
        )
        share = None if found is None else float((total >= found).mean())
    elif share is None:
        share = current_qualified_share
    threshold = fitting.threshold_for_share(total, share) if share is not None else None
    qualify = None
    if threshold is not None:
        qualify = (threshold, float(math.floor(threshold * EXIT_RATIO)))
    rule_max: dict[str, float] = {}
    for rule, _ in model_rules(model):
        spec = rule.spec
        if spec.max is not None and not spec.bands and spec.points:
            i = next(j for j, u in enumerate(units) if u.rule == spec.name)
            if points[i]:
                rule_max[spec.name] = abs(round_half_up(spec.max * points[i] / spec.points))
    edits = Edits(
        points={(u.rule, u.band): float(p) for u, p in zip(units, points, strict=True)},
        rule_max=rule_max,
        weights=combine,
        qualify=qualify,
        header=header,
    )
    new_text, new_model, grades, tiers = _with_ladders(
        text,
        edits,
        threshold_ladders(fit, model.grades),
        threshold_ladders(interest, model.tiers),
    )
    return Proposal(
        text=new_text,
        model=new_model,
        points={u.key: float(p) for u, p in zip(units, points, strict=True)},
        weights=weights.coef,
        zeroed=tuple(units[i].key for i in weights.zeroed),
        unused=tuple(units[i].key for i in unused),
        threshold=threshold,
        threshold_share=share,
        grades=grades,
        tiers=tiers,
        capacity_binds=binds,
    )


def _with_ladders(
    text: str, edits: Edits, grades: Sequence[Ladder], tiers: Sequence[Ladder]
) -> tuple[str, ScoringModel, Ladder, Ladder]:
    """The proposed text and model with the first grade and tier ladders the model accepts.

    A ladder with fewer levels than the model leaves names out; the model's conditions (an
    override's `grade_at_least: B`, a qualify section kept as written) may name some, so the
    ways of naming the levels are tried in order of preference.
    """
    refused: list[ProblemsError] = []
    for grade, tier in itertools.product(grades, tiers):
        new_text = apply_edits(
            text, dataclasses.replace(edits, grades=grade.thresholds, tiers=tier.thresholds)
        )
        try:
            return new_text, parse_model(new_text, "<proposed model>"), grade, tier
        except ProblemsError as exc:
            if not (grade.left_out or tier.left_out):
                raise
            refused.append(exc)
    raise UserError(
        f"the scores fill only {len(grades[0].thresholds)} fit grades and "
        f"{len(tiers[0].thresholds)} interest tiers, and the model's conditions name more "
        f"(edit them first): {refused[0]}"
    )


def _extended(
    text: str, model: ScoringModel, labelled: Labelled, ignore: Sequence[str]
) -> tuple[str, ScoringModel, list[proposals.Candidate]]:
    """The model with every candidate of `revops.proposals` added at 0 points."""
    records = [model.known(r.properties) for r in labelled.records]
    # The id column (`--id-column`, a column named id) is no signal: numeric ids would get bands.
    ids = [
        name
        for name in (records[0] if records else {})
        if all(
            str(p.get(name, "")).strip() == r.id
            for p, r in zip(records, labelled.records, strict=True)
        )
    ]
    usable = proposals.usable_properties(records, labelled.outcomes, ignore=[*ignore, *ids])
    found = proposals.candidates(records, exclude=set(records[0]) - set(usable) if records else ())
    taken = {rule.spec.name for rule, _ in model_rules(model)}
    found = [c for c in found if c.name not in taken]
    interest = {
        p for rule, _ in model_rules(model) if rule.dimension == "interest"
        for p in rule_properties(model).get(rule.spec.name, frozenset())
    }  # fmt: skip
    edits = Edits(
        add_groups=tuple(
            (
                "interest" if prop in interest else "fit",
                proposals.GROUP_PREFIX + prop,
                tuple((c.name, prop, c.condition, 0.0) for c in group),
            )
            for prop, group in proposals.groups(found).items()
        )
    )
    extended = apply_edits(text, edits)
    return extended, parse_model(extended, "<model with proposed rules>"), found


def _gains(
    units: Sequence[Unit],
    held: tuple[np.ndarray, np.ndarray],
    proposal: Proposal,
    model: ScoringModel,
    columns: Sequence[int],
) -> np.ndarray:
    """Per unit, how much held-out AUC the fold's approximate score loses without it."""
    x, y = held
    points = np.array([proposal.points[u.key] for u in units])
    weights = (proposal.model.spec.weights[0], proposal.model.spec.weights[1])
    base = ev.roc_auc(_approx_scores(units, x, points, model, weights)[2], y) or 0.5
    out = np.zeros(len(units))
    for i in columns:
        if not points[i]:
            continue
        without = points.copy()
        without[i] = 0.0
        out[i] = base - (ev.roc_auc(_approx_scores(units, x, without, model, weights)[2], y) or 0.5)
    return out


def _new_candidates(activity: Activity, proposed: Collection[str]) -> list[int]:
    """Columns of the proposed rules, but those firing for exactly the records one of the
    model's own rules (or bands) fires for (`job is student` beside `Student: {job: student}`):
    not new, they would only split that rule's points, so they take no part in the fit and are
    never kept."""
    own = {
        activity.hits[:, i].tobytes()
        for i, u in enumerate(activity.units)
        if u.rule not in proposed
    }
    return [
        i
        for i, u in enumerate(activity.units)
        if u.rule in proposed and activity.hits[:, i].tobytes() not in own
    ]


def gain_summary(fold_gains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the mean of its held-out gains over the folds (rows of `fold_gains`) and the
    standard error of that mean (0 with a single fold)."""
    folds = fold_gains.shape[0]
    mean = fold_gains.mean(axis=0)
    if folds < 2:  # a spread needs two folds
        return mean, np.zeros_like(mean)
    return mean, fold_gains.std(axis=0, ddof=1) / math.sqrt(folds)


def earns_its_place(gain: float, standard_error: float) -> bool:
    """Whether a proposed rule's held-out gain is clear of the folds' noise: positive and at
    least `MIN_GAIN_T` standard errors (`gain_summary`) above zero."""
    return gain > 0 and gain >= MIN_GAIN_T * standard_error


def _chosen(
    final: Proposal, found: Sequence[proposals.Candidate], gains: Mapping[str, tuple[float, float]]
) -> frozenset[str]:
    """The proposed rules the fit on all records gave points and whose gain is clear."""
    return frozenset(
        c.name for c in found if final.points[c.name] > 0 and earns_its_place(*gains[c.name])
    )


def _select_proposals(
    final: Proposal,
    found: Sequence[proposals.Candidate],
    gains: Mapping[str, tuple[float, float]],
    keep: Collection[str],
    records: int,
) -> tuple[Proposal, tuple[proposals.ProposedRule, ...]]:
    """The final proposal (fitted with the rules in `keep` only) without the proposed rules it
    does not keep, and every candidate's figures."""
    if not found:
        return final, ()
    proposed = tuple(
        proposals.ProposedRule(
            c.name,
            c.property,
            c.support,
            c.support / records,
            final.points[c.name],
            gains[c.name][0],
            gains[c.name][1],
            kept=c.name in keep and final.points[c.name] > 0,
        )
        for c in found
    )
    return _without_dropped_proposals(final, proposed), proposed


def _without_dropped_proposals(
    final: Proposal, proposed: Sequence[proposals.ProposedRule]
) -> Proposal:
    """The final proposal without the proposed rules it does not keep, the kept ones annotated."""
    edits = Edits(
        remove=frozenset(p.name for p in proposed if not p.kept),
        comments={
            p.name: f"proposed: {p.support:,} records ({100 * p.share:.1f}%), held-out gain "
            f"{p.gain:+.4f} AUC (standard error {p.gain_se:.4f})"
            for p in proposed
            if p.kept
        },
    )
    text = apply_edits(final.text, edits)
    return dataclasses.replace(final, text=text, model=parse_model(text, "<proposed model>"))


def _fold_results(labelled: Labelled, model: ScoringModel, rows: np.ndarray) -> list[ScoreResult]:
    moments = labelled.moments()
    return [score(labelled.records[i], model, moments[i]) for i in rows]


def _enough(y: np.ndarray, folds: int, source: str) -> int:
    """The number of converted records; a UserError when a class is too small to fold."""
    converted = int(y.sum())
    if converted < folds or len(y) - converted < folds:
        raise UserError(
            f"{source}: calibration needs at least {folds} converted and {folds} other records "
            f"(found {converted} converted of {len(y)})"
        )
    return converted


def _leaks(
    model: ScoringModel,
    labelled: Labelled,
    activity: Activity,
    outcome: str | None,
    proposed: Collection[str],
) -> tuple[list[leakage.LeakageWarning], dict[str, tuple[leakage.LeakageWarning, ...]]]:
    """The leakage warnings about the admin's model, and the rules each concerns."""
    warnings = leakage.assess(
        sorted(model.properties),
        [model.known(r.properties) for r in labelled.records],
        labelled.outcomes,
        outcome=outcome,
        fired={k: v for k, v in activity.fired().items() if k not in proposed},
        auc=ev.roc_auc([r.score for r in activity.results], labelled.outcomes),
        late=labelled.late,
    )
    return warnings, leakage.rules_reading(rule_properties(model), warnings)


@dataclass(slots=True)
class _HeldOut:
    """One cross-validation: each fold's held-out results in fold order and its AUCs, and
    (when measured) each unit's held-out gain per fold."""

    gains: np.ndarray
    order: list[int] = dataclasses.field(default_factory=list)
    after: list[ScoreResult] = dataclasses.field(default_factory=list)
    fold_before: list[float] = dataclasses.field(default_factory=list)
    fold_after: list[float] = dataclasses.field(default_factory=list)


class _CrossValidation:
    """The fits of one calibration: on any rows, with any of the candidate columns as bonuses
    (the others left out), and the held-out folds' figures."""

    def __init__(  # noqa: PLR0913  the data and options of one analysis
        self,
        text: str,
        model: ScoringModel,
        units: Sequence[Unit],
        labelled: Labelled,
        *,
        x: np.ndarray,
        y: np.ndarray,
        before: Sequence[ScoreResult],
        target: Target,
        c: float,
        dropped: frozenset[int],
        candidates: Sequence[int],
        splits: Sequence[tuple[np.ndarray, np.ndarray]],
    ) -> None:
        self.text, self.model, self.units, self.labelled = text, model, units, labelled
        self.x, self.y, self.before = x, y, before
        self.target, self.c, self.dropped = target, c, dropped
        self.candidates, self.splits = frozenset(candidates), splits
        self.eligible = np.array([r.disqualified_reason is None for r in before])
        self.qualified = np.array([r.qualified for r in before])

    def fitted(
        self, rows: np.ndarray, bonuses: Collection[int], header: str | None = None
    ) -> Proposal:
        """The proposal fitted on `rows`, the candidates outside `bonuses` left out."""
        return propose(
            self.text,
            self.model,
            self.units,
            self.x[rows],
            self.y[rows],
            current_qualified_share=float(self.qualified[rows].mean()),
            target=self.target,
            c=self.c,
            header=header,
            dropped=self.dropped | (self.candidates - set(bonuses)),
            bonuses=frozenset(bonuses),
        )

    def held_out(self, bonuses: Sequence[int], *, gains: bool) -> _HeldOut:
        """Each fold's proposal fitted without the fold (its eligible records) and scored on
        it by the real engine; with `gains`, what each of `bonuses` adds to the fold's AUC."""
        x, y, before, eligible = self.x, self.y, self.before, self.eligible
        out = _HeldOut(np.zeros((len(self.splits), len(self.units))))
        for k, (train, test) in enumerate(self.splits):
            proposal = self.fitted(train[eligible[train]], bonuses)
            if gains and bonuses:
                out.gains[k] = _gains(self.units, (x[test], y[test]), proposal, self.model, bonuses)
            held = _fold_results(self.labelled, proposal.model, test)
            out.order.extend(test.tolist())
            out.after.extend(held)
            out.fold_before.append(ev.roc_auc([before[i].score for i in test], y[test]) or 0.5)
            out.fold_after.append(ev.roc_auc([r.score for r in held], y[test]) or 0.5)
        return out


def calibrate(  # noqa: PLR0913  the options of one analysis
    text: str,
    model: ScoringModel,
    labelled: Labelled,
    target: Target,
    *,
    source: str,
    out_name: str,
    folds: int = 5,
    seed: int = 0,
    c: float = fitting.DEFAULT_C,
    outcome: str | None = None,
    exclude_leaky: bool = False,
    propose_rules: bool = False,
    ignore: Collection[str] = (),
) -> Calibration:
    """Fit, cross-validate and write the proposal; see the module docstring for the method.

    Rules reading a property the leakage checks flag are listed in `leaky` with their points
    before and after; `exclude_leaky` drops them from the fit (0 points). `propose_rules` adds
    the candidates of `revops.proposals` (never reading the columns in `ignore`, such as the
    outcome and its date) and keeps those that earn points and whose held-out gain is clear of
    the folds' noise (`earns_its_place`); the figures returned are then measured again on the
    same folds with only the kept ones, so they are those of the written file.
    """
    original_text, original_model = text, model
    found: list[proposals.Candidate] = []
    if propose_rules:
        text, model, found = _extended(text, model, labelled, [*ignore, *(outcome or "",)])
    proposed_names = {c.name for c in found}
    y = np.asarray(labelled.outcomes, dtype=bool)
    converted = _enough(y, folds, source)
    activity: Activity = rule_activity(model, labelled.records, labelled.moments())
    units = list(activity.units)
    if not units:
        raise UserError(f"{source}: the model has no rules with points to calibrate")
    x = activity.matrix
    before = activity.results
    warnings, flagged = _leaks(original_model, labelled, activity, outcome, proposed_names)
    candidate_columns = _new_candidates(activity, proposed_names)
    dropped = (
        frozenset(i for i, u in enumerate(units) if u.rule in flagged)
        if exclude_leaky
        else frozenset()
    ) | {i for i, u in enumerate(units) if u.rule in proposed_names} - set(candidate_columns)
    from sklearn.model_selection import StratifiedKFold  # heavy; only when calibrating

    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y))

    cv = _CrossValidation(
        text, model, units, labelled, x=x, y=y, before=before, target=target, c=c,
        dropped=dropped, candidates=candidate_columns, splits=splits,
    )  # fmt: skip
    every_row = np.flatnonzero(cv.eligible)
    folded = cv.held_out(candidate_columns, gains=True)
    mean_gain, gain_se = gain_summary(folded.gains)
    gain_of = {
        u.rule: (float(g), float(e)) for u, g, e in zip(units, mean_gain, gain_se, strict=True)
    }
    keep = (
        _chosen(cv.fitted(every_row, candidate_columns), found, gain_of) if found else frozenset()
    )
    kept_columns = [i for i in candidate_columns if units[i].rule in keep]
    if kept_columns != candidate_columns:
        # Weighed with every candidate, then measured again with only the ones kept: the
        # figures reported are those of the rules the written file holds.
        folded = cv.held_out(kept_columns, gains=False)
    rows = np.asarray(folded.order)
    after = folded.after
    y_held = y[rows]
    scores_before = [float(before[i].score) for i in rows]
    scores_after = [float(r.score) for r in after]
    fold_before, fold_after = folded.fold_before, folded.fold_after
    auc_before = float(np.mean(fold_before))
    auc_after = float(np.mean(fold_after))
    header = (
        f"Calibrated by `leadsync calibrate` from {source} on {len(y):,} records "
        f"({converted:,} converted).\nHeld-out ROC AUC ({folds}-fold): current "
        f"{auc_before:.3f}, proposed {auc_after:.3f}."
    )
    final = cv.fitted(every_row, kept_columns, header)
    final, proposed = _select_proposals(final, found, gain_of, keep, len(y))
    changes = tuple(
        PointChange(u.key, u.dimension, u.points, final.points[u.key], w)
        for u, w in zip(units, final.weights, strict=True)
        if u.rule not in proposed_names
    )
    notes = _notes(
        activity, units, final, y, auc_before=auc_before, auc_after=auc_after,
        proposed=proposed_names,
    )  # fmt: skip
    leaky = tuple(
        LeakyRule(
            u.key,
            tuple(str(w) for w in flagged[u.rule]),
            u.points,
            final.points[u.key],
            excluded=i in dropped,
        )
        for i, u in enumerate(units)
        if u.rule in flagged
    )
    q_after = ev.qualification([r.qualified for r in after], y_held)
    held_ids = [labelled.records[i].id for i in rows]
    return Calibration(
        model_name=model.name,
        records=len(y),
        folds=folds,
        auc_before=auc_before,
        auc_after=auc_after,
        fold_auc_before=tuple(fold_before),
        fold_auc_after=tuple(fold_after),
        scores_before=tuple(scores_before),
        scores_after=tuple(scores_after),
        deciles_before=tuple(ev.lift_by_decile(scores_before, y_held, ids=held_ids)),
        deciles_after=tuple(ev.lift_by_decile(scores_after, y_held, ids=held_ids)),
        calibration_before=tuple(ev.calibration_table(scores_before, y_held)),
        calibration_after=tuple(ev.calibration_table(scores_after, y_held)),
        labels_before=tuple(
            ev.conversion_by_label([before[i].label for i in rows], y_held, model.labels)
        ),
        labels_after=tuple(
            ev.conversion_by_label([r.label for r in after], y_held, final.model.labels)
        ),
        qualification_before=ev.qualification(cv.qualified[rows], y_held),
        qualification_after=q_after,
        changes=changes,
        zeroed=final.zeroed,
        notes=tuple(notes),
        threshold_notes=tuple(_threshold_notes(final, q_after, target, len(y))),
        text=final.text,
        diff=unified_diff(original_text, final.text, source, out_name),
        warnings=tuple(warnings),
        leaky=leaky,
        leaky_checks=tuple(
            (name, tuple(str(w) for w in found))
            for name, found in sorted(
                leakage.rules_reading(check_properties(original_model), warnings).items()
            )
        ),
        proposed=proposed,
        point_in_time=tuple(point_in_time_lines(labelled, original_model.properties)),
    )


def _notes(  # noqa: PLR0913  the options of one analysis
    activity: Activity,
    units: Sequence[Unit],
    final: Proposal,
    y: np.ndarray,
    *,
    auc_before: float,
    auc_after: float,
    proposed: Collection[str] = (),
) -> list[str]:
    """Notes on the fit; proposed rules have no author's sign and their own table, so none."""
    notes = []
    if auc_after < auc_before:
        notes.append(
            f"The proposal ranks worse on held-out data (AUC {auc_after:.3f} < "
            f"{auc_before:.3f}); keep the current model."
        )
    index = {u.key: i for i, u in enumerate(units)}
    for key in final.zeroed:
        if units[index[key]].rule in proposed:
            continue
        fired = activity.hits[:, index[key]]
        with_rate = float(y[fired].mean()) if fired.any() else 0.0
        without = float(y[~fired].mean()) if (~fired).any() else 0.0
        notes.append(zeroed_note(key, units[index[key]].points, with_rate, without))
    for key in final.unused:
        if units[index[key]].rule in proposed:
            continue
        fired = activity.hits[:, index[key]]
        why = "never fired" if not fired.any() else "fired the same way for every record"
        notes.append(f"{key}: {why} in this data, so it cannot be weighed; points left unchanged.")
    return notes


def zeroed_note(key: str, points: float, rate_with: float, rate_without: float) -> str:
    """Why a rule the fit set to 0 points was set so, in words that agree with its rates.

    The fit weighs every rule together, so a rule can convert more when it fires and still add
    nothing once the rules it fires with are counted; the note says which case it is.
    """
    bonus = points > 0
    kind = "bonus" if bonus else "penalty"
    shown_with, shown_without = f"{100 * rate_with:.1f}", f"{100 * rate_without:.1f}"
    rates = f"converts {shown_with}% when it fires, {shown_without}% otherwise"
    # The words follow the rates as shown: 43.61% against 43.64% reads as no difference.
    if shown_with == shown_without:
        alone = f"it makes no difference on its own ({rates})"
    elif (float(shown_with) > float(shown_without)) == bonus:
        alone = (
            f"on its own it points the way it is written ({rates}), but the rules it fires "
            "together with already account for that"
        )
    else:
        alone = f"the data points the other way ({rates})"
    return f"{key}: written as a {kind} ({points:+g}); {alone}; set to 0, review or remove it."


def _threshold_notes(
    final: Proposal, q: ev.Qualification, target: Target, records: int
) -> list[str]:
    lines = [
        _ladder_note("Fit grades", "grade", final.grades),
        _ladder_note("Interest tiers", "tier", final.tiers),
    ]
    if final.threshold is None:
        wanted = (
            f"a precision of {100 * target.precision:.0f}%"
            if target.precision is not None
            else "the requested share"
            if final.capacity_binds
            else "a balance of precision and recall"
        )
        lines.append(f"No score threshold reaches {wanted}; the qualify section is unchanged.")
        return lines
    share = final.threshold_share or 0.0
    how = target.description or "the share of records the current model qualifies"
    if not final.capacity_binds:
        how = "the best balance of precision and recall (F1)"
    lines.append(
        f"Qualify when score >= {final.threshold:g} (leave below "
        f"{math.floor(final.threshold * EXIT_RATIO):g}), chosen for {how}: about "
        f"{100 * share:.1f}% of records."
    )
    if not final.capacity_binds:
        lines.append(
            f"The capacity does not bind ({target.description}): by itself it would qualify "
            "every record."
        )
    lines.append(
        f"On held-out folds: {q.qualified:,} of {records:,} qualified, precision "
        f"{_pct(q.precision)}, recall {_pct(q.recall)}."
    )
    return lines


def _ladder_note(title: str, what: str, ladder: Ladder) -> str:
    """`Interest tiers: 1 >= 22, 2 >= 1, 3 >= 0 (holding 9.9%, 10.4%, 79.7% of records).`, with
    the levels left out and why."""
    levels = ", ".join(f"{name} >= {t:g}" for name, t in ladder.thresholds.items())
    shares = ", ".join(f"{100 * s:.1f}%" for s in ladder.shares)
    line = (
        f"{title}: {levels} (holding {shares} of records; aimed at shares growing 1:2:3..., "
        "best first)."
    )
    if ladder.left_out:
        total = len(ladder.thresholds) + len(ladder.left_out)
        names = ", ".join(ladder.left_out)
        line += (
            f" {what.capitalize()}{'s' if len(ladder.left_out) > 1 else ''} {names} left out: "
            f"these scores cannot fill {total} {what}s "
            f"holding at least {100 * MIN_GRADE_SHARE:.0f}% of records each."
        )
    return line


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"
