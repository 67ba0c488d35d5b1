"""The state store on SQLite and PostgreSQL: migrations, runs, pages, ledger, dead letters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from config.errors import UserError
from config.settings import RetentionSettings
from scoring.types import Contribution, Event, Record, ScoreResult
from sync.state.inputs import InputsEncoder
from sync.state.migrations import LATEST, migrate
from sync.state.records import (
    CursorState,
    OutboxEntry,
    RunCounts,
    ScoreRow,
    StoredZone,
    WriteOutcome,
    encode_result,
)
from sync.state.schema import build_tables
from sync.state.store import StateStore
from tests.sync.fakes import BASE, fake_score

T0 = BASE


def entry(record_id: str, score: int = 50) -> OutboxEntry:
    return OutboxEntry.build(
        record_id,
        new={"score": score, "scored_at": T0.isoformat()},
        old={},
        reasons=["new"],
        contributions='[{"rule":"r","dimension":"fit","points":1.0}]',
        model_version="v1",
    )


def test_migration_creates_the_schema_once_and_stamps_every_version(any_store):
    t = any_store.t
    with any_store.engine.connect() as conn:
        versions = conn.execute(sa.select(t.schema_version.c.version)).scalars().all()
        inspector = sa.inspect(conn)
        for table in (
            t.runs, t.cursors, t.outbox, t.ledger, t.dead_letters, t.scores, t.write_jobs,
            t.account_zones, t.written_versions, t.api_calls,
        ):  # fmt: skip
            assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.c.keys())
    assert versions == list(range(1, LATEST + 1))
    assert migrate(any_store.engine, t, now=T0) == LATEST  # already current: nothing to do


def test_a_database_from_a_newer_leadsync_is_refused(store):
    with store.engine.begin() as conn:
        conn.execute(
            store.t.schema_version.insert().values(version=99, description="x", applied_at=T0)
        )
    with pytest.raises(UserError, match="schema version 99, newer than this leadsync"):
        migrate(store.engine, build_tables("leadsync_"), now=T0)


def test_runs_round_trip_with_aware_utc_times(any_store):
    local = datetime(2026, 3, 1, 14, 0, tzinfo=UTC).astimezone()
    run_id = any_store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=local, model_version="v1"
    )
    counts = RunCounts(pages=2, read=150, written=20, api_calls=4)
    any_store.finish_run(
        run_id, status="succeeded", counts=counts, finished_at=local + timedelta(seconds=9)
    )
    (row,) = any_store.runs("acme")
    assert row.started_at == datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
    assert row.started_at.tzinfo == UTC
    assert (row.status, row.counts, row.mode) == ("succeeded", counts, "full")


def test_api_calls_of_every_command_count_from_when_they_were_recorded(any_store):
    run_id = any_store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    for command, run, calls, at in (
        ("sync", run_id, 20, T0),
        ("sync", run_id, 7, T0 + timedelta(minutes=1)),
        ("backtest", None, 101, T0 + timedelta(hours=2)),
        ("preview", None, 33, T0 + timedelta(hours=3)),
        ("explain", None, 7, T0 - timedelta(hours=1)),
    ):
        any_store.record_api_calls(
            "acme", command=command, run_id=run, calls=calls, rate_limited=0, at=at
        )
    any_store.record_api_calls(
        "other", command="sync", run_id=None, calls=500, rate_limited=0, at=T0
    )
    assert any_store.api_calls_since("acme", T0) == 161
    assert any_store.api_calls_by_command("acme", T0) == {
        "backtest": 101,
        "preview": 33,
        "sync": 27,
    }
    assert any_store.api_calls_since("acme", T0 + timedelta(seconds=1)) == 141
    assert any_store.api_calls_since("acme", T0 - timedelta(hours=1)) == 168
    assert any_store.api_calls_by_command("acme", T0 + timedelta(hours=4)) == {}


def test_naive_datetimes_are_refused(store):
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        store.start_run(
            "acme", "contact", mode="full", dry_run=False,
            started_at=datetime(2026, 1, 1), model_version=None,
        )  # fmt: skip


def test_save_page_commits_outbox_scores_cursor_and_replaces_a_pending_entry(any_store):
    run_id = any_store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    record = Record("1", "contact", {"points": "80"})
    result = fake_score(record, None, T0, None)
    cursor = CursorState(resume="50", resume_mode="full", resume_run_id=run_id, high_water=T0)
    for score in (50, 60):
        any_store.save_page(
            run_id, "acme", "contact", cursor=cursor, outbox=[entry("1", score), entry("2")],
            scores=[ScoreRow.of("1", result)], counts=RunCounts(pages=1, read=2), now=T0,
        )  # fmt: skip
    pending = any_store.pending("acme", "contact")
    assert [(e.record_id, e.data()["new"]["score"]) for e in pending] == [("1", 60), ("2", 50)]
    assert any_store.get_cursor("acme", "contact") == cursor
    assert any_store.previous_scores("acme", "contact", ["1", "2"]) == {"1": result}
    assert any_store.score_distribution("acme", "contact") == {"A1": 1}
    assert any_store.runs("acme")[0].counts.read == 2


def test_save_page_replaces_only_the_entries_the_caller_names(any_store):
    # The run's write queue mirrors the outbox, so it names the records with a waiting entry;
    # the others are inserted without a DELETE probing for them.
    run_id = any_store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    page: dict[str, Any] = {"cursor": None, "scores": [], "counts": RunCounts(), "now": T0}
    any_store.save_page(run_id, "acme", "contact", outbox=[entry("1", 50)], **page)
    any_store.save_page(
        run_id, "acme", "contact", outbox=[entry("1", 60), entry("2", 70)], replaces=["1"], **page
    )
    pending = any_store.pending("acme", "contact")
    assert [(e.record_id, e.data()["new"]["score"]) for e in pending] == [("1", 60), ("2", 70)]
    any_store.save_page(run_id, "acme", "contact", outbox=[entry("3", 80)], replaces=[], **page)
    assert [e.record_id for e in any_store.pending("acme", "contact")] == ["1", "2", "3"]


def test_record_writes_ledgers_every_attempt_and_manages_dead_letters(any_store):
    run_id = any_store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    any_store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[entry("1"), entry("2"), entry("3")],
        scores=[], counts=RunCounts(), now=T0,
    )  # fmt: skip
    a, b, c = any_store.pending("acme", "contact")
    any_store.record_writes(
        run_id, "acme", "contact",
        [WriteOutcome(a, "applied"), WriteOutcome(b, "retry", "TIMEOUT", "timed out"),
         WriteOutcome(c, "dead_lettered", "INVALID", "bad value")],
        now=T0,
    )  # fmt: skip
    (b_again,) = any_store.pending("acme", "contact")
    assert (b_again.record_id, b_again.attempts) == ("2", 1)
    (letter,) = any_store.dead_letters("acme")
    assert (letter.record_id, letter.error_code, letter.error, letter.attempts) == (
        "3", "INVALID", "bad value", 1,
    )  # fmt: skip

    # the same record failing again updates the open dead letter; a later success resolves it
    any_store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[entry("3")], scores=[],
        counts=RunCounts(), now=T0,
    )  # fmt: skip
    c2 = next(e for e in any_store.pending("acme", "contact") if e.record_id == "3")
    later = T0 + timedelta(hours=1)
    any_store.record_writes(
        run_id, "acme", "contact", [WriteOutcome(c2, "dead_lettered", "INVALID", "still bad")],
        now=later,
    )  # fmt: skip
    (letter,) = any_store.dead_letters("acme")
    assert (letter.attempts, letter.error, letter.updated_at) == (2, "still bad", later)
    assert any_store.dead_letter_count("acme") == 1
    any_store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[entry("3")], scores=[],
        counts=RunCounts(), now=T0,
    )  # fmt: skip
    c3 = next(e for e in any_store.pending("acme", "contact") if e.record_id == "3")
    any_store.record_writes(run_id, "acme", "contact", [WriteOutcome(c3, "applied")], now=later)
    assert any_store.dead_letters("acme") == []
    statuses = [(r.record_id, r.status) for r in any_store.ledger("acme", "contact")]
    assert statuses == [
        ("1", "applied"), ("2", "failed"), ("3", "dead_lettered"), ("3", "dead_lettered"),
        ("3", "applied"),
    ]  # fmt: skip
    assert any_store.ledger("acme", "contact", record_id="2")[0].error == "timed out"


def test_mark_crashed_closes_runs_left_running(store):
    run_id = store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    for calls, refused in ((20, 1), (8, 0)):  # recorded as it went, before the process died
        store.record_api_calls(
            "acme", command="sync", run_id=run_id, calls=calls, rate_limited=refused, at=T0
        )
    store.record_api_calls("acme", command="backtest", run_id=None, calls=5, rate_limited=0, at=T0)
    assert store.mark_crashed("acme", now=T0 + timedelta(minutes=1)) == 1
    (row,) = store.runs("acme")
    assert (row.id, row.status, row.error) == (run_id, "crashed", "process ended mid-run")
    assert (row.counts.api_calls, row.counts.rate_limited) == (28, 1)


def test_retention_prunes_old_history_but_keeps_open_dead_letters(any_store):
    old, recent = T0 - timedelta(days=400), T0 - timedelta(days=1)
    for started in (old, recent):
        run_id = any_store.start_run(
            "acme", "contact", mode="full", dry_run=False, started_at=started, model_version="v"
        )
        any_store.finish_run(run_id, status="succeeded", counts=RunCounts(), finished_at=started)
        any_store.record_api_calls(
            "acme", command="sync", run_id=run_id, calls=3, rate_limited=0, at=started
        )
        any_store.save_page(
            run_id, "acme", "contact", cursor=None, outbox=[entry(f"r{run_id}")], scores=[],
            counts=RunCounts(), now=started,
        )  # fmt: skip
        (pending,) = any_store.pending("acme", "contact")
        any_store.record_writes(
            run_id, "acme", "contact", [WriteOutcome(pending, "dead_lettered", "X", "x")],
            now=started,
        )  # fmt: skip
    open_old, _ = any_store.dead_letters("acme")
    assert open_old.created_at == old
    removed = any_store.prune(RetentionSettings(), now=T0)
    assert removed == {"runs": 1, "api_calls": 1, "ledger": 1, "dead_letters": 0}
    assert any_store.api_calls_since("acme", old) == 3
    assert [r.started_at for r in any_store.runs("acme")] == [recent]
    assert len(any_store.dead_letters("acme")) == 2
    any_store.resolve_dead_letters([open_old.id], resolution="gone", now=old)
    assert any_store.prune(RetentionSettings(), now=T0)["dead_letters"] == 1


def test_an_account_zone_is_kept_per_connection_and_replaced(any_store):
    assert any_store.account_zone("acme") is None
    any_store.remember_account_zone("acme", StoredZone("Mars/Olympus", -14_400_000, T0))
    any_store.remember_account_zone("other", StoredZone("Asia/Tokyo", None, T0))
    later = T0 + timedelta(days=2)
    any_store.remember_account_zone("acme", StoredZone("America/Los_Angeles", None, later))
    assert any_store.account_zone("acme") == StoredZone("America/Los_Angeles", None, later)
    assert any_store.account_zone("other") == StoredZone("Asia/Tokyo", None, T0)


def test_in_memory_sqlite_works_for_one_process():
    s = StateStore.open("sqlite://", now=T0)
    s.put_cursor("acme", "contact", CursorState(watermark=T0), now=T0)
    assert s.get_cursor("acme", "contact").watermark == T0
    s.close()


def test_migrations_2_to_10_bring_a_version_1_database_to_the_current_schema(
    any_store,
):
    t = any_store.t
    run_id = any_store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    quiet = any_store.start_run(
        "acme", "contact", mode="full", dry_run=True, started_at=T0, model_version="v1"
    )
    any_store.finish_run(quiet, status="succeeded", counts=RunCounts(), finished_at=T0)
    record = Record("1", "contact", {"points": "80"})
    result = fake_score(record, None, T0, None)
    any_store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[], scores=[ScoreRow.of("1", result)],
        counts=RunCounts(), now=T0,
    )  # fmt: skip
    any_store.finish_run(
        run_id, status="succeeded", counts=RunCounts(api_calls=42, rate_limited=2),
        finished_at=T0 + timedelta(minutes=5),
    )  # fmt: skip
    with any_store.engine.begin() as conn:  # back to the schema of version 1
        for column in (
            "inputs",
            "crm_version",
            "model_version",
            "changed_version",
            "values_changed_at",
        ):
            conn.exec_driver_sql(f"ALTER TABLE {t.scores.name} DROP COLUMN {column}")
        conn.exec_driver_sql(f"ALTER TABLE {t.runs.name} DROP COLUMN retried")
        t.write_jobs.drop(conn)
        t.account_zones.drop(conn)
        t.written_versions.drop(conn)
        t.api_calls.drop(conn)
        conn.execute(t.schema_version.delete().where(t.schema_version.c.version >= 2))
    assert migrate(any_store.engine, t, now=T0) == 1
    with any_store.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns(t.scores.name)}
        run_columns = {c["name"] for c in sa.inspect(conn).get_columns(t.runs.name)}
        versions = conn.execute(sa.select(t.schema_version.c.version)).scalars().all()
        assert sa.inspect(conn).has_table(t.write_jobs.name)
        assert sa.inspect(conn).has_table(t.account_zones.name)
        assert sa.inspect(conn).has_table(t.written_versions.name)
    assert {
        "inputs",
        "crm_version",
        "model_version",
        "changed_version",
        "values_changed_at",
    } <= columns
    assert "retried" in run_columns
    assert versions == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    # a row stored before migration 10 counts its values changed when it was last saved (the
    # migration rewrites no row)
    assert any_store.values_changed_since("acme", "contact", T0) == {"1": encode_result(result)}
    assert any_store.values_changed_since("acme", "contact", T0 + timedelta(seconds=1)) == {}
    with any_store.engine.connect() as conn:
        stored = conn.execute(sa.select(t.scores.c.values_changed_at)).scalar_one()
    assert stored is None
    assert any_store.runs("acme")[1].counts.retried == 0  # a run from before: none counted
    # the calls runs counted before migration 9 still count, from their start
    assert any_store.api_calls_by_command("acme", T0) == {"sync": 42}
    assert any_store.api_calls_since("acme", T0 + timedelta(seconds=1)) == 0
    with any_store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.api_calls.c.run_id, t.api_calls.c.calls, t.api_calls.c.rate_limited)
        ).all()
    assert [tuple(r) for r in rows] == [(run_id, 42, 2)]
    assert any_store.account_zone("acme") is None
    assert any_store.scored_versions("acme", "contact", ["1"]) == {"1": (None, None)}
    assert any_store.previous_state("acme", "contact", ["1"]) == {"1": (result, None)}
    assert any_store.latest_count("acme", "contact") == (1, 0)
    assert list(any_store.iter_latest("acme", "contact")) == []
    # saved again with the same values, it keeps the time it was saved before
    later = T0 + timedelta(minutes=10)
    any_store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[],
        scores=[ScoreRow.of("1", result, '{"n":1}', values_changed=False)],
        counts=RunCounts(), now=later,
    )  # fmt: skip
    assert any_store.values_changed_since("acme", "contact", T0) == {"1": encode_result(result)}
    assert any_store.values_changed_since("acme", "contact", later) == {}


def test_iter_latest_rebuilds_records_from_their_input_snapshots(any_store):
    encoder = InputsEncoder(["points", "title"], ["page_view"])
    records = [
        Record(
            f"{i:03d}", "contact", {"points": str(i), "title": None, "unread": "x"},
            events=(
                Event("page_view", T0 - timedelta(days=i), {"url": "/pricing", "n": i}),
                Event("email_open", T0, {"campaign": "c"}),
            ),
        )
        for i in range(5)
    ]  # fmt: skip
    run_id = any_store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    results = {r.id: fake_score(r, None, T0, None) for r in records}
    any_store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[],
        scores=[
            ScoreRow.of(r.id, results[r.id], encoder.encode(r) if n else None)
            for n, r in enumerate(records)
        ],
        counts=RunCounts(), now=T0,
    )  # fmt: skip
    assert encoder.encode(records[1]) == (
        '{"p":{"points":"1","title":null},'
        '"e":[["page_view","2026-02-28T12:00:00+00:00",{"url":"/pricing","n":1}]]}'
    )
    assert any_store.latest_count("acme", "contact") == (5, 4)
    got = list(any_store.iter_latest("acme", "contact", batch=3))
    assert [(record.id, result) for record, result in got] == [
        (r.id, results[r.id]) for r in records[1:]
    ]
    assert got[0][0] == Record(
        "001", "contact", {"points": "1", "title": None},
        (Event("page_view", T0 - timedelta(days=1), {"url": "/pricing", "n": 1}),),
    )  # fmt: skip
    assert [encoder.encode(record) for record, _ in got] == [encoder.encode(r) for r in records[1:]]
    assert any_store.previous_state("acme", "contact", ["000", "002"]) == {
        "000": (results["000"], None),
        "002": (results["002"], encoder.encode(records[2])),
    }


@pytest.mark.parametrize(
    ("result", "text"),
    [
        (
            ScoreResult(
                fit=40, interest=0, score=20, grade="C", tier="3", label="C3", qualified=False,
                disqualified_reason=None,
                contributions=(Contribution("VP", "fit", 40.0),),
                reasons=("+40 VP",), completeness=0.5, model_version="v1",
            ),
            '{"fit":40,"interest":0,"score":20,"grade":"C","tier":"3","label":"C3",'
            '"qualified":false,"contributions":[{"rule":"VP","dimension":"fit","points":40.0}],'
            '"reasons":["+40 VP"],"completeness":0.5,"model_version":"v1","fit_raw":0.0,'
            '"interest_raw":0.0}',
        ),
        (
            ScoreResult(
                fit=90, interest=70, score=80, grade="A", tier="1", label="A1", qualified=True,
                disqualified_reason="competitor",
                contributions=(
                    Contribution("Démo", "interest", 35.5, "form «demo»", "Forms", 2.25),
                ),
                reasons=("+35 Démo",), completeness=1.0, model_version="v2", fit_raw=95.0,
                interest_raw=72.5, changes=("label C3 -> A1",), qualified_at=T0,
            ),
            '{"fit":90,"interest":70,"score":80,"grade":"A","tier":"1","label":"A1",'
            '"qualified":true,"contributions":[{"rule":"Démo","dimension":"interest",'
            '"points":35.5,"detail":"form «demo»","group":"Forms","age_days":2.25}],'
            '"reasons":["+35 Démo"],"completeness":1.0,"model_version":"v2","fit_raw":95.0,'
            '"interest_raw":72.5,"disqualified_reason":"competitor",'
            '"changes":["label C3 -> A1"],"qualified_at":"2026-03-01T12:00:00+00:00"}',
        ),
    ],
)  # fmt: skip
def test_stored_results_leave_out_default_values_and_read_back_equal(result, text):
    assert encode_result(result) == text
    assert ScoreResult.from_dict(json.loads(text)) == result
    assert ScoreResult.from_dict(result.to_dict()) == result


def test_applied_writes_raise_the_scored_version_of_every_kind_and_never_lower_it(any_store):
    run_id = any_store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    result = fake_score(Record("1", "contact", {"points": "80"}), None, T0, None)
    stored = {"1": 1_000, "2": 9_000, "3": None}
    for connection, kind in (("acme", "contact"), ("acme", "contact~b"), ("other", "contact")):
        any_store.save_page(
            run_id, connection, kind, cursor=None, outbox=[],
            scores=[ScoreRow.of(i, result, crm_version=v) for i, v in stored.items()],
            counts=RunCounts(), now=T0,
        )  # fmt: skip
    any_store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[entry(i) for i in ("1", "2", "3", "4")],
        scores=[], counts=RunCounts(), now=T0,
    )  # fmt: skip
    pending = {e.record_id: e for e in any_store.pending("acme", "contact")}
    any_store.record_writes(
        run_id, "acme", "contact",
        [WriteOutcome(pending["1"], "applied", crm_version=5_000),
         WriteOutcome(pending["2"], "applied", crm_version=5_000),
         WriteOutcome(pending["3"], "applied", crm_version=7_000),
         WriteOutcome(pending["4"], "applied", crm_version=8_000)],
        now=T0, score_kinds=["contact~b"],
    )  # fmt: skip
    raised = {"1": (5_000, "v1"), "2": (9_000, "v1"), "3": (7_000, "v1")}
    ids = ["1", "2", "3", "4"]
    assert any_store.scored_versions("acme", "contact", ids) == raised
    assert any_store.scored_versions("acme", "contact~b", ids) == raised
    assert any_store.scored_versions("other", "contact", ids) == {
        "1": (1_000, "v1"), "2": (9_000, "v1"), "3": (None, "v1"),
    }  # fmt: skip
    # the version scored reads the same through `previous_rows`; a later write's older reply
    # (a slower part of the same batch) never lowers it
    assert {
        i: r.crm_version for i, r in any_store.previous_rows("acme", "contact", ids).items()
    } == ({"1": 5_000, "2": 9_000, "3": 7_000})
    any_store.save_page(
        run_id, "acme", "contact", cursor=None, outbox=[entry("1")], scores=[],
        counts=RunCounts(), now=T0,
    )  # fmt: skip
    (again,) = any_store.pending("acme", "contact")
    any_store.record_writes(
        run_id, "acme", "contact", [WriteOutcome(again, "applied", crm_version=4_000)], now=T0
    )
    assert any_store.scored_versions("acme", "contact", ["1"]) == {"1": (5_000, "v1")}


def test_a_row_saved_again_with_the_values_people_read_unchanged_keeps_their_change_time(
    any_store,
):
    run_id = any_store.start_run(
        "acme", "company", mode="full", dry_run=False, started_at=T0, model_version="v1"
    )
    first = fake_score(Record("1", "company", {"points": "80"}), None, T0, None)
    other = fake_score(Record("2", "company", {"points": "30"}), None, T0, None)

    def save(rows: list[ScoreRow], at: datetime) -> None:
        any_store.save_page(
            run_id, "acme", "company", cursor=None, outbox=[], scores=rows,
            counts=RunCounts(), now=at,
        )  # fmt: skip

    save([ScoreRow.of("1", first, '{"n":1}'), ScoreRow.of("2", other, '{"n":1}')], T0)
    later, latest = T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)
    # record 1 saved again for its inputs only; record 2's values changed
    moved = fake_score(Record("2", "company", {"points": "90"}), None, later, None)
    save(
        [
            ScoreRow.of("1", first, '{"n":2}', values_changed=False),
            ScoreRow.of("2", moved, '{"n":2}'),
        ],
        later,
    )
    assert any_store.values_changed_since("acme", "company", T0) == {
        "1": encode_result(first),
        "2": encode_result(moved),
    }
    assert any_store.values_changed_since("acme", "company", later) == {"2": encode_result(moved)}
    # the row itself was saved: its new inputs are stored
    assert any_store.previous_state("acme", "company", ["1"]) == {"1": (first, '{"n":2}')}
    save([ScoreRow.of("1", first, '{"n":3}', values_changed=False)], latest)
    assert any_store.values_changed_since("acme", "company", later) == {"2": encode_result(moved)}
    assert any_store.values_changed_since("acme", "company", latest) == {}
