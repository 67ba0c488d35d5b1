"""The text `leadsync sync` prints."""

from __future__ import annotations

from datetime import UTC, datetime

from cli.render import plan_report
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
