"""Backtest: score labelled records with a model and measure how well the scores predicted.

Input is a `Labelled` set (records, outcomes, point-in-time guard applied, see
`revops.outcomes`); output is a `Backtest` holding every figure the text summary and the HTML
report show: ROC AUC, lift per decile and per label, precision and recall of qualification, the
calibration table, per-rule lift and leakage warnings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from revops import evaluation as ev
from revops import leakage
from revops.features import check_properties, rule_activity, rule_properties
from revops.outcomes import Labelled, point_in_time_lines
from scoring.model import ScoringModel


@dataclass(frozen=True, slots=True)
class Backtest:
    """Every figure of one backtest."""

    model_name: str
    model_version: str
    records: int
    converted: int
    base_rate: float | None
    now: str
    auc: float | None
    fit_auc: float | None
    interest_auc: float | None
    deciles: tuple[ev.Bucket, ...]
    gains: tuple[float | None, ...]
    labels: tuple[ev.Bucket, ...]
    qualification: ev.Qualification
    calibration: tuple[ev.Bucket, ...]
    inversions: tuple[tuple[str, str], ...]
    rules: tuple[ev.RuleLift, ...]
    warnings: tuple[leakage.LeakageWarning, ...]
    leaky_rules: tuple[str, ...]
    point_in_time: tuple[str, ...]
    events_after_outcome: int
    records_after_outcome: int
    events_after_as_of: int
    scores: tuple[float, ...]
    outcomes: tuple[bool, ...]
    disqualified: int


def run(labelled: Labelled, model: ScoringModel, *, outcome: str) -> Backtest:
    """Score every record at the labelled set's `now` and compute the backtest figures."""
    activity = rule_activity(model, labelled.records, labelled.moments())
    results = activity.results
    ys = list(labelled.outcomes)
    scores = [float(r.score) for r in results]
    fired = activity.fired()
    auc = ev.roc_auc(scores, ys)
    warnings = leakage.assess(
        sorted(model.properties),
        [model.known(record.properties) for record in labelled.records],
        ys,
        outcome=outcome,
        fired=fired,
        auc=auc,
        late=labelled.late,
    )
    leaky = leakage.rules_reading({**check_properties(model), **rule_properties(model)}, warnings)
    deciles = ev.lift_by_decile(scores, ys, ids=[r.id for r in labelled.records])
    calibration = ev.calibration_table(scores, ys)
    return Backtest(
        model_name=model.name,
        model_version=model.version,
        records=len(ys),
        converted=sum(ys),
        base_rate=ev.base_rate(ys),
        now=labelled.now.isoformat(),
        auc=auc,
        fit_auc=ev.roc_auc([float(r.fit) for r in results], ys),
        interest_auc=ev.roc_auc([float(r.interest) for r in results], ys),
        deciles=tuple(deciles),
        gains=tuple(ev.cumulative_gains(deciles)),
        labels=tuple(ev.conversion_by_label([r.label for r in results], ys, model.labels)),
        qualification=ev.qualification([r.qualified for r in results], ys),
        calibration=tuple(calibration),
        inversions=tuple(ev.inversions(calibration)),
        rules=tuple(ev.rule_lifts(fired, ys, activity.signs())),
        warnings=tuple(warnings),
        leaky_rules=tuple(sorted(leaky)),
        point_in_time=tuple(point_in_time_lines(labelled, model.properties)),
        events_after_outcome=labelled.events_after_outcome,
        records_after_outcome=labelled.records_after_outcome,
        events_after_as_of=labelled.events_after_as_of,
        scores=tuple(scores),
        outcomes=tuple(ys),
        disqualified=sum(r.disqualified_reason is not None for r in results),
    )


def to_dict(bt: Backtest) -> dict[str, object]:
    """A JSON-serialisable form without the per-record score and outcome lists."""
    data = dataclasses.asdict(bt)
    data.pop("scores")
    data.pop("outcomes")
    data["rules"] = [{**dataclasses.asdict(r), "contradicts": r.contradicts} for r in bt.rules]
    data["warnings"] = [dataclasses.asdict(w) for w in bt.warnings]
    return data
