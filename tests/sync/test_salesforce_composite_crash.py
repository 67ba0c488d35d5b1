"""A Salesforce run killed while a composite call of five collections is in flight, after the
CRM applied two of them, repeats none of its writes (issue 15, crash cost): the call was noted
in the state store before it went, and the next run reads its 1,000 records back in one
retrieve call and sends only the 600 the CRM does not hold.

The sandbox cuts the call short after its second collection (`Faults.cut_composite_after`) and
the run dies at the connector's first retry wait: in process (an exception nothing in the engine
catches) and in a subprocess killed with SIGKILL (`tests.sync.crash_runner`). The sandbox counts
the updates applied to each lead (`Store.updates`) and the requests it served (`counters`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from config.loader import load_config, load_models
from connectors.outputs import output_fields
from sandbox.salesforce import SalesforceSandbox
from sync.connections import build_connector, run_options
from sync.engine import Engine
from sync.state.store import StateStore
from tests.sync import crash_runner
from tests.sync.hubspot_env import ROOT
from tests.sync.test_salesforce_bulk import NOW, _config

LEADS = 1300  # more than 1,000 leads to write: the first write is a call of 5 x 200


class Crash(BaseException):
    """Stands for kill -9."""


def die_on_retry_wait(seconds: float) -> None:
    """The connector waits before sending a call again: its call was cut short in flight."""
    raise Crash


def crash_in_process(config: Path, sb: SalesforceSandbox) -> None:
    """The first run dies (an exception nothing in the engine catches) at its first retry wait."""
    loaded = load_config(config)
    conn = loaded.settings.connections[0]
    model = load_models(loaded)[("sf", "lead")]
    store = StateStore.open(loaded.settings.state_url.get_secret_value(), now=NOW)
    connector = build_connector(conn, sleep=die_on_retry_wait)
    with pytest.raises(Crash):
        Engine(store, connector, connection="sf", sleep=lambda s: True).run(
            "lead", model, run_options(conn, full=True, dry_run=False), now=NOW
        )
    connector.close()
    store.close()


def crash_in_subprocess(config: Path, sb: SalesforceSandbox) -> None:
    """The first run, in its own process, is killed with SIGKILL at its first retry wait."""
    killed = subprocess.run(
        [sys.executable, "-m", "tests.sync.crash_runner", str(config), NOW.isoformat(), "retry"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr


@pytest.mark.parametrize("crash", [crash_in_process, crash_in_subprocess])
def test_kill_9_mid_composite_call_repeats_no_write(tmp_path, crash):
    sb = SalesforceSandbox(leads=LEADS, now=NOW).start()
    try:
        loaded = _config(tmp_path, sb, chunk_size=1000, bulk_threshold=10_000)
        conn = loaded.settings.connections[0]
        model = load_models(loaded)[("sf", "lead")]
        url = loaded.settings.state_url.get_secret_value()
        leads = {i for i, r in sb.store.table("Lead").items() if not r["IsConverted"]}
        setup = build_connector(conn)
        assert setup.ensure_schema("lead", output_fields(model.grades, model.labels), apply=True).ok
        setup.close()

        sb.faults.cut_composite_after = 2
        crash(tmp_path / "leadsync.yaml", sb)
        assert sb.counters["composite"] == 1
        assert Counter(sb.store.updates.values()) == {1: 400}  # two collections of 200 applied
        store = StateStore.open(url, now=NOW)
        ((note, rows),) = store.write_jobs("sf", "lead")
        store.close()
        assert note.startswith("composite:") and len(rows) == 1000
        assert set(sb.store.updates) <= set(rows)
        applied_by_crash = dict(sb.store.updates)

        assert crash_runner.main([str(tmp_path / "leadsync.yaml"), NOW.isoformat(), "none"]) == 0
        # one retrieve call read the 1,000 noted records back; the 400 the CRM held were not
        # sent again, the 600 the cut call never applied were
        assert sb.counters["collections_retrieve"] == 1
        assert sum(sb.store.updates[i] - applied_by_crash.get(i, 0) for i in rows) == 600
        # every lead written exactly once in the CRM, and once in the ledger
        assert Counter(sb.store.updates.values()) == {1: len(leads)}
        store = StateStore.open(url, now=NOW)
        applied = Counter(r.record_id for r in store.ledger("sf", "lead") if r.status == "applied")
        assert set(applied.values()) == {1} and set(applied) == leads
        assert store.write_jobs("sf", "lead") == []  # settled once every record was ledgered
        assert store.pending_count("sf") == 0
        store.close()
    finally:
        sb.stop()


def test_a_run_without_a_crash_reads_nothing_back_and_leaves_no_note(tmp_path):
    sb = SalesforceSandbox(leads=LEADS, now=NOW).start()
    try:
        loaded = _config(tmp_path, sb, chunk_size=1000, bulk_threshold=10_000)
        conn = loaded.settings.connections[0]
        model = load_models(loaded)[("sf", "lead")]
        store = StateStore.open(loaded.settings.state_url.get_secret_value(), now=NOW)
        leads = {i for i, r in sb.store.table("Lead").items() if not r["IsConverted"]}
        connector = build_connector(conn, sleep=die_on_retry_wait)
        assert connector.ensure_schema(
            "lead", output_fields(model.grades, model.labels), apply=True
        ).ok
        result = Engine(store, connector, connection="sf", sleep=lambda s: True).run(
            "lead", model, run_options(conn, full=True, dry_run=False), now=NOW
        )
        connector.close()
        assert (result.status, result.counts.written) == ("succeeded", 1264)
        assert len(leads) == 1264
        # 1,000 then 264 changes: two composite calls of 5 and 2 collections (each noted),
        # nothing read back
        assert (sb.counters["composite"], sb.counters["collections_update"]) == (2, 7)
        assert sb.counters["collections_retrieve"] == 0
        assert "composite/sobjects/retrieve" not in connector.usage.by_endpoint
        assert store.write_jobs("sf", "lead") == []
        store.close()
    finally:
        sb.stop()
