"""A full rescore through Salesforce Bulk API 2.0 killed at each point of a job's write path
repeats no Bulk write: the job id is noted in the state store before the upload, and the next
run reconciles the job's results instead of sending its rows again (issue 15, crash cost).

The kill is an exception nothing in the engine catches (as in `test_engine.py`); the sandbox
counts the updates applied to each lead (`Store.updates`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from config.loader import load_models
from connectors.outputs import output_fields
from sandbox.salesforce import SalesforceSandbox
from sync.connections import build_connector, run_options
from sync.engine import Engine
from sync.state.store import StateStore
from tests.sync.test_salesforce_bulk import NOW, _config

THRESHOLD = 120


class Crash(BaseException):
    """Stands for kill -9."""


class CrashingJournal:
    """Notes the job, then dies: the job exists, nothing is uploaded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def started(self, job: str, rows: Any) -> None:
        self.inner.started(job, rows)
        raise Crash

    def jobs(self) -> Any:
        return self.inner.jobs()


class CrashAt:
    """Delegates to a connector and dies at `point` of its first Bulk write."""

    def __init__(self, inner: Any, point: str) -> None:
        self.inner, self.point, self.armed = inner, point, True

    def write(self, kind: str, changes: Any, *, journal: Any = None) -> Any:
        bulk = self.armed and len(changes) >= THRESHOLD
        if bulk and self.point == "before":
            raise Crash
        if bulk and self.point == "noted":
            journal = CrashingJournal(journal)
        results = self.inner.write(kind, changes, journal=journal)
        if bulk and self.point == "returned":
            raise Crash
        return results

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def die_on_first_poll_wait(seconds: float) -> None:
    """The connector's sleep between Bulk status polls: the first poll found the job
    processing (the sandbox has applied its rows), and the process dies before the results."""
    raise Crash


@pytest.mark.parametrize("point", ["before", "noted", "processing", "returned"])
def test_kill_9_at_any_point_of_a_bulk_job_repeats_no_write(tmp_path, point):
    sb = SalesforceSandbox(leads=300, now=NOW).start()
    try:
        loaded = _config(tmp_path, sb, chunk_size=50, bulk_threshold=THRESHOLD)
        conn = loaded.settings.connections[0]
        model = load_models(loaded)[("sf", "lead")]
        url = loaded.settings.state_url.get_secret_value()
        options = run_options(conn, full=True, dry_run=False)
        store = StateStore.open(url, now=NOW)

        sleep = die_on_first_poll_wait if point == "processing" else (lambda s: None)
        first = build_connector(conn, sleep=sleep)
        assert first.ensure_schema("lead", output_fields(model.grades, model.labels), apply=True).ok
        connector = first if point == "processing" else CrashAt(first, point)
        with pytest.raises(Crash):
            Engine(store, connector, connection="sf", sleep=lambda s: True).run(
                "lead", model, options, now=NOW
            )
        first.close()
        noted = store.write_jobs("sf", "lead")
        assert len(noted) == (0 if point == "before" else 1)
        applied_by_crash = sum(sb.store.updates.values())
        assert applied_by_crash == (THRESHOLD if point in ("processing", "returned") else 0)

        second = build_connector(conn, sleep=lambda s: None)
        result = Engine(store, second, connection="sf", sleep=lambda s: True).run(
            "lead", model, options, now=NOW
        )
        second.close()
        leads = {i: r for i, r in sb.store.table("Lead").items() if not r["IsConverted"]}
        assert (result.status, result.counts.written) == ("succeeded", len(leads))
        # every lead written exactly once in the CRM, and once in the ledger
        assert Counter(sb.store.updates.values()) == {1: len(leads)}
        applied = Counter(r.record_id for r in store.ledger("sf", "lead") if r.status == "applied")
        assert set(applied.values()) == {1} and len(applied) == len(leads)
        assert store.write_jobs("sf", "lead") == []  # settled once every record was ledgered
        assert store.pending_count("sf") == 0
        scores = store.previous_scores("sf", "lead", list(leads))
        assert {i: r["Leadsync_Score__c"] for i, r in leads.items()} == {
            i: s.score for i, s in scores.items()
        }
        store.close()
    finally:
        sb.stop()
