"""Formatting of figures for tables in the terminal and in HTML reports."""

from __future__ import annotations

import math
from collections.abc import Sequence


def fmt(value: object, digits: int = 3) -> str:
    """A table cell: floats rounded, counts with thousands separators, None as an en dash."""
    if value is None:
        return "–"
    if type(value) is int:  # not bool: True stays True
        return f"{value:,}"
    if isinstance(value, float):
        if math.isinf(value) and value > 0:
            return "∞"
        if not math.isfinite(value):
            return "–"
        return f"{value:.{digits}f}"
    return str(value)


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage, None as an en dash."""
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width table; the first column left-aligned, the others right-aligned."""
    cells = [list(headers)] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
