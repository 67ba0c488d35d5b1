"""Text rendering for the sync commands: tables, the progress line, the plan and histograms."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from sync.engine import Progress
from sync.run_summary import RunResult, shown_number

BAR = "█"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A left/right aligned fixed-width table (numbers right-aligned)."""
    cells = [[str(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) and bool(rows)
        for i in range(len(header))
    ]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def summary_table(results: Sequence[RunResult]) -> str:
    """One row per run: what it read, wrote and spent. A write retried and then applied counts
    as written (and once under `retried`); `failed` are the writes given up on. `API calls`
    are those the CRM answered, `refused` those it refused for rate (429) and that were sent
    again."""
    header = (
        "connection", "kind", "mode", "status", "read", "written", "unchanged", "failed",
        "dead-lettered", "retried", "API calls", "refused", "seconds",
    )  # fmt: skip
    rows = [
        (
            r.connection,
            r.kind,
            ("dry run, " if r.dry_run else "") + r.mode,
            r.status,
            r.counts.read,
            r.counts.written,
            r.counts.unchanged,
            r.counts.failed,
            r.counts.dead_lettered,
            r.counts.retried,
            r.counts.answered_calls,
            r.counts.rate_limited,
            round(r.elapsed_s, 1),
        )
        for r in results
    ]
    return table(header, rows)


def failures(results: Sequence[RunResult]) -> list[str]:
    """Lines explaining errors and dead letters, for the end of the summary."""
    lines: list[str] = []
    for r in results:
        if r.error:
            lines.append(f"{r.connection}/{r.kind}: {r.status}: {r.error}")
        shown = r.dead_letter_reasons.most_common(5)
        for reason, count in shown:
            lines.append(f"{r.connection}/{r.kind}: {count} dead-lettered: {reason}")
        # a CRM message naming the record (Salesforce's UNABLE_TO_LOCK_ROW) makes one reason
        # per record: the lines above must not pass for all of them
        rest = r.counts.dead_lettered - sum(count for _, count in shown)
        if shown and rest > 0:
            others = len(r.dead_letter_reasons) - len(shown)
            lines.append(
                f"{r.connection}/{r.kind}: {rest:,} more dead-lettered for {others:,} other "
                "reason(s): `leadsync status` counts the open dead letters by code"
            )
        if r.counts.dead_lettered:
            lines.append(
                f"{r.connection}/{r.kind}: fix the cause, then `leadsync retry-dead-letters`"
            )
    return lines


def histogram(bins: Counter[int], *, width: int = 40) -> str:
    """Score distribution in ten 10-point bins as text bars."""
    peak = max(bins.values(), default=0) or 1
    lines = []
    for b in range(10):
        n = bins.get(b, 0)
        label = f"{b * 10:>3}-{b * 10 + 9 if b < 9 else 100:<3}"
        lines.append(f"{label} {BAR * round(n / peak * width):<{width}} {n:,}")
    return "\n".join(lines)


def plan_report(result: RunResult) -> str:
    """A dry run's plan: counts by reason, the label distribution and sample changes."""
    plan = result.plan
    # of the records read: an incremental run does not rescore those already scored at their
    # CRM version, which still count as unchanged
    out = [
        f"{result.connection}/{result.kind}: would write {result.counts.planned:,} of "
        f"{result.counts.read:,} records ({result.counts.unchanged:,} unchanged)"
    ]
    if plan.by_reason:
        reasons = ", ".join(f"{k} {v:,}" for k, v in plan.by_reason.most_common())
        out.append(f"  why: {reasons}")
    if plan.labels:
        labels = "  ".join(f"{k}:{v:,}" for k, v in sorted(plan.labels.items()))
        out.append(f"  labels: {labels}   qualified: {plan.qualified:,}")
        out.append("  scores:")
        out.extend("    " + line for line in histogram(plan.score_bins, width=30).splitlines())
    if plan.samples:
        out.append("  samples:")
        rows = [
            (
                s.record_id,
                f"{shown_number(s.old_score) if s.old_score not in (None, '') else '-'}",
                shown_number(s.new_score),
                f"{s.old_label or '-'} -> {s.new_label}",
                ",".join(s.reasons),
                "; ".join(s.top_reasons),
            )
            for s in plan.samples
        ]
        rendered = table(("record", "old", "new", "label", "why", "top reasons"), rows)
        out.extend("    " + line for line in rendered.splitlines())
    return "\n".join(out)


class ProgressLine:
    """A one-line progress display redrawn in place on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self.key: tuple[str, str] | None = None
        self.width = 0

    def update(self, progress: Progress) -> None:
        """Redraw for the latest page."""
        if not self.enabled:
            return
        key = (progress.connection, progress.kind)
        if key != self.key:
            self.finish()
            self.key, self.started = key, time.monotonic()
        c = progress.counts
        rate = c.read / max(time.monotonic() - self.started, 1e-6)
        spin = "|/-\\"[c.pages % 4]
        filled = min(c.written * 20 // max(c.planned, 1), 20)
        bar = f"[{'#' * filled}{'.' * (20 - filled)}]"
        text = (
            f"{spin} {progress.connection}/{progress.kind} {bar} read {c.read:,}  "
            f"planned {c.planned:,}  written {c.written:,}  failed {c.failed:,}  {rate:,.0f}/s"
        )
        self.width = max(self.width, len(text))
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()

    def finish(self) -> None:
        """End the current line."""
        if self.enabled and self.key is not None:
            self.stream.write("\n")
            self.stream.flush()
            self.key = None
