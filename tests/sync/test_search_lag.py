"""HubSpot's search index lags writes: the read overlap is what keeps incremental runs lossless.

The sandbox's `search_lag_s` fault hides records modified in the last N seconds from search (as
HubSpot's asynchronous indexing does). A run right after a change misses it; the next run reads
from its watermark minus `read.overlap`, so with an overlap longer than the lag nothing is lost.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr

from config.model_loader import load_model
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.outputs import output_fields
from sync.engine import Engine, RunOptions
from sync.state.store import StateStore
from tests.sync.hubspot_env import NOW, SandboxClock, sandbox

MODEL = "config/examples/models/hubspot-professional.yaml"


@pytest.mark.parametrize(
    ("overlap_s", "reads"),
    [
        (120, [0, 12]),  # overlap > lag: the second run finds what the first could not
        (0, [0, 0]),  # no overlap: the change is lost to incremental runs (full runs repair it)
    ],
)
def test_overlap_longer_than_the_search_lag_loses_nothing(tmp_path, overlap_s, reads):
    sb = sandbox(200)
    sb.faults.set(search_lag_s=30)
    clock: SandboxClock = sb.clock  # type: ignore[assignment]
    model = load_model(MODEL)
    conn = HubSpotConnector(HubSpotOptions(base_url=sb.url, access_token=SecretStr(sb.token)))
    store = StateStore.open(f"sqlite:///{tmp_path}/state.db", now=NOW)
    try:
        assert conn.ensure_schema(
            "contact", output_fields(model.grades, model.labels), apply=True
        ).ok
        engine = Engine(store, conn, connection="hs", sleep=lambda s: True)
        options = RunOptions(overlap=timedelta(seconds=overlap_s))
        engine.run("contact", model, RunOptions(full=True), now=NOW)
        clock.advance(300)
        echo = engine.run("contact", model, options, now=NOW + timedelta(seconds=300))
        assert echo.counts.written == 0
        clock.advance(3600)
        changed = sb.mutate(12)
        observed = []
        for wait_s in (5, 60):  # the first run starts inside the lag, the second after it
            clock.advance(wait_s)
            started = NOW + timedelta(seconds=clock.t - NOW.timestamp())
            observed.append(engine.run("contact", model, options, now=started).counts.read)
        assert len(changed) == 12
        assert observed == reads
    finally:
        conn.close()
        store.close()
        sb.stop()
