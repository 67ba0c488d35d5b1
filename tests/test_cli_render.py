"""The text `leadsync sync` prints."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from cli.render import failures, plan_report, summary_table
from sync.run_summary import PlanSummary, RunResult, Sample, shortened
from sync.state.records import RunCounts, RunStatus


def _result(connection: str, kind: str, mode: str, **kwargs: object) -> RunResult:
    """A succeeded run's result (a dry run unless `dry_run=False`)."""
    kwargs.setdefault("dry_run", True)
    return RunResult(
        connection=connection,
        kind=kind,
        mode=mode,
        status=RunStatus.SUCCEEDED,
        started_at=datetime(2026, 12, 5, tzinfo=UTC),
        **kwargs,  # type: ignore[arg-type]
    )


def test_dry_run_counts_records_skipped_as_already_scored_among_those_considered():
    # an incremental dry run after a full sync: every record read is one the store already
    # scored at this version, so none is rescored and all are unchanged
    result = _result("hs", "contact", "incremental", counts=RunCounts(read=1962, unchanged=1962))
    assert plan_report(result).splitlines()[0] == (
        "hs/contact: would write 0 of 1,962 records (1,962 unchanged)"
    )


def test_the_summary_counts_retried_writes_as_written_and_refused_calls_apart():
    # 10 written, two of them at a second attempt; 3 of the 17 calls sent were refused (429)
    result = _result(
        "hs",
        "contact",
        "full",
        dry_run=False,
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


def test_dry_run_samples_show_whole_numbers_read_from_the_crm_without_a_decimal():
    # Salesforce returns number fields as JSON numbers: the old score read is 49.0
    plan = PlanSummary()
    plan.samples.extend(
        [
            Sample("00Q1", 49.0, "B2", 42, "B1", ("score moved",), ("+30 VP title",)),
            Sample("00Q2", 49.5, None, 50, "A1", ("new",), ()),
            Sample("00Q3", None, None, 7, "D3", ("new",), ()),
        ]
    )
    result = _result("sf", "lead", "full", counts=RunCounts(read=3, planned=3), plan=plan)
    rows = plan_report(result).splitlines()[-3:]
    assert [re.split(r"\s{2,}", row.strip())[:4] for row in rows] == [
        ["00Q1", "49", "42", "B2 -> B1"],
        ["00Q2", "49.5", "50", "- -> A1"],
        ["00Q3", "-", "7", "- -> D3"],
    ]
    assert plan.samples[0].old_score == 49.0  # as read: only the display changes


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("short enough", 60, "short enough"),
        ("x" * 60, 60, "x" * 60),
        # cut after the last space that fits in the second half, the rest an ellipsis
        (
            "internal error: ValueError: Invalid header value b'Bearer <secret>'",
            60,
            "internal error: ValueError: Invalid header value b'Bearer…",
        ),
        (
            "AuthError: token refused (expired, revoked); ask the admin",
            30,
            "AuthError: token refused…",
        ),
        # no break in the second half: cut at the limit
        ("a " + "y" * 80, 20, "a " + "y" * 17 + "…"),
    ],
)
def test_long_text_is_shortened_between_words(text, limit, shown):
    assert shortened(text, limit) == shown
    assert len(shown) <= limit


def test_dead_letter_reasons_naming_their_record_still_add_up_to_the_count():
    # Salesforce's UNABLE_TO_LOCK_ROW message names the record: 80 records, 80 reasons
    reasons = Counter(
        {
            f"UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record or 1 records: "
            f"00Q{i:015d}": 1
            for i in range(80)
        }
    )
    result = _result(
        "sf",
        "lead",
        "full",
        dry_run=False,
        counts=RunCounts(read=100, dead_lettered=80, failed=80),
        dead_letter_reasons=reasons,
    )
    lines = failures([result])
    assert len(lines) == 7
    assert lines[0] == (
        "sf/lead: 1 dead-lettered: UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to "
        "this record or 1 records: 00Q000000000000000"
    )
    assert lines[5:] == [
        "sf/lead: 75 more dead-lettered for 75 other reason(s): `leadsync status` counts the "
        "open dead letters by code",
        "sf/lead: fix the cause, then `leadsync retry-dead-letters`",
    ]
