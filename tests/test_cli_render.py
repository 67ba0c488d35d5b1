"""The text `leadsync sync` prints."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cli.render import plan_report, summary_table
from sync.run_summary import RunResult
from sync.state.records import RunCounts, RunStatus


def test_dry_run_counts_records_skipped_as_already_scored_among_those_considered():
    # an incremental dry run after a full sync: every record read is one the store already
    # scored at this version, so none is rescored and all are unchanged
    result = RunResult(
        connection="hs",
        kind="contact",
        mode="incremental",
        dry_run=True,
        status=RunStatus.SUCCEEDED,
        started_at=datetime(2026, 12, 5, tzinfo=UTC),
        counts=RunCounts(read=1962, scored=0, unchanged=1962),
    )
    assert plan_report(result).splitlines()[0] == (
        "hs/contact: would write 0 of 1,962 records (1,962 unchanged)"
    )


def test_the_summary_counts_retried_writes_as_written_and_refused_calls_apart():
    # 10 written, two of them at a second attempt; 3 of the 17 calls sent were refused (429)
    result = RunResult(
        connection="hs",
        kind="contact",
        mode="full",
        dry_run=False,
        status=RunStatus.SUCCEEDED,
        started_at=datetime(2026, 12, 5, tzinfo=UTC),
        counts=RunCounts(
            read=12,
            planned=11,
            written=10,
            unchanged=1,
            failed=1,
            dead_lettered=1,
            retried=2,
            api_calls=17,
            rate_limited=3,
        ),
        elapsed_s=1.25,
    )
    header, _, row = summary_table([result]).splitlines()
    assert re.split(r"\s{2,}", header) == [
        "connection", "kind", "mode", "status", "read", "written", "unchanged", "failed",
        "dead-lettered", "retried", "API calls", "refused", "seconds",
    ]  # fmt: skip
    assert row.split() == [
        "hs", "contact", "full", "succeeded", "12", "10", "1", "1", "1", "2", "14", "3", "1.2",
    ]  # fmt: skip
