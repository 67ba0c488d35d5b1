"""Plain-text summaries of backtest and calibration results for the terminal."""

from __future__ import annotations

from revops import evaluation as ev
from revops.backtest import Backtest
from revops.calibrate import MIN_GAIN_T, Calibration
from revops.formatting import fmt, pct, table


def backtest_text(bt: Backtest) -> str:
    """The backtest summary: headline figures, warnings, deciles, labels and rules."""
    q = bt.qualification
    out = [
        f"backtest of {bt.model_name} ({bt.model_version}) as of {bt.now}",
        f"records {bt.records:,}  converted {bt.converted:,} ({pct(bt.base_rate)})"
        f"  disqualified {bt.disqualified:,}",
        f"ROC AUC {fmt(bt.auc)}  (fit {fmt(bt.fit_auc)}, interest {fmt(bt.interest_auc)})",
        f"qualified {q.qualified:,}: precision {pct(q.precision)}, recall {pct(q.recall)}",
        # a record without an outcome date is cut at its creation plus the window, so the
        # events counted here are not all after an outcome
        f"point-in-time guard: {bt.events_after_outcome:,} events after their record's cutoff "
        f"excluded ({bt.records_after_outcome:,} records), {bt.events_after_as_of:,} after "
        "the as-of date",
        *(f"point in time: {line}" for line in bt.point_in_time),
    ]
    for warning in bt.warnings:
        out.append(f"LEAKAGE WARNING {warning}")
    if bt.leaky_rules:
        out.append(f"rules reading a flagged property: {', '.join(bt.leaky_rules)}")
    out.append("")
    out.append(
        table(
            ["decile", "records", "converted", "rate", "lift", "capture"],
            [
                [d.name, d.count, d.converted, pct(d.rate), d.lift, pct(g)]
                for d, g in zip(bt.deciles, bt.gains, strict=True)
            ],
        )
    )
    note = ev.tie_note(bt.deciles)
    if note:
        out.append(note[0].upper() + note[1:] + ".")
    out.append("")
    out.append(
        table(
            ["label", "records", "converted", "rate", "lift"],
            [[b.name, b.count, b.converted, pct(b.rate), b.lift] for b in bt.labels if b.count],
        )
    )
    out.append("")
    out.append(
        table(
            ["score band", "records", "converted", "rate"],
            [[b.name, b.count, b.converted, pct(b.rate)] for b in bt.calibration if b.count],
        )
    )
    if bt.inversions:
        out.append(
            "conversion falls as the score rises: "
            + ", ".join(f"{a} -> {b}" for a, b in bt.inversions)
        )
    out.append("")
    out.append(
        table(
            ["rule", "fired", "share", "with", "without", "lift", ""],
            [
                [
                    r.rule,
                    r.support,
                    pct(r.support_share),
                    pct(r.rate_with),
                    pct(r.rate_without),
                    r.lift,
                    "against its sign" if r.contradicts else "",
                ]
                for r in bt.rules
            ],
        )
    )
    return "\n".join(out)


def calibration_text(cal: Calibration, out_path: str) -> str:
    """The calibration summary: held-out AUC, point changes, thresholds, notes and the diff."""
    out = [
        f"calibration of {cal.model_name} on {cal.records:,} records, {cal.folds}-fold "
        "cross-validation",
        f"held-out ROC AUC: current {fmt(cal.auc_before)} -> proposed {fmt(cal.auc_after)}",
        "  per fold: "
        + ", ".join(
            f"{b:.3f} -> {a:.3f}"
            for b, a in zip(cal.fold_auc_before, cal.fold_auc_after, strict=True)
        ),
        *(f"point in time: {line}" for line in cal.point_in_time),
        "",
        table(
            ["rule", "dimension", "current", "proposed", "log-odds"],
            [[c.rule, c.dimension, f"{c.before:g}", f"{c.after:g}", c.weight] for c in cal.changes],
        ),
        "",
        *cal.threshold_notes,
    ]
    if cal.proposed:
        kept = [p for p in cal.proposed if p.kept]
        out.append("")
        out.append(
            f"proposed rules: {len(kept)} of {len(cal.proposed)} candidates earned points and "
            f"gained on held-out folds by at least {MIN_GAIN_T:g} standard errors; they are in "
            "the written file, delete any you do not want"
        )
        out.append(
            table(
                ["proposed rule", "records", "share", "points", "held-out gain", "std. error"],
                [
                    [
                        p.name,
                        p.support,
                        pct(p.share),
                        f"{p.points:g}",
                        f"{p.gain:+.4f}",
                        f"{p.gain_se:.4f}",
                    ]
                    for p in kept
                ],
            )
        )
    if cal.leaky:
        out.append("")
        out.append("leaky rules (calibrate never raises these silently):")
        for leak in cal.leaky:
            did = (
                "dropped (--exclude-leaky): 0 points"
                if leak.excluded
                else f"{leak.before:g} -> {leak.after:g} points; --exclude-leaky drops it"
            )
            out.append(f"  {leak.rule}: {did}")
            out.extend(f"    {reason}" for reason in leak.reasons)
    if cal.leaky_checks:
        out.append("")
        out.append(
            "checks reading a leaky property (kept as they are; calibrate fits points only):"
        )
        for name, reasons in cal.leaky_checks:
            out.append(f"  {name}")
            out.extend(f"    {reason}" for reason in reasons)
    if cal.notes:
        out.append("")
        out.extend(f"note: {n}" for n in cal.notes)
    out.append("")
    out.append(f"wrote {out_path}; changes against the current model:")
    out.append(cal.diff or "(no change)")
    return "\n".join(out)
