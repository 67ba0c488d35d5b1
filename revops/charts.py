"""Plotly figures shared by the backtest, calibrate and preview reports.

Each function takes plain figures (from `revops.evaluation`) and returns a `go.Figure`; the
page builder in `revops.html` embeds them. Series are passed as name -> values so one chart
can compare two models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from revops.evaluation import Bucket, RuleLift

_COLORS = ("#2f6fdf", "#e8833a", "#3a9d5d", "#c23b3b")


def score_histogram(series: Mapping[str, Sequence[float]], title: str) -> go.Figure:
    """Overlaid score histograms in 5-point bins on 0-100, as a share of each series."""
    figure = go.Figure()
    for i, (name, values) in enumerate(series.items()):
        figure.add_trace(
            go.Histogram(
                x=list(values),
                name=f"{name} ({len(values):,})",
                xbins={"start": 0, "end": 105, "size": 5},
                histnorm="percent",
                opacity=0.6,
                marker_color=_COLORS[i % len(_COLORS)],
                hovertemplate="%{fullData.name}: %{y:.1f}% score %{x}<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        barmode="overlay",
        xaxis_title="score (5-point bins)",
        yaxis_title="% of each series' records",
        xaxis_range=[0, 105],
    )
    return figure


def lift_by_decile(series: Mapping[str, Sequence[Bucket]], title: str) -> go.Figure:
    """Lift per decile (1 = top 10% of scores) for one or more models, with the 1.0 baseline."""
    figure = go.Figure()
    for i, (name, rows) in enumerate(series.items()):
        figure.add_trace(
            go.Bar(
                x=[f"D{r.name}" for r in rows],
                y=[r.lift if r.lift is not None else 0.0 for r in rows],
                name=name,
                marker_color=_COLORS[i % len(_COLORS)],
                customdata=[[r.count, r.converted] for r in rows],
                hovertemplate="%{x}: lift %{y:.2f}<br>%{customdata[0]} records, "
                "%{customdata[1]} converted<extra></extra>",
            )
        )
    figure.add_hline(y=1.0, line_dash="dash", line_color="#7b8794")
    figure.update_layout(
        title=title,
        barmode="group",
        xaxis_title="score decile (D1: the top 10% of scores)",
        yaxis_title="lift (conversion ÷ overall)",
    )
    return figure


def conversion_by_label(series: Mapping[str, Sequence[Bucket]], title: str) -> go.Figure:
    """Conversion rate per label; labels without records are left out."""
    figure = go.Figure()
    for i, (name, rows) in enumerate(series.items()):
        filled = [r for r in rows if r.count]
        figure.add_trace(
            go.Bar(
                x=[r.name for r in filled],
                y=[100 * (r.rate or 0.0) for r in filled],
                name=name,
                marker_color=_COLORS[i % len(_COLORS)],
                text=[f"{r.count:,} records" for r in filled],
                textposition="inside",
                hovertemplate="%{x}: %{y:.1f}% of %{text} converted<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        barmode="group",
        xaxis_title="label",
        yaxis_title="% of the label's records converted",
        uniformtext={"minsize": 9, "mode": "hide"},
    )
    return figure


def calibration_curve(series: Mapping[str, Sequence[Bucket]], title: str) -> go.Figure:
    """Observed conversion against the mean score of each populated score band."""
    figure = go.Figure()
    for i, (name, rows) in enumerate(series.items()):
        filled = [r for r in rows if r.count]
        figure.add_trace(
            go.Scatter(
                x=[r.mean_score for r in filled],
                y=[100 * (r.rate or 0.0) for r in filled],
                mode="lines+markers",
                name=name,
                marker={"size": [6 + 2 * math.log10(r.count) for r in filled]},
                line_color=_COLORS[i % len(_COLORS)],
                text=[f"{r.name}: {r.count:,} records" for r in filled],
                hovertemplate="%{text}<br>%{y:.1f}% converted<extra></extra>",
            )
        )
    figure.update_layout(
        title=title,
        xaxis_title="score (band mean)",
        yaxis_title="% converted",
        xaxis_range=[0, 100],
    )
    return figure


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values 1, 2, 5 times a power of ten between `low` and `high` (both > 0)."""
    ticks = []
    for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for step in (1, 2, 5):
            value = float(f"{step * 10.0**power:.12g}")
            if low <= value <= high:
                ticks.append(value)
    return ticks


def rule_lift(rows: Sequence[RuleLift], title: str, limit: int = 30) -> go.Figure:
    """Horizontal bars of lift per rule (log scale, ticks as plain numbers), the
    best-supported rules first."""
    chosen = sorted(
        (r for r in rows if r.lift is not None and r.lift > 0), key=lambda r: -r.support
    )[:limit]
    chosen.reverse()
    lifts = [min(r.lift or 0.0, 100.0) for r in chosen]
    low, high = min([*lifts, 1.0]) / 1.25, max([*lifts, 1.0]) * 1.25
    ticks = log_ticks(low, high)
    figure = go.Figure(
        go.Bar(
            x=lifts,
            y=[r.rule for r in chosen],
            orientation="h",
            marker_color=[_COLORS[3] if r.contradicts else _COLORS[0] for r in chosen],
            text=[f"{r.support:,} records" for r in chosen],
            textposition="inside",
            hovertemplate="%{y}: lift %{x:.2f}, fired on %{text}<extra></extra>",
        )
    )
    figure.add_vline(x=1.0, line_dash="dash", line_color="#7b8794")
    figure.update_layout(
        title=title,
        xaxis={
            "type": "log",
            "range": [math.log10(low), math.log10(high)],
            "tickvals": ticks,
            "ticktext": [f"{t:g}" for t in ticks],
            "title": "lift: conversion when the rule fires ÷ when it does not "
            "(red: against the rule's sign)",
        },
        uniformtext={"minsize": 9, "mode": "hide"},
        height=max(380, 22 * len(chosen) + 120),
    )
    return figure


def fold_auc(before: Sequence[float], after: Sequence[float], title: str) -> go.Figure:
    """AUC of the current and the proposed model on each held-out fold."""
    folds = [f"fold {i + 1}" for i in range(len(before))]
    figure = go.Figure(
        [
            go.Bar(x=folds, y=list(before), name="current model", marker_color=_COLORS[0]),
            go.Bar(x=folds, y=list(after), name="proposed model", marker_color=_COLORS[1]),
        ]
    )
    low = min([*before, *after, 0.5])
    figure.update_layout(
        title=title, barmode="group", yaxis_title="ROC AUC", yaxis_range=[low - 0.05, 1.0]
    )
    return figure


def transitions(
    matrix: Mapping[tuple[str, str], int], order: Sequence[str], title: str
) -> go.Figure:
    """A heatmap of record counts moving from one label (rows) to another (columns)."""
    seen = [name for name in order if any(name in key for key in matrix)]
    seen += sorted({n for key in matrix for n in key} - set(seen))
    z = [[matrix.get((src, dst), 0) for dst in seen] for src in seen]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=seen,
            y=seen,
            colorscale="Blues",
            text=[[str(v) if v else "" for v in row] for row in z],
            texttemplate="%{text}",
            hovertemplate="%{y} → %{x}: %{z} records<extra></extra>",
            colorbar={"title": {"text": "records"}},
        )
    )
    figure.update_layout(
        title=title,
        xaxis_title="label with the candidate model",
        yaxis_title="label with the live model",
        yaxis_autorange="reversed",
    )
    return figure
