"""`run progress` lines: records and calls so far, and the share refused for rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from connectors.base import ApiUsage
from sync.progress import ProgressLog
from sync.state.records import RunCounts

START = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_progress_is_logged_at_most_once_per_interval_with_the_refused_share() -> None:
    now = [START]
    crm = SimpleNamespace(usage=ApiUsage(calls=40, rate_limited=10))  # before the run
    lines: list[tuple[str, dict[str, Any]]] = []
    progress = ProgressLog(crm, lambda: now[0], lambda msg, **extra: lines.append((msg, extra)))
    counts = RunCounts(read=100, written=0, planned=100)
    crm.usage = ApiUsage(calls=50, rate_limited=18)
    now[0] = START + timedelta(seconds=29)
    progress.page(counts)
    assert lines == []
    now[0] = START + timedelta(seconds=30)
    counts = RunCounts(read=200, written=100, planned=200)
    progress.page(counts)
    now[0] = START + timedelta(seconds=45)
    progress.page(counts)
    assert lines == [
        (
            "run progress",
            {
                "read": 200,
                "written": 100,
                "planned": 200,
                "api_calls": 10,
                "rate_limited": 8,
                "refused_share": 0.8,
            },
        )
    ]
