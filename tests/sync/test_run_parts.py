"""The parts of a run: where it reads from (`Position.of`), what becomes of a written record
(`writes.outcome`) and which planned records replace a waiting write (`Writes.in_outbox`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import WriteAction, WriteResult
from sync.outage import Outage, OutagePolicy
from sync.run import Position, RunOptions
from sync.run_summary import REASON_LENGTH, dead_letter_reason
from sync.state.records import CursorState, OutboxEntry, RunCounts, WriteOutcome
from sync.writes import Writes, outcome
from tests.sync.fakes import FakeCRM

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WATERMARK = CursorState(watermark=T)
INTERRUPTED_FULL = CursorState(
    watermark=T,
    resume="page-7",
    resume_mode="full",
    resume_since=None,
    resume_started=T + timedelta(hours=1),
    high_water=T + timedelta(minutes=30),
)
INTERRUPTED_INCREMENTAL = CursorState(
    watermark=T, resume="page-2", resume_mode="incremental", resume_since=T - timedelta(minutes=2)
)


@pytest.mark.parametrize(
    ("cursor", "full", "expected"),
    [
        (CursorState(), False, Position("full", cursor=CursorState())),
        (WATERMARK, False, Position("incremental", T - timedelta(minutes=2), cursor=WATERMARK)),
        (WATERMARK, True, Position("full", cursor=WATERMARK)),
        (
            INTERRUPTED_FULL,
            False,
            Position(
                "full",
                None,
                "page-7",
                T + timedelta(minutes=30),
                T + timedelta(hours=1),
                INTERRUPTED_FULL,
            ),
        ),
        (
            INTERRUPTED_INCREMENTAL,
            False,
            Position(
                "incremental",
                T - timedelta(minutes=2),
                "page-2",
                cursor=INTERRUPTED_INCREMENTAL,
            ),
        ),
        # a requested full run discards an interrupted incremental one
        (INTERRUPTED_INCREMENTAL, True, Position("full", cursor=INTERRUPTED_INCREMENTAL)),
    ],
    ids=["first", "incremental", "full", "resume-full", "resume-incremental", "full-over-resume"],
)
def test_position(cursor, full, expected):
    options = RunOptions(full=full, overlap=timedelta(minutes=2))
    assert Position.of(cursor, options) == expected


ENTRY = OutboxEntry("r1", "{}", "v1", 1)


@pytest.mark.parametrize(
    ("action", "attempts", "status"),
    [
        (WriteAction.APPLIED, 0, "applied"),
        (WriteAction.RETRY, 0, "retry"),
        (WriteAction.RETRY, 1, "retry"),
        (WriteAction.RETRY, 2, "dead_lettered"),  # the third attempt was the last
        (WriteAction.PAUSE_OUTAGE, 5, "paused"),  # never counted against the record
        (WriteAction.DEAD_LETTER, 0, "dead_lettered"),
        (WriteAction.GONE, 0, "gone"),
    ],
)
def test_outcome_carries_out_the_connectors_action(action, attempts, status):
    entry = OutboxEntry("r1", "{}", "v1", 1, attempts)
    result = WriteResult("r1", action, None if status == "applied" else "CODE", "why")
    expected = (
        WriteOutcome(entry, "applied")
        if status == "applied"
        else WriteOutcome(entry, status, "CODE", "why")
    )
    assert outcome(entry, result, max_attempts=3) == expected


def test_a_missing_result_is_retried():
    assert outcome(ENTRY, None, max_attempts=3) == WriteOutcome(
        ENTRY, "retry", "no_result", "the CRM returned no result"
    )


def test_the_write_queue_names_the_planned_records_whose_write_waits_once_loaded(store) -> None:
    # A page's planned write replaces its record's waiting one: the queue, loaded from the
    # outbox, names those records so the page's save deletes only theirs.
    run_id = store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T, model_version="v1"
    )
    waiting = OutboxEntry.build(
        "1", new={"score": 5}, old={}, reasons=["new"], contributions="[]", model_version="v1"
    )
    store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[waiting], scores=[], counts=RunCounts(),
        now=T,
    )  # fmt: skip
    writes = Writes(
        store=store, connector=FakeCRM(1), connection="acme", kind="contact", run_id=run_id,
        chunk_size=100, max_attempts=3, outage=Outage(OutagePolicy(), lambda _s: True, "writes"),
        clock=lambda: T, counts=RunCounts(), reasons=Counter(), beside_reading=False,
    )  # fmt: skip
    assert writes.in_outbox(["1", "2"]) is None  # not loaded: any of them may wait
    writes.load_pending()
    assert writes.in_outbox(["1", "2"]) == ["1"]
    writes.add([(waiting, {"score": 5})])
    assert writes.in_outbox(["2", "3"]) == []
    writes.close()


def test_dead_letter_reasons_up_to_the_limit_are_whole_and_longer_ones_cut_with_an_ellipsis():
    assert dead_letter_reason("INVALID", "x" * 191) == "INVALID: " + "x" * 191
    assert len("INVALID: " + "x" * 191) == REASON_LENGTH
    # no space or closing mark in the second half: cut at the limit
    assert dead_letter_reason("INVALID", "x" * 192) == "INVALID: " + "x" * 190 + "…"
    words = "word " * 60
    assert dead_letter_reason("INVALID", words) == "INVALID: " + "word " * 37 + "word…"
    assert dead_letter_reason(None, None) == "error: "
