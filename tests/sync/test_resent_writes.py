"""Writes a connector sends again itself (its retry layer repeating a call the CRM may have
acted on) count as `retried`, one warning naming the connection, endpoint and records per call:
a Salesforce composite call cut short in flight (`Faults.cut_composite_after`) and a HubSpot
batch update whose connection drops (`faults.queue("reset")`), through the engine."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest

from sync.connections import run_options
from sync.engine import Engine
from tests.sync.hubspot_env import sandbox as hubspot_sandbox
from tests.sync.hubspot_env import write_config
from tests.sync.test_e2e_hubspot import engine_for
from tests.sync.test_salesforce_bulk import NOW, salesforce_world


def resent_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        {k: getattr(r, k) for k in ("connection", "kind", "endpoint", "records")}
        for r in caplog.records
        if r.getMessage() == "write call sent again after a retryable error"
        and r.levelno == logging.WARNING
    ]


def test_a_salesforce_composite_call_cut_short_and_sent_again_counts_its_writes(tmp_path, caplog):
    with salesforce_world(tmp_path, leads=600, chunk_size=1000, bulk_threshold=10_000) as world:
        sb, store = world.sb, world.store
        leads = {i for i, r in sb.store.table("Lead").items() if not r["IsConverted"]}
        assert 200 < len(leads) <= 1000  # one composite call of several collections
        sb.faults.cut_composite_after = 1  # one collection applied, then the connection drops
        caplog.set_level(logging.WARNING, logger="leadsync")
        result = world.full_run()
        assert sb.counters["composite"] == 2  # the call, and the same call sent again
        assert (result.status, result.counts.written) == ("succeeded", len(leads))
        assert result.counts.retried == len(leads)
        assert store.runs("sf")[0].counts.retried == len(leads)
        assert resent_lines(caplog) == [
            {"connection": "sf", "kind": "lead", "endpoint": "composite", "records": len(leads)}
        ]
        applied = Counter(r.record_id for r in store.ledger("sf", "lead") if r.status == "applied")
        assert set(applied.values()) == {1} and set(applied) == leads


class DropFirstBatch:
    """Delegates to a connector; its first write's first batch update loses its connection."""

    def __init__(self, inner: Any, sandbox: Any) -> None:
        self.inner, self.sandbox, self.armed = inner, sandbox, True

    def write(self, kind: str, changes: Any, *, journal: Any = None) -> Any:
        if self.armed:
            self.armed = False
            self.sandbox.faults.queue("reset")
        return self.inner.write(kind, changes, journal=journal)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_hubspot_batch_update_sent_again_counts_its_writes(tmp_path, caplog):
    sb = hubspot_sandbox(150)
    try:
        env = write_config(tmp_path, sb, chunk_size=1000)
        engine, model, store, conn, settings = engine_for(env, sb)
        engine = Engine(store, DropFirstBatch(conn, sb), connection="hs", sleep=lambda s: True)
        caplog.set_level(logging.WARNING, logger="leadsync")
        result = engine.run(
            "contact", model, run_options(settings, full=True, dry_run=False), now=NOW
        )
        assert (result.status, result.counts.written) == ("succeeded", 150)
        assert result.counts.retried == 100  # the first batch of 100, sent twice
        assert store.runs("hs")[0].counts.retried == 100
        assert resent_lines(caplog) == [
            {
                "connection": "hs",
                "kind": "contact",
                "endpoint": "objects.batch_update",
                "records": 100,
            }
        ]
        conn.close()
        store.close()
    finally:
        sb.stop()
