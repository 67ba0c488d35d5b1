"""kill -9 mid-write sends at most the one API batch in flight again."""

from __future__ import annotations

import signal
from collections import Counter

from sync.state.store import StateStore
from tests.sync import crash_runner
from tests.sync.hubspot_env import NOW, crm_state, popen, sandbox, write_config
from tests.sync.test_e2e_hubspot import cli


def test_kill_9_mid_write_repeats_at_most_one_hubspot_batch(tmp_path, capsys):
    sb = sandbox(450)
    try:
        env = write_config(tmp_path, sb)  # chunks of 1,000: all 450 writes handed over at once
        assert cli(capsys, "setup", "--apply", "--config", str(env.config))[0] == 0
        # killed after the CRM applied half of the first write call, before the ledger knew
        killed = popen(
            env, "-m", "tests.sync.crash_runner", str(env.config), NOW.isoformat(), "write:1:half"
        )
        _, err = killed.communicate(timeout=120)
        assert killed.returncode == -signal.SIGKILL, err
        store = StateStore.open(env.state_url, now=NOW)
        state = crm_state(sb)
        pending = store.pending("hs", "contact")
        already = [
            e.record_id
            for e in pending
            if all(state[e.record_id][k] == e.data()["new"][k] for k in ("grade", "label"))
        ]
        # the next run sends every pending entry again: those the CRM already holds are the
        # writes repeated, at most one HubSpot batch (100)
        assert 0 < len(already) <= 100
        store.close()
        assert crash_runner.main([str(env.config), NOW.isoformat(), "none"]) == 0
        store = StateStore.open(env.state_url, now=NOW)
        applied = Counter(
            r.record_id for r in store.ledger("hs", "contact") if r.status == "applied"
        )
        assert set(applied.values()) == {1}
        assert store.pending_count("hs") == 0
        store.close()
    finally:
        sb.stop()
