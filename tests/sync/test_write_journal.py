"""`sync.journal.StoreJournal` on SQLite and PostgreSQL: a Bulk job and a composite call noted
before their data goes, listed oldest first, and forgotten once none of their records waits in
the outbox."""

from __future__ import annotations

from datetime import timedelta

from sync.journal import StoreJournal
from sync.state.records import RunCounts, WriteOutcome
from tests.sync.test_state import T0, entry

CALL = "composite:" + "f" * 32  # as `connectors.salesforce.inflight.new_note` makes them


def test_noted_jobs_and_calls_are_kept_until_their_records_are_ledgered(any_store):
    ticks = iter(T0 + timedelta(seconds=s) for s in range(10))
    journal = StoreJournal(any_store, "sf", "lead", lambda: next(ticks))
    run_id = any_store.start_run(
        "sf", "lead", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    ids = [f"00Q{n:015d}" for n in range(1000)]
    any_store.save_page(
        run_id, "sf", "lead", cursor=None, outbox=[entry(i) for i in ids], scores=[],
        counts=RunCounts(), now=T0,
    )  # fmt: skip
    assert journal.jobs() == []
    journal.started("750xx0000000001AAA", {ids[0]: "d0"})
    journal.started(CALL, {i: f"d{n}" for n, i in enumerate(ids)})
    journal.settle()  # every record still waits: both stay
    assert [(job, len(rows)) for job, rows in journal.jobs()] == [
        ("750xx0000000001AAA", 1),
        (CALL, 1000),
    ]
    assert dict(journal.jobs())[CALL][ids[999]] == "d999"

    pending = {e.record_id: e for e in any_store.pending("sf", "lead")}
    any_store.record_writes(
        run_id, "sf", "lead", [WriteOutcome(pending[ids[0]], "applied")], now=T0
    )
    journal.settle()  # the Bulk job's one record is ledgered; the call's others still wait
    assert [job for job, _ in journal.jobs()] == [CALL]
    any_store.record_writes(
        run_id,
        "sf",
        "lead",
        [WriteOutcome(pending[i], "applied") for i in ids[1:999]]
        + [WriteOutcome(pending[ids[999]], "retry", "UNABLE_TO_LOCK_ROW", "locked")],
        now=T0,
    )
    journal.settle()  # a retried record stays in the outbox, and so does the note
    assert [job for job, _ in journal.jobs()] == [CALL]
    (again,) = any_store.pending("sf", "lead")
    any_store.record_writes(run_id, "sf", "lead", [WriteOutcome(again, "applied")], now=T0)
    journal.settle()
    assert journal.jobs() == []
    assert any_store.write_jobs("sf", "lead") == []
