"""A full rescore reaches Salesforce Bulk API 2.0 through the engine (write chunks of
`bulk_threshold`), against the Salesforce sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.loader import load_config, load_models
from config.settings import ConnectionSettings
from connectors.outputs import output_fields
from connectors.salesforce import SalesforceConnector
from sandbox.salesforce import SalesforceSandbox
from sandbox.tls import make_loopback_tls
from scoring.model import ScoringModel
from sync.connections import build_connector, run_options, write_chunk
from sync.engine import Engine
from sync.run_summary import RunResult
from sync.state.store import StateStore
from tests.sync.hubspot_env import ROOT

MODEL = ROOT / "config" / "examples" / "models" / "salesforce-leads.yaml"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _config(folder, sb: SalesforceSandbox | None, *, chunk_size: int, bulk_threshold: int):
    url, client_id, secret, ca = (
        (sb.url, sb.client_id, sb.client_secret, sb.ca_file)
        if sb
        else ("https://login.salesforce.com", "3MVG9", "secret", folder / "ca.pem")
    )
    config = folder / "leadsync.yaml"
    config.write_text(
        f"""\
state_url: sqlite:///{folder / "state.db"}
connections:
  - name: sf
    crm: salesforce
    salesforce:
      login_url: "{url}"
      client_id: "{client_id}"
      client_secret: "{secret}"
      ca_bundle: "{ca}"
      bulk_threshold: {bulk_threshold}
    write: {{chunk_size: {chunk_size}}}
    objects:
      - {{kind: lead, model: {MODEL}}}
"""
    )
    return load_config(config)


@pytest.mark.parametrize(
    ("chunk_size", "bulk_threshold", "full", "expected"),
    [
        (1000, 10000, True, 10000),
        (1000, 10000, False, 1000),
        (1000, 500, True, 1000),
        (50, 120, True, 120),
        (50, 120, False, 50),
        (1000, 10001, True, 1000),  # above the largest chunk: Bulk is never reached
    ],
)
def test_full_runs_of_salesforce_get_chunks_of_bulk_threshold(
    tmp_path, chunk_size, bulk_threshold, full, expected
):
    # a real CA file: the config loader checks that a ca_bundle holds PEM certificates
    (tmp_path / "ca.pem").write_bytes(make_loopback_tls().ca_file.read_bytes())
    loaded = _config(tmp_path, None, chunk_size=chunk_size, bulk_threshold=bulk_threshold)
    conn = loaded.settings.connections[0]
    assert write_chunk(conn, full=full) == expected
    assert run_options(conn, full=full, dry_run=False).chunk_size == expected


@dataclass
class BulkWorld:
    """A Salesforce sandbox of 300 leads and the engine of a connection to it writing chunks of
    50, through Bulk API 2.0 from 120 changes."""

    sb: SalesforceSandbox
    conn: ConnectionSettings
    model: ScoringModel
    store: StateStore
    connector: SalesforceConnector
    engine: Engine

    def full_run(self) -> RunResult:
        options = run_options(self.conn, full=True, dry_run=False)
        return self.engine.run("lead", self.model, options, now=NOW)


@contextmanager
def salesforce_world(
    folder: Path, *, leads: int, chunk_size: int, bulk_threshold: int
) -> Iterator[BulkWorld]:
    """A sandbox of `leads` leads, its fields installed, and the engine of a connection to it
    (retry waits not slept)."""
    sb = SalesforceSandbox(leads=leads, now=NOW).start()
    try:
        loaded = _config(folder, sb, chunk_size=chunk_size, bulk_threshold=bulk_threshold)
        conn = loaded.settings.connections[0]
        model = load_models(loaded)[("sf", "lead")]
        store = StateStore.open(loaded.settings.state_url.get_secret_value(), now=NOW)
        connector = build_connector(conn, sleep=lambda s: None)
        assert isinstance(connector, SalesforceConnector)
        assert connector.ensure_schema(
            "lead", output_fields(model.grades, model.labels), apply=True
        ).ok
        engine = Engine(store, connector, connection="sf", sleep=lambda s: True)
        yield BulkWorld(sb, conn, model, store, connector, engine)
        connector.close()
        store.close()
    finally:
        sb.stop()


@pytest.fixture
def bulk(tmp_path) -> Iterator[BulkWorld]:
    with salesforce_world(tmp_path, leads=300, chunk_size=50, bulk_threshold=120) as world:
        yield world


def test_a_full_run_with_more_changes_than_bulk_threshold_writes_through_bulk(bulk):
    sb = bulk.sb
    result = bulk.full_run()
    leads = {i: r for i, r in sb.store.table("Lead").items() if not r["IsConverted"]}
    assert (result.status, result.counts.written) == ("succeeded", len(leads))
    bulk_jobs, rest = divmod(len(leads), 120)
    assert bulk.connector.stats["bulk_jobs"] == bulk_jobs == 2
    counters = sb.stats()["counters"]
    assert counters["bulk_create"] == bulk_jobs
    assert counters.get("collections_update", 0) + counters.get("composite", 0) == 1
    assert 0 < rest < 120  # the last partial chunk went through one composite call
    scores = bulk.store.previous_scores("sf", "lead", list(leads))
    assert {i: (r["Leadsync_Score__c"], r["Leadsync_Label__c"]) for i, r in leads.items()} == {
        i: (s.score, s.label) for i, s in scores.items()
    }


def test_a_bulk_job_of_this_process_is_not_reconciled_when_its_locked_records_are_retried(bulk):
    """A Bulk job this process ran gave its outcomes as they came: when its locked records
    (UNABLE_TO_LOCK_ROW, retryable) are written again, the job is not reconciled like one a
    crash left behind (no job info and no results read a second time; before: 5 info and 10
    results calls more)."""
    bulk.sb.faults.lock_rate = 1.0  # every record written is locked by another transaction
    run = bulk.full_run()
    assert (run.counts.written, run.counts.dead_lettered) == (0, 288)
    counters = bulk.sb.stats()["counters"]
    # per job: its status polls to the end (2) and its two result files, nothing more
    assert (counters["bulk_create"], counters["bulk_info"], counters["bulk_results"]) == (
        7,
        14,
        14,
    )
