"""Figures judged against the team's goals, printed the same way by every bench.

Each bench builds `Figure`s (its measured value, the goal the issue states, whether the goal is a
floor or a ceiling) and calls `report`: one line per figure, then as the LAST line of output one
JSON object `{"figures": {name: {"value", "goal", "goal_is", "unit", "pass"}}, "all_pass", ...}`
with any context (runs, load) the bench adds.
"""

from __future__ import annotations

import gc
import json
import math
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured figure and its goal; `at_most` makes the goal a ceiling."""

    name: str
    value: float
    goal: float
    unit: str = ""
    at_most: bool = False
    note: str = ""

    @property
    def passed(self) -> bool:
        """Whether the figure meets its goal (a NaN never does)."""
        if math.isnan(self.value):
            return False
        return self.value <= self.goal if self.at_most else self.value >= self.goal

    def line(self) -> str:
        """`name: value unit (goal >= x): met` for the human part of the output."""
        sign = "<=" if self.at_most else ">="
        verdict = "met" if self.passed else "MISSED"
        note = f"; {self.note}" if self.note else ""
        return (
            f"{self.name}: {_show(self.value)} {self.unit} (goal {sign} {_show(self.goal)}"
            f"{note}): {verdict}"
        ).replace("  ", " ")


def _show(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"


def median(values: Sequence[float]) -> float:
    """The median of whole runs (never the best one)."""
    return float(statistics.median(values))


def shared_cpu() -> dict[str, Any]:
    """Context for figures taken on a machine others use: CPUs, the 1-minute load and the
    machine's speed at the time (`reference_ms`)."""
    return {
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "reference_ms": reference_ms(),
    }


def _reference_workload() -> int:
    rows = [{"id": i, "name": f"c{i}", "score": (i * 7) % 101} for i in range(20_000)]
    rows.sort(key=lambda row: (row["score"], row["name"]))
    return sum(len(str(row)) for row in rows)


def reference_ms(runs: int = 15) -> float:
    """CPU milliseconds of a fixed pure-Python workload (dicts, a sort, string building), the
    median of `runs`: the same work on every call, so it shows the machine's speed when a
    bench ran (a shared VM's speed drifts by half within an hour; compare figures of runs whose
    reference is alike). Context only: no figure is judged by it."""
    times = []
    enabled = gc.isenabled()
    gc.disable()  # the collector's walk would measure the caller's heap, not the machine
    try:
        for _ in range(runs):
            start = time.process_time()
            _reference_workload()
            times.append((time.process_time() - start) * 1000)
    finally:
        if enabled:
            gc.enable()
    return round(median(times), 1)


def report(figures: Sequence[Figure], **context: Any) -> dict[str, Any]:
    """Print each figure beside its goal, then the JSON object as the last line."""
    for figure in figures:
        print(figure.line())
    data: dict[str, Any] = {
        "figures": {
            f.name: {
                "value": f.value,
                "goal": f.goal,
                "goal_is": "max" if f.at_most else "min",
                "unit": f.unit,
                "pass": f.passed,
            }
            for f in figures
        },
        "all_pass": all(f.passed for f in figures),
        **context,
    }
    print(json.dumps(data, separators=(",", ":")))
    return data


def window_minimum_s(calls: int, per_window: int, window_s: float, latency_s: float = 0.0) -> float:
    """The least time `calls` calls can take under a rolling window of `per_window` calls per
    `window_s` seconds: call k starts no earlier than `k // per_window` windows after the first
    (the first `per_window` may all go at once), and the last still takes its latency."""
    if calls <= 0:
        return 0.0
    return (calls - 1) // per_window * window_s + latency_s
