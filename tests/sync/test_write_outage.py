"""A 503 outage while the last writes go out pauses the run like a read outage: nothing is
dead-lettered, and success is reported only once every write landed."""

from __future__ import annotations

from sync.connections import run_options
from tests.sync.hubspot_env import NOW, crm_state, sandbox, write_config
from tests.sync.test_e2e_hubspot import engine_for


def outage_run(tmp_path, outage_s: float):
    sb = sandbox(300)
    env = write_config(tmp_path, sb)  # chunks of 1,000: every write goes out after the reading
    paused: list[float] = []

    def sleep(seconds: float) -> bool:  # the engine's outage pauses, on a simulated clock
        paused.append(seconds)
        if sum(paused) >= outage_s:
            sb.faults.clear()
        return True

    def progress(p) -> None:
        if p.counts.read == 300:  # the reading is done: the CRM goes down for the writes
            sb.faults.set(error_503=1.0)

    engine, model, store, conn, settings = engine_for(env, sb, sleep=sleep, on_progress=progress)
    result = engine.run("contact", model, run_options(settings, full=True, dry_run=False), now=NOW)
    return sb, store, conn, result, paused


def test_a_60_s_outage_during_the_last_writes_pauses_and_dead_letters_nothing(tmp_path):
    sb, store, conn, result, paused = outage_run(tmp_path, 60)
    try:
        assert result.status == "succeeded"
        assert (result.counts.written, result.counts.dead_lettered) == (300, 0)
        assert paused == [5.0, 10.0, 20.0, 40.0]  # doubling from 5 s until the CRM is back
        assert store.dead_letters("hs") == [] and store.pending_count("hs") == 0
        assert all(values["label"] for values in crm_state(sb).values())
    finally:
        conn.close()
        store.close()
        sb.stop()


def test_an_outage_past_max_pause_fails_the_run_and_keeps_every_write(tmp_path):
    sb, store, conn, result, _ = outage_run(tmp_path, 3600)
    try:
        assert result.status == "failed"
        assert (result.counts.written, result.counts.dead_lettered) == (0, 0)
        assert store.dead_letters("hs") == []
        assert store.pending_count("hs") == 300
    finally:
        conn.close()
        store.close()
        sb.stop()
