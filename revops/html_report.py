"""The HTML reports of `backtest`, `calibrate` and `preview` (`--report out.html`).

Each function lays out one self-contained page (see `revops.html`) from a result object:
headline figures, warnings first, then the charts and the tables behind them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from revops import charts
from revops import evaluation as ev
from revops.formatting import fmt, pct
from revops.html import HtmlPage
from revops.preview import RULE_SHIFT_HEADERS, rule_shift_rows

if TYPE_CHECKING:
    from revops.backtest import Backtest
    from revops.calibrate import Calibration
    from revops.preview import Preview


def _backtest_body(page: HtmlPage, bt: Backtest) -> None:
    page.stats(
        {
            "records": f"{bt.records:,}",
            "converted": f"{bt.converted:,} ({pct(bt.base_rate)})",
            "ROC AUC (score)": fmt(bt.auc),
            "AUC fit / interest": f"{fmt(bt.fit_auc)} / {fmt(bt.interest_auc)}",
            "top-decile lift": fmt(bt.deciles[0].lift, 2) if bt.deciles else "–",
            "qualified precision": pct(bt.qualification.precision),
            "qualified recall": pct(bt.qualification.recall),
        }
    )
    if bt.warnings:
        page.heading("Leakage warnings")
        for warning in bt.warnings:
            page.warning(str(warning))
    page.heading("Point in time")
    for line in bt.point_in_time:
        page.paragraph(line[0].upper() + line[1:] + ".")
    if bt.leaky_rules:
        page.warning(f"Rules reading a flagged property: {', '.join(bt.leaky_rules)}.")
    if bt.events_after_outcome or bt.events_after_as_of:
        page.paragraph(
            f"Point-in-time guard: {bt.events_after_outcome:,} events dated after their "
            f"record's cutoff ({bt.records_after_outcome:,} records) and "
            f"{bt.events_after_as_of:,} events after the as-of date were left out."
        )
    converted = [s for s, y in zip(bt.scores, bt.outcomes, strict=True) if y]
    others = [s for s, y in zip(bt.scores, bt.outcomes, strict=True) if not y]
    page.heading("Score distribution")
    page.chart(
        charts.score_histogram(
            {"converted": converted, "not converted": others}, "Scores by outcome"
        )
    )
    page.heading("Lift by decile")
    page.chart(charts.lift_by_decile({bt.model_name: bt.deciles}, "Lift by score decile"))
    page.table(
        ["decile", "records", "converted", "rate", "lift", "scores", "cumulative capture"],
        [
            [
                d.name,
                d.count,
                d.converted,
                pct(d.rate),
                d.lift,
                "–" if d.low is None else f"{d.low:g}–{d.high:g}",
                pct(gain),
            ]
            for d, gain in zip(bt.deciles, bt.gains, strict=True)
        ],
    )
    note = ev.tie_note(bt.deciles)
    if note:
        page.paragraph(note[0].upper() + note[1:] + ".")
    page.heading("Conversion by label")
    page.chart(charts.conversion_by_label({bt.model_name: bt.labels}, "Conversion by label"))
    q = bt.qualification
    page.paragraph(
        f"Qualification: {q.qualified:,} qualified, {q.true_positives:,} of them converted "
        f"(precision {pct(q.precision)}); {pct(q.recall)} of the {q.converted:,} conversions "
        "were qualified (recall)."
    )
    page.heading("Calibration")
    page.chart(charts.calibration_curve({bt.model_name: bt.calibration}, "Conversion by score"))
    page.table(
        ["score band", "records", "converted", "rate", "lift"],
        [[b.name, b.count, b.converted, pct(b.rate), b.lift] for b in bt.calibration if b.count],
    )
    if bt.inversions:
        page.warning(
            "Conversion falls while the score rises between bands "
            + ", ".join(f"{a} → {b}" for a, b in bt.inversions)
            + "; calibrate can suggest better points."
        )
    page.heading("Rules")
    page.chart(charts.rule_lift(bt.rules, "Lift per rule"))
    page.table(
        ["rule", "fired on", "share", "rate with", "rate without", "lift", "note"],
        [
            [
                r.rule,
                r.support,
                pct(r.support_share),
                pct(r.rate_with),
                pct(r.rate_without),
                r.lift,
                "data points the other way" if r.contradicts else "",
            ]
            for r in bt.rules
        ],
    )


def backtest_report(bt: Backtest) -> str:
    """The backtest page."""
    page = HtmlPage(
        f"Backtest: {bt.model_name}",
        f"model version {bt.model_version}, scored as of {bt.now}",
    )
    _backtest_body(page, bt)
    return page.render()


def calibration_report(cal: Calibration) -> str:
    """The calibration page: held-out AUC, before/after distributions and the proposed changes."""
    page = HtmlPage(
        f"Calibration: {cal.model_name}",
        f"{cal.folds}-fold cross-validation on {cal.records:,} records",
    )
    page.stats(
        {
            "AUC before (held out)": fmt(cal.auc_before),
            "AUC after (held out)": fmt(cal.auc_after),
            "points changed": str(sum(c.before != c.after for c in cal.changes)),
            "rules held at 0": str(len(cal.zeroed)),
        }
    )
    for note in cal.notes:
        page.warning(note)
    if cal.point_in_time:
        page.heading("Point in time")
        for line in cal.point_in_time:
            page.paragraph(line[0].upper() + line[1:] + ".")
    for leak in cal.leaky:
        did = (
            "dropped with --exclude-leaky (0 points)"
            if leak.excluded
            else f"{leak.before:g} -> {leak.after:g} points; --exclude-leaky drops it"
        )
        page.warning(f"Leaky rule {leak.rule}: {did}. " + " ".join(leak.reasons))
    for name, reasons in cal.leaky_checks:
        page.warning(
            f"Check {name} reads a leaky property and is kept as it is (calibrate fits points "
            "only). " + " ".join(reasons)
        )
    page.heading("Held-out AUC per fold")
    page.chart(charts.fold_auc(cal.fold_auc_before, cal.fold_auc_after, "AUC per held-out fold"))
    page.heading("Score distribution before and after")
    page.chart(
        charts.score_histogram(
            {"current model": cal.scores_before, "proposed model": cal.scores_after},
            "Held-out scores",
        )
    )
    page.heading("Lift and calibration before and after")
    page.chart(
        charts.lift_by_decile(
            {"current model": cal.deciles_before, "proposed model": cal.deciles_after},
            "Lift by decile (held out)",
        )
    )
    page.chart(
        charts.calibration_curve(
            {"current model": cal.calibration_before, "proposed model": cal.calibration_after},
            "Conversion by score (held out)",
        )
    )
    page.chart(
        charts.conversion_by_label(
            {"current model": cal.labels_before, "proposed model": cal.labels_after},
            "Conversion by label (held out)",
        )
    )
    page.heading("Proposed points")
    page.table(
        ["rule", "dimension", "current", "proposed", "log-odds weight"],
        [[c.rule, c.dimension, f"{c.before:g}", f"{c.after:g}", c.weight] for c in cal.changes],
    )
    page.heading("Proposed thresholds")
    for line in cal.threshold_notes:
        page.paragraph(line)
    page.heading("Model diff")
    page.preformatted(cal.diff or "(no change)")
    return page.render()


def preview_report(pv: Preview) -> str:
    """The preview page: what would change if the candidate model went live."""
    page = HtmlPage(
        f"Preview: {pv.candidate_name} against {pv.live_name}",
        f"{pv.records:,} records from {pv.source}; nothing was written",
    )
    page.stats(
        {
            "records": f"{pv.records:,}",
            "label changes": f"{pv.label_changed:,}",
            "grade changes": f"{pv.grade_changed:,}",
            "newly qualified": f"{pv.newly_qualified:,}",
            "no longer qualified": f"{pv.unqualified:,}",
        }
    )
    page.heading("Score distribution before and after")
    page.chart(
        charts.score_histogram(
            {"live model": pv.scores_before, "candidate model": pv.scores_after},
            "Scores with each model",
        )
    )
    page.heading("Label moves")
    page.chart(charts.transitions(pv.transitions, pv.label_order, "Records per label move"))
    page.heading("Rules whose effect changed most")
    page.paragraph(
        "Points each rule adds per record, averaged over all records (0 where it does not fire)."
    )
    page.table(list(RULE_SHIFT_HEADERS), rule_shift_rows(pv.rule_shifts))
    page.heading("Samples")
    for kind, samples in pv.samples.items():
        if samples:
            page.paragraph(f"{kind}:")
            page.table(
                ["record", "before", "after"],
                [[s.record_id, s.before, s.after] for s in samples],
            )
    return page.render()
