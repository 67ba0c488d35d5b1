"""SIGTERM ends a sync within `daemon.shutdown_grace` even while the CRM hangs; the next run
resumes and finishes."""

from __future__ import annotations

import signal
import threading

from sync.outage import Stopped
from sync.shutdown import ABANDONED_EXIT, Watchdog, stop_aware_sleep
from sync.state.store import StateStore
from tests.sync import crash_runner
from tests.sync.hubspot_env import NOW, crm_state, popen, sandbox, write_config
from tests.sync.test_e2e_hubspot import cli
from tests.waiting import wait_until


def test_sigterm_while_the_crm_hangs_exits_after_the_grace_and_the_next_run_resumes(
    tmp_path, capsys
):
    sb = sandbox(3000)
    try:
        env = write_config(tmp_path, sb, extra="daemon: {shutdown_grace: 2s}\n")
        # each call may take a minute: only the grace can end the process quickly
        env.config.write_text(env.config.read_text().replace("timeout: 5", "timeout: 60"))
        assert cli(capsys, "setup", "--apply", "--config", str(env.config))[0] == 0
        # every call hangs for two minutes, from the first (the run's first page) on
        sb.faults.queue("timeout")
        sb.faults.set(timeout=1.0, timeout_s=120)
        proc = popen(env, "-m", "cli.main", "sync", "--full", "--config", str(env.config))
        # The subprocess's first call takes the queued fault when it reaches the sandbox;
        # nothing in this process learns of that but the queue: polled, with a deadline.
        wait_until(lambda: not sb.faults.snapshot()["queue"], what="a call hanging")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == ABANDONED_EXIT, err
        assert "shutdown grace passed; abandoning the CRM calls in flight" in err
        assert "Traceback" not in err
        sb.faults.clear()
        assert crash_runner.main([str(env.config), NOW.isoformat(), "none"]) == 0
        store = StateStore.open(env.state_url, now=NOW)
        statuses = [r.status for r in store.runs("hs")]
        assert statuses[0] == "succeeded"
        assert store.pending_count("hs") == 0
        store.close()
        assert all(values["label"] for values in crm_state(sb).values())
    finally:
        sb.stop()


def test_the_watchdog_ends_the_process_only_after_the_grace():
    exits: list[int] = []
    waited: list[float] = []

    def times_out(seconds: float) -> bool:
        waited.append(seconds)
        return False

    fired = threading.Event()

    def exit_process(code: int) -> None:
        exits.append(code)
        fired.set()

    dog = Watchdog(30, exit=exit_process, wait=times_out)
    dog.arm()
    dog.arm()  # once
    assert fired.wait(timeout=10), "the watchdog never fired"
    assert exits == [ABANDONED_EXIT]
    assert waited == [30]
    calm = Watchdog(30, exit=exits.append, wait=lambda s: True)  # the process ended in time
    calm.arm()
    assert exits == [ABANDONED_EXIT]


def test_connector_waits_end_on_a_stop_request():
    stop = threading.Event()
    sleep = stop_aware_sleep(stop)
    sleep(0)
    stop.set()
    try:
        sleep(3600)
    except Stopped:
        return
    raise AssertionError("a stop request must end the wait")
