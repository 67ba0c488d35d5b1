"""The engine against a paginating in-memory CRM: writes, loops, failures, crashes, dry runs."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest

from connectors.errors import AuthError, BudgetExhausted, UnknownField
from sync.engine import Engine, RunOptions
from sync.lock import LockBusy, run_lock
from sync.outage import OutagePolicy
from sync.state.store import StateStore
from tests.sync.fakes import BASE, FakeCRM, FakeModel, fake_score

MODEL = FakeModel()


@pytest.fixture(autouse=True, params=[False, True], ids=["writes-inline", "writes-beside"])
def concurrent_writes(request, monkeypatch) -> bool:
    """Every test runs twice: full runs writing in the run's thread, and writing on the write
    thread beside the reading (`Connector.concurrent_writes`, as the HubSpot connector does)."""
    monkeypatch.setattr(FakeCRM, "concurrent_writes", request.param)
    return bool(request.param)


class Crash(BaseException):
    """Stands for kill -9: nothing in the engine catches it."""


def engine(store, crm, **kwargs) -> Engine:
    kwargs.setdefault("sleep", lambda s: True)
    # the engine's clock is the CRM's: runs happen "now" in the CRM's world
    return Engine(
        store, crm, connection="acme", scorer=fake_score, clock=lambda: crm.crm_now, **kwargs
    )


def run(store, crm, *, full=False, dry_run=False, **kwargs):
    settings = {"chunk_size": 100, **kwargs.pop("options", {})}
    options = RunOptions(full=full, dry_run=dry_run, **settings)
    return engine(store, crm, **kwargs).run("contact", MODEL, options)


def recorder(into: list[float]):
    """An engine sleep that records the pauses and never really waits."""

    def sleep(seconds: float) -> bool:
        into.append(seconds)
        return True

    return sleep


def applied_per_record(store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in store.ledger("acme", "contact"):
        if row.status == "applied":
            counts[row.record_id] = counts.get(row.record_id, 0) + 1
    return counts


def test_full_run_writes_every_record_once_in_full_batches(store):
    crm = FakeCRM(250, page_size=30)
    result = run(store, crm, full=True)
    assert result.status == "succeeded"
    assert (result.counts.read, result.counts.planned, result.counts.written) == (250, 250, 250)
    assert crm.write_sizes == [100, 100, 50]
    assert result.counts.pages == 9
    assert result.counts.api_calls == 9 + 3
    assert applied_per_record(store) == {rid: 1 for rid in crm.records}
    rec = crm.records["00003"]
    assert rec.outputs["score"] == "14" and rec.outputs["label"] == "D3"
    assert rec.outputs["qualified"] == "false"
    cursor = store.get_cursor("acme", "contact")
    assert cursor.resume is None
    # the run read everything modified before it started, so the next one starts `overlap`
    # before that (the highest modification time read is older)
    assert cursor.watermark == BASE - timedelta(minutes=2)
    row = store.ledger("acme", "contact", record_id="00003")[0]
    assert row.new_values["scored_at"] == BASE.isoformat()
    assert row.extra["reasons"] == ["new"]
    assert row.extra["contributions"][0]["points"] == 14.0


def test_three_incremental_runs_after_a_full_run_write_nothing(store):
    crm = FakeCRM(250)
    run(store, crm, full=True)
    incremental = [run(store, crm) for _ in range(3)]
    assert [r.mode for r in incremental] == ["incremental"] * 3
    assert [r.counts.written for r in incremental] == [0, 0, 0]
    assert [r.counts.planned for r in incremental] == [0, 0, 0]
    # the first re-reads our own writes (they bumped updated_at); later ones only the overlap
    assert incremental[0].counts.read == 250
    assert incremental[2].counts.read == 250  # all writes happened within the 2-minute overlap
    assert sum(applied_per_record(store).values()) == 250


def test_incremental_reads_changes_and_writes_only_material_ones(store):
    crm = FakeCRM(100)
    run(store, crm, full=True, options={"overlap": timedelta(0)})
    run(store, crm, options={"overlap": timedelta(0)})
    crm.crm_now += timedelta(hours=1)
    crm.touch("00001", points="2")  # 0 -> 2: below min_points_change
    crm.touch("00002", points="10")  # 7 -> 10: moves 3 points
    crm.touch("00004", points="80")  # 21 -> 80: grade and qualification change
    result = run(store, crm, options={"overlap": timedelta(0)})
    # `since` is inclusive: the records our last write stamped at the watermark come again
    assert result.counts.read == 100
    assert result.counts.written == 2
    assert result.plan.by_reason == {
        "score": 2,
        "fit": 2,
        "interest": 2,
        "grade": 1,
        "label": 1,
        "qualified": 1,
    }
    assert crm.records["00001"].outputs["score"] == "0"
    assert crm.records["00004"].outputs["grade"] == "A"


def test_a_long_dead_letter_reason_is_cut_between_words_in_the_summary_and_stored_whole(store):
    options = ", ".join(f"option_{i}" for i in range(40))
    message = (
        'Property values were not valid: [{"isValid":false,"message":"E was not one of the '
        f'allowed options: [{options}]","error":"INVALID_OPTION","name":"leadsync_grade"}}]'
    )
    crm = FakeCRM(20)
    crm.reject = {"00005": message}
    result = run(store, crm, full=True)
    assert result.dead_letter_reasons == {
        'INVALID: Property values were not valid: [{"isValid":false,"message":"E was not one '
        "of the allowed options: [option_0, option_1, option_2, option_3, option_4, option_5, "
        "option_6, option_7, option_8…": 1
    }
    assert [d.error for d in store.dead_letters("acme")] == [message]


def test_permanent_record_failures_are_dead_lettered_and_the_run_goes_on(store):
    crm = FakeCRM(120)
    crm.reject = {
        "00005": "Property values were not valid",
        "00100": "Property values were not valid",
    }
    result = run(store, crm, full=True)
    assert result.status == "succeeded" and result.finished
    assert (result.counts.written, result.counts.dead_lettered) == (118, 2)
    assert result.dead_letter_reasons == {"INVALID: Property values were not valid": 2}
    letters = store.dead_letters("acme")
    assert [(d.record_id, d.error_code) for d in letters] == [
        ("00005", "INVALID"),
        ("00100", "INVALID"),
    ]
    assert [r.status for r in store.ledger("acme", "contact", record_id="00005")] == [
        "dead_lettered"
    ]

    crm.reject = {}
    retry = engine(store, crm).retry_dead_letters("contact", MODEL, RunOptions())
    assert (retry.status, retry.counts.read, retry.counts.written) == ("succeeded", 2, 2)
    assert store.dead_letters("acme") == []
    assert crm.records["00005"].outputs["score"] == "28"
    assert [r.status for r in store.ledger("acme", "contact", record_id="00005")] == [
        "dead_lettered",
        "applied",
    ]


def test_retry_resolves_dead_letters_of_deleted_records(store):
    crm = FakeCRM(10)
    crm.reject = {"00002": "nope"}
    run(store, crm, full=True)
    del crm.records["00002"]
    retry = engine(store, crm).retry_dead_letters("contact", MODEL, RunOptions())
    assert retry.counts.read == 0
    assert store.dead_letters("acme") == []


def test_transient_record_failures_are_retried_within_the_run(store):
    crm = FakeCRM(10)
    crm.flaky = {"00003": 1, "00004": 5}
    result = run(store, crm, full=True)
    # 00003 written at its second attempt counts as written; 00004 failed for good
    assert (result.counts.written, result.counts.failed, result.counts.dead_lettered) == (9, 1, 1)
    assert result.counts.retried == 3  # 00003 once, 00004 twice
    # kept with the run, for `status` and the metrics of later processes
    assert store.runs("acme")[0].counts.retried == 3
    assert [r.status for r in store.ledger("acme", "contact", record_id="00003")] == [
        "failed",
        "applied",
    ]
    assert [r.status for r in store.ledger("acme", "contact", record_id="00004")] == [
        "failed",
        "failed",
        "dead_lettered",
    ]


def test_a_batch_refused_as_a_whole_is_split_to_find_the_bad_record(store):
    crm = FakeCRM(8)
    crm.batch_reject = {"00006"}
    result = run(store, crm, full=True)
    assert (result.counts.written, result.counts.dead_lettered) == (7, 1)
    assert [d.record_id for d in store.dead_letters("acme")] == ["00006"]
    assert crm.write_sizes == [4, 1, 2]


def test_records_the_crm_cannot_take_now_pause_the_run_without_counting_an_attempt(store):
    crm = FakeCRM(10)
    crm.unavailable = {"00003": 3}
    pauses: list[float] = []
    result = run(store, crm, full=True, sleep=recorder(pauses), options={"max_attempts": 2})
    assert (result.status, result.counts.written, result.counts.failed) == ("succeeded", 10, 0)
    assert (result.counts.dead_lettered, result.counts.retried) == (0, 3)
    assert pauses == [5.0, 10.0, 20.0]  # one outage: doubling from `first_pause`
    assert [r.status for r in store.ledger("acme", "contact", record_id="00003")] == [
        "failed",
        "failed",
        "failed",
        "applied",
    ]


def test_an_outage_of_record_writes_beyond_the_limit_fails_and_keeps_the_write(store):
    crm = FakeCRM(10)
    crm.unavailable = {"00003": 5}
    pauses: list[float] = []
    policy = OutagePolicy(first_pause=1.0, max_pause=3.0)
    failed = run(store, crm, full=True, sleep=recorder(pauses), outage=policy)
    assert (failed.status, failed.counts.written) == ("failed", 9)
    assert pauses == [1.0, 2.0]
    assert [e.record_id for e in store.pending("acme", "contact")] == ["00003"]
    crm.unavailable = {}
    again = run(store, crm, full=True)
    assert again.status == "succeeded"
    assert store.pending("acme", "contact") == []
    assert crm.records["00003"].outputs["score"] == "14"


def test_a_write_to_a_deleted_record_is_dropped_and_closes_its_dead_letter(store):
    crm = FakeCRM(10)
    crm.reject = {"00002": "nope"}
    run(store, crm, full=True)
    assert [d.record_id for d in store.dead_letters("acme")] == ["00002"]
    crm.reject = {}
    crm.before_write = lambda call, changes: crm.delete("00002")
    result = run(store, crm, full=True)
    assert (result.status, result.counts.planned, result.counts.failed) == ("succeeded", 1, 1)
    assert result.counts.dead_lettered == 0
    assert [r.status for r in store.ledger("acme", "contact", record_id="00002")] == [
        "dead_lettered",
        "gone",
    ]
    assert store.dead_letters("acme") == []
    assert store.pending("acme", "contact") == []


def test_an_outage_pauses_and_resumes_with_the_same_outcome(store):
    crm = FakeCRM(120, page_size=25)
    crm.read_failures = 0
    pauses: list[float] = []
    calls = {"n": 0}

    original = crm.iter_pages

    def flaky_pages(*args, **kwargs):
        for page in original(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                crm.read_failures = 3
            yield page

    crm.iter_pages = flaky_pages  # type: ignore[method-assign]
    crm.write_failures = 2
    result = run(
        store,
        crm,
        full=True,
        sleep=recorder(pauses),
        outage=OutagePolicy(first_pause=5, max_pause=600),
    )
    assert result.status == "succeeded"
    assert result.counts.read == 120  # no page lost, none read twice
    assert pauses == [5, 10, 20, 5, 10]
    assert crm.state() == _uninterrupted_state(120, page_size=25)


def test_an_outage_longer_than_allowed_fails_the_run_and_the_next_run_finishes(store):
    crm = FakeCRM(120, page_size=25)
    original = crm.iter_pages
    served = {"n": 0}

    def dying_pages(*args, **kwargs):
        for page in original(*args, **kwargs):
            served["n"] += 1
            if served["n"] == 3:
                crm.read_failures = 100
            yield page

    crm.iter_pages = dying_pages  # type: ignore[method-assign]
    pauses: list[float] = []
    result = run(
        store,
        crm,
        full=True,
        sleep=recorder(pauses),
        outage=OutagePolicy(first_pause=5, max_pause=60),
    )
    assert (result.status, result.error_type) == ("failed", "TransientError")
    assert not result.finished
    assert pauses == [5, 10, 20]
    assert store.get_cursor("acme", "contact").resume is not None
    crm.read_failures = 0
    crm.iter_pages = original  # type: ignore[method-assign]
    again = run(store, crm)
    assert (again.status, again.mode) == ("succeeded", "full")
    assert again.counts.read == 120 - 3 * 25
    assert crm.state() == _uninterrupted_state(120, page_size=25)
    assert applied_per_record(store) == {rid: 1 for rid in crm.records}


def _uninterrupted_state(n, **kwargs):
    import tempfile
    from pathlib import Path

    crm = FakeCRM(n, **kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        s = StateStore.open(f"sqlite:///{Path(tmp) / 's.db'}", now=BASE)
        run(s, crm, full=True)
        s.close()
    return crm.state()


@pytest.mark.parametrize(
    ("where", "at"),
    [
        ("before_write", 1),  # planned and committed, nothing written
        ("after_write", 1),  # written in the CRM, not yet in the ledger
        ("after_write", 3),  # the last, partial batch
        ("before_page", 4),  # between pages
    ],
)
def test_a_crash_anywhere_then_rerun_gives_the_same_state_and_one_applied_entry(store, where, at):
    crm = FakeCRM(250, page_size=40)

    def boom(call, _changes):
        if call == at:
            raise Crash

    if where == "before_page":
        original = crm.iter_pages

        def pages(*args, **kwargs):
            for i, page in enumerate(original(*args, **kwargs), start=1):
                if i == at:
                    raise Crash
                yield page

        crm.iter_pages = pages  # type: ignore[method-assign]
    else:
        setattr(crm, where, boom)
    with pytest.raises(Crash):
        run(store, crm, full=True)
    crm.before_write = crm.after_write = None
    if where == "before_page":
        crm.iter_pages = original  # type: ignore[method-assign]
    again = run(store, crm)
    assert again.status == "succeeded"
    assert crm.state() == _uninterrupted_state(250, page_size=40)
    assert applied_per_record(store) == {rid: 1 for rid in crm.records}
    assert store.pending_count("acme") == 0
    assert [r.counts.written for r in (run(store, crm), run(store, crm))] == [0, 0]


def test_a_stop_request_finishes_the_page_saves_the_cursor_and_the_next_run_resumes(store):
    crm = FakeCRM(200, page_size=50)
    stop = threading.Event()
    seen: list[int] = []

    def on_progress(progress):
        seen.append(progress.counts.read)
        if progress.counts.pages == 2:
            stop.set()

    first = run(store, crm, full=True, stop=stop, on_progress=on_progress)
    assert (first.status, first.finished, first.counts.read) == ("interrupted", True, 100)
    assert first.counts.written == 100
    cursor = store.get_cursor("acme", "contact")
    assert (cursor.resume, cursor.resume_mode) == ("100", "full")
    second = run(store, crm)
    assert (second.status, second.mode, second.counts.read) == ("succeeded", "full", 100)
    assert crm.state() == _uninterrupted_state(200, page_size=50)
    assert applied_per_record(store) == {rid: 1 for rid in crm.records}


def test_dry_run_plans_and_writes_nothing(store):
    crm = FakeCRM(300)
    result = run(store, crm, full=True, dry_run=True, options={"sample_size": 3})
    assert result.status == "succeeded" and result.dry_run
    assert (result.counts.read, result.counts.planned, result.counts.written) == (300, 300, 0)
    assert crm.write_calls == 0 and crm.state() == {rid: {} for rid in crm.records}
    assert result.plan.by_reason == {"new": 300}
    assert [s.record_id for s in result.plan.samples] == ["00001", "00002", "00003"]
    assert result.plan.samples[1].new_score == 7 and result.plan.samples[1].new_label == "D3"
    assert sum(result.plan.labels.values()) == 300
    assert sum(result.plan.score_bins.values()) == 300
    assert result.plan.labels["A1"] == sum(1 for i in range(300) if (i * 7) % 101 >= 75)
    assert store.pending_count("acme") == 0
    assert store.get_cursor("acme", "contact").watermark is None
    assert store.previous_scores("acme", "contact", ["00001"]) == {}


@pytest.mark.parametrize(
    ("progress_before", "status", "finished"),
    [(0, "failed", False), (1, "paused", True)],
)
def test_budget_exhausted(store, progress_before, status, finished):
    crm = FakeCRM(100, page_size=50)
    original = crm.iter_pages

    def pages(*args, **kwargs):
        for i, page in enumerate(original(*args, **kwargs)):
            if i == progress_before:
                raise BudgetExhausted("daily budget of 100 calls spent")
            yield page

    crm.iter_pages = pages  # type: ignore[method-assign]
    result = run(store, crm, full=True)
    assert (result.status, result.finished, result.error_type) == (
        status,
        finished,
        "BudgetExhausted",
    )
    assert result.counts.read == 50 * progress_before


def test_auth_failure_fails_the_run_with_a_message(store):
    crm = FakeCRM(10)
    crm.raise_on_read = AuthError("401: the access token was rejected")
    result = run(store, crm, full=True)
    assert (result.status, result.error) == (
        "failed",
        "AuthError: 401: the access token was rejected",
    )
    assert store.runs("acme")[0].status == "failed"
    assert store.runs("acme")[0].error == result.error


@pytest.mark.parametrize(
    ("source", "named"),
    [("models/leads.yaml", "(model 'fake', models/leads.yaml)"), (None, "(model 'fake')")],
)
def test_an_unknown_field_names_the_model_and_its_file(store, source, named):
    crm = FakeCRM(10)
    crm.raise_on_read = UnknownField(
        "Salesforce refused the field Titel: No such column 'Titel' on entity 'Account'",
        column="Titel",
        fields=("account.Titel",),
    )
    result = engine(store, crm).run(
        "contact", FakeModel(source=source), RunOptions(full=True, chunk_size=100)
    )
    assert (result.status, result.error) == (
        "failed",
        "UnknownField: Salesforce refused the field Titel: No such column 'Titel' on entity "
        f"'Account' {named}",
    )


def test_a_second_run_of_the_same_connection_is_refused_while_one_holds_the_lock(store):
    crm = FakeCRM(10)
    with run_lock(store, "acme"), pytest.raises(LockBusy, match="already running"):
        run(store, crm, full=True)
    assert run(store, crm, full=True).status == "succeeded"


def test_full_request_restarts_an_interrupted_incremental_run(store):
    crm = FakeCRM(100, page_size=10)
    run(store, crm, full=True)
    stop = threading.Event()
    run(store, crm, stop=stop, on_progress=lambda p: stop.set())
    assert store.get_cursor("acme", "contact").resume_mode == "incremental"
    full = run(store, crm, full=True)
    assert (full.mode, full.counts.read) == ("full", 100)


def test_a_transient_error_raised_while_writing_is_retried_after_a_pause(store):
    crm = FakeCRM(5)
    crm.write_failures = 1
    pauses: list[float] = []
    result = run(store, crm, full=True, sleep=recorder(pauses))
    assert (result.counts.written, pauses) == (5, [5.0])
    assert crm.write_calls == 2
    assert result.counts.retried == 5  # the batch of 5, sent again after the pause


def test_stop_during_an_outage_pause_interrupts_the_run(store):
    crm = FakeCRM(5)
    crm.read_failures = 1
    result = run(store, crm, full=True, sleep=lambda s: False)
    assert result.status == "interrupted"


def test_a_quiet_crm_costs_no_reads_once_our_writes_were_seen(store):
    crm = FakeCRM(120)
    run(store, crm, full=True)
    reads = []
    for _ in range(3):
        crm.crm_now += timedelta(minutes=10)
        reads.append(run(store, crm).counts.read)
    assert reads == [120, 0, 0]


def test_a_resumed_run_keeps_the_start_of_the_run_it_finishes(store):
    crm = FakeCRM(100, page_size=25)
    stop = threading.Event()
    run(store, crm, full=True, stop=stop, on_progress=lambda p: stop.set())
    started = store.get_cursor("acme", "contact").resume_started
    assert started == BASE
    crm.crm_now += timedelta(hours=1)
    crm.touch("00002", points="99")  # changed after its page was read by the first part
    crm.crm_now += timedelta(hours=1)
    finish = run(store, crm)
    assert (finish.mode, finish.counts.read) == ("full", 75)
    assert store.get_cursor("acme", "contact").watermark == BASE - timedelta(minutes=2)
    crm.crm_now += timedelta(minutes=10)
    again = run(store, crm)
    assert again.counts.written == 1
    assert crm.records["00002"].outputs["score"] == "99"


@pytest.mark.parametrize(("chunk", "writes_before_reading_ends"), [(100, False), (5, True)])
def test_incremental_runs_hold_writes_until_reading_ends_within_a_memory_bound(
    store, chunk, writes_before_reading_ends
):
    crm = FakeCRM(300, page_size=50)
    run(store, crm, full=True)
    crm.crm_now += timedelta(minutes=10)
    run(store, crm)  # absorbs our own writes
    crm.crm_now += timedelta(minutes=10)
    for i in range(1, 301):
        crm.touch(f"{i:05d}", points=str(100 - (i * 7) % 101))
    pages_at_write: list[int] = []
    crm.before_write = lambda _call, _changes: pages_at_write.append(crm.pages_served)
    served = crm.pages_served
    held = run(store, crm, options={"chunk_size": chunk})
    assert held.counts.written == held.counts.planned > 100
    # up to 20 chunks wait for the end of reading; beyond that they are written as pages go
    total_pages = crm.pages_served
    assert (min(pages_at_write) < total_pages) is writes_before_reading_ends
    # held writes: 300 changed records, 50 a page, none read twice; early writes move their
    # records to the end of the walk, where they are read again and plan nothing
    assert (total_pages - served == 6) is not writes_before_reading_ends
    applied = [r.record_id for r in store.ledger("acme", "contact") if r.run_id == held.run_id]
    assert len(applied) == len(set(applied)) == held.counts.written


def test_input_snapshots_follow_the_records_the_model_reads(store):
    crm = FakeCRM(60)
    run(store, crm, full=True)
    snapshots = {r.id: r.properties for r, _ in store.iter_latest("acme", "contact")}
    assert len(snapshots) == 60
    assert snapshots["00003"] == {"points": "14"}
    # same score from new inputs: the snapshot is rewritten, nothing is written to the CRM
    crm.touch("00003", points=" 14", city="Lyon")  # city: not read by the model, not kept
    crm.touch("00004", city="Paris")
    result = run(store, crm)
    assert result.counts.planned == 0
    snapshots = {r.id: r.properties for r, _ in store.iter_latest("acme", "contact")}
    assert (snapshots["00003"], snapshots["00004"]) == ({"points": " 14"}, {"points": "21"})
    assert store.latest_count("acme", "contact") == (60, 60)


def test_full_runs_write_on_the_write_thread_while_reading_goes_on(store, concurrent_writes):
    if not concurrent_writes:
        pytest.skip("the connector does not allow writes beside reads")
    crm = FakeCRM(300, page_size=30)
    seen: list[tuple[str, int]] = []
    six_pages = threading.Event()
    original = crm.iter_pages

    def pages(*args, **kwargs):
        for page in original(*args, **kwargs):
            if crm.pages_served >= 6:
                six_pages.set()
            yield page

    def before_write(call, _changes):
        # The first batch (pages 1-4) waits until the run has read two more pages: only a
        # write beside the reading gets past this (inline, the wait would time out).
        if call == 1:
            six_pages.wait(timeout=5)
        seen.append((threading.current_thread().name, crm.pages_served))

    crm.iter_pages = pages  # type: ignore[method-assign]
    crm.before_write = before_write
    result = run(store, crm, full=True)
    assert result.status == "succeeded"
    assert seen[0][0].startswith("leadsync-write") and seen[0][1] >= 6
    assert crm.write_sizes == [100, 100, 100]
    assert applied_per_record(store) == {rid: 1 for rid in crm.records}
    assert crm.state() == _uninterrupted_state(300, page_size=30)


def test_a_page_planning_a_record_of_the_batch_in_flight_waits_for_that_batch(
    store, concurrent_writes
):
    crm = FakeCRM(99, page_size=50)
    events: list[str] = []
    # The write of batch 1 is held until the run either saves page 2 (the fault this test
    # catches) or says it waits for the batch, so the order below is decided, not raced.
    go = threading.Event()
    original = crm.iter_pages

    def pages_with_a_repeat(*args, **kwargs):
        pages = iter(original(*args, **kwargs))
        first = next(pages)
        yield first
        # the list shows record 00001 again on page 2, as it was read before our write
        second = next(pages)
        yield type(second)([first.records[0], *second.records], second.cursor)
        yield from pages

    def held_write(call, _changes):
        if call == 1 and concurrent_writes:
            assert go.wait(timeout=30), "the run neither saved page 2 nor waited for the batch"
        events.append(f"write {call} done")

    save_page = store.save_page

    def saving(*args, **kwargs):
        save_page(*args, **kwargs)
        events.append(f"page {kwargs['counts'].pages} saved")
        if kwargs["counts"].pages == 2:
            go.set()

    class Waiting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("waiting for the write batch in flight"):
                events.append("page 2 waits")
                go.set()

    waiting, engine_log = Waiting(), logging.getLogger("leadsync.engine")
    engine_log.addHandler(waiting)
    level = engine_log.level
    engine_log.setLevel(logging.DEBUG)
    crm.iter_pages = pages_with_a_repeat  # type: ignore[method-assign]
    crm.after_write = held_write
    store.save_page = saving
    try:
        result = run(store, crm, full=True, options={"chunk_size": 50})
    finally:
        engine_log.removeHandler(waiting)
        engine_log.setLevel(level)
    assert result.status == "succeeded"
    # page 2 plans 00001 again: its outbox entry may not be saved while the batch holding
    # 00001 is in flight (that batch's ledger rows take 00001 out of the outbox)
    waits = ["page 2 waits"] if concurrent_writes else []  # inline, nothing is in flight
    assert events[: 3 + len(waits)] == ["page 1 saved", *waits, "write 1 done", "page 2 saved"]
    assert applied_per_record(store) == {**{rid: 1 for rid in crm.records}, "00001": 2}
    assert store.pending_count("acme") == 0
    assert crm.state() == _uninterrupted_state(99, page_size=50)
