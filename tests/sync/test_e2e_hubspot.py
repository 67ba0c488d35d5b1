"""End to end against the HubSpot sandbox through the real connector, the CLI and subprocesses."""

from __future__ import annotations

import itertools
import json
import signal
import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from cli.main import main
from config.loader import load_config, load_models
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.outputs import output_fields
from sandbox.hubspot import HubSpotSandbox
from sync.call_log import EVERY
from sync.connections import run_options
from sync.engine import Engine, RunOptions
from sync.state.store import StateStore
from tests.sync import crash_runner
from tests.sync.conftest import postgres_url, unique_prefix
from tests.sync.hubspot_env import (
    NOW,
    Env,
    SandboxClock,
    crm_state,
    full_run_minimum,
    popen,
    sandbox,
    write_config,
)
from tests.waiting import Lines, wait_until

CONTACTS = 450


class FakeTime:
    """The connector's clock and sleep: sleeping moves the clock, so waits cost no real time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def connector(sb, timeout: float = 5.0) -> HubSpotConnector:
    fake = FakeTime()
    options = HubSpotOptions(base_url=sb.url, access_token=SecretStr(sb.token), timeout=timeout)
    return HubSpotConnector(options, sleep=fake.sleep, clock=fake.clock)


def engine_for(env: Env, sb, **kwargs):
    loaded = load_config(env.config)
    model = load_models(loaded)[("hs", "contact")]
    store = StateStore.open(env.state_url, now=NOW)
    conn = connector(sb)
    model_fields = output_fields(model.grades, model.labels)
    assert conn.ensure_schema("contact", model_fields, apply=True).ok
    kwargs.setdefault("sleep", lambda s: True)
    engine = Engine(store, conn, connection="hs", **kwargs)
    return engine, model, store, conn, loaded.settings.connections[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The CRM state after one uninterrupted full run (the outcome every scenario must reach)."""
    folder = tmp_path_factory.mktemp("reference")
    sb = sandbox(CONTACTS)
    try:
        env = write_config(folder, sb)
        engine, model, store, conn, settings = engine_for(env, sb)
        result = engine.run(
            "contact", model, run_options(settings, full=True, dry_run=False), now=NOW
        )
        assert result.status == "succeeded"
        conn.close()
        store.close()
        return crm_state(sb), result.counts.written
    finally:
        sb.stop()


def test_full_then_incremental_runs_never_loop_and_pick_up_changes(tmp_path, reference):
    sb = sandbox(CONTACTS)
    env = write_config(tmp_path, sb)
    engine, model, store, conn, settings = engine_for(env, sb)
    try:
        options = run_options(settings, full=False, dry_run=False)
        full = engine.run(
            "contact", model, run_options(settings, full=True, dry_run=False), now=NOW
        )
        live = len(crm_state(sb))
        assert (full.mode, full.status, full.counts.read, full.counts.written) == (
            "full",
            "succeeded",
            live,
            reference[1],
        )
        assert crm_state(sb) == reference[0]
        # every API call was needed (see full_run_minimum), plus at most one call per chain to
        # split the read
        minimum = full_run_minimum(sb, live, full.counts.written)
        assert minimum <= full.counts.api_calls <= minimum + 2
        clock: SandboxClock = sb.clock  # type: ignore[assignment]
        incremental = []
        for minutes in (5, 10, 15):
            clock.advance(300)
            incremental.append(
                engine.run("contact", model, options, now=NOW + timedelta(minutes=minutes))
            )
        assert [r.mode for r in incremental] == ["incremental"] * 3
        assert [r.counts.written for r in incremental] == [0, 0, 0]
        assert [r.counts.planned for r in incremental] == [0, 0, 0]
        # our own writes come back once and change nothing; then a quiet CRM costs no reads
        assert [r.counts.read for r in incremental] == [live, 0, 0]
        # HubSpot's replies told which modification times were ours: no scoring, no
        # engagement or company reads, only the search (200 a page, one more to see the end)
        assert [r.counts.scored for r in incremental] == [0, 0, 0]
        assert incremental[0].counts.api_calls <= 1.1 * -(-live // 200) + 2
        # a quiet run: the contact search and the company search (the model reads company
        # values), each answering nothing
        assert [r.counts.api_calls for r in incremental[1:]] == [2, 2]
        assert store.applied_count("hs", "contact") == reference[1]

        clock.advance(3600)
        changed = sb.mutate(12)
        later = NOW + timedelta(minutes=76)
        after = engine.run("contact", model, options, now=later)
        assert (after.mode, after.counts.read) == ("incremental", len(changed))
        assert after.counts.written == after.counts.planned <= len(changed)
        # one search, the company search (no company changed), one association call each for
        # companies, meetings and calls, one batch read per kind the changed contacts link to,
        # and the write
        store_ = sb.store
        kinds = sum(
            any(store_.associated("contacts", int(c), t) for c in changed)
            for t in ("companies", "meetings", "calls")
        )
        assert after.counts.api_calls == 1 + 1 + 3 + kinds + (1 if after.counts.written else 0)
        state = crm_state(sb)
        assert {rid for rid in state if state[rid] != reference[0][rid]} <= set(changed)
        clock.advance(300)
        quiet = engine.run("contact", model, options, now=later + timedelta(minutes=5))
        assert (quiet.counts.written, quiet.counts.read) == (0, after.counts.written)
    finally:
        conn.close()
        store.close()
        sb.stop()


@pytest.mark.parametrize("crash", ["page:3", "write:2:half", "write:3:after"])
def test_kill_9_anywhere_then_rerun_reaches_the_same_state_with_one_applied_entry(
    tmp_path, capsys, reference, crash
):
    sb = sandbox(CONTACTS)
    try:
        env = write_config(tmp_path, sb, chunk_size=100)  # five write calls to crash in
        assert cli(capsys, "setup", "--apply", "--config", str(env.config))[0] == 0
        before = served(sb)
        killed = popen(
            env, "-m", "tests.sync.crash_runner", str(env.config), NOW.isoformat(), crash
        )
        _, err = killed.communicate(timeout=120)
        assert killed.returncode == -signal.SIGKILL, err
        spent = served(sb) - before
        assert crash_runner.main([str(env.config), NOW.isoformat(), "none"]) == 0
        assert capsys.readouterr().out.startswith("succeeded")
        assert crm_state(sb) == reference[0]
        store = StateStore.open(env.state_url, now=NOW)
        applied = Counter(
            r.record_id for r in store.ledger("hs", "contact") if r.status == "applied"
        )
        assert len(applied) == reference[1]
        assert set(applied.values()) == {1}
        assert store.pending_count("hs") == 0
        assert [r.status for r in store.runs("hs")] == ["succeeded", "crashed"]
        # the killed run's calls were recorded as they went: at most the last batch is lost
        crashed = store.runs("hs")[1].counts.api_calls
        assert spent - EVERY < crashed <= spent, (crashed, spent)
        store.close()
    finally:
        sb.stop()


def served(sb: HubSpotSandbox) -> int:
    """Every call the sandbox answered."""
    return sum(sum(by_status.values()) for by_status in sb.request_counts().values())


def test_faults_give_the_same_final_state_with_permanent_failures_dead_lettered(
    tmp_path, reference
):
    sb = sandbox(CONTACTS)
    env = write_config(tmp_path, sb)
    engine, model, store, _conn, settings = engine_for(env, sb)
    try:
        engine.connector.close()
        engine.connector = connector(sb, timeout=1.0)
        # a portal admin removed grade option B: those writes fail for good until it is back
        grade = sb.store.table("contacts").props["leadsync_grade"]
        grade.option_values = frozenset({"A", "C", "D"})
        sb.faults.set(
            rate_429=0.05,
            error_500=0.01,
            error_503=0.01,
            timeout=0.01,
            timeout_s=2,
            partial_207=0.01,
        )
        # and at least one of each fault early on, whatever the rates draw
        sb.faults.queue(None, "500", None, "timeout", "503", "reset", None, "429")
        result = engine.run(
            "contact", model, run_options(settings, full=True, dry_run=False), now=NOW
        )
        assert result.status == "succeeded"
        assert result.counts.rate_limited > 0
        sb.faults.clear()
        grade_b = {rid for rid, values in reference[0].items() if values["grade"] == "B"}
        letters = {d.record_id for d in store.dead_letters("hs")}
        assert letters == grade_b and len(letters) == result.counts.dead_lettered > 0
        assert all("allowed options" in d.error for d in store.dead_letters("hs"))
        state = crm_state(sb)
        assert {rid for rid in state if state[rid] != reference[0][rid]} == letters

        grade.option_values = frozenset({"A", "B", "C", "D"})  # the fix
        retry = engine.retry_dead_letters("contact", model, RunOptions(), now=NOW)
        assert (retry.status, retry.counts.written) == ("succeeded", len(letters))
        assert crm_state(sb) == reference[0]
        assert store.dead_letters("hs") == []
    finally:
        engine.connector.close()
        store.close()
        sb.stop()


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """`leadsync ARGS` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _pages_done(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT max(pages) FROM leadsync_runs").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0)


def test_sigterm_mid_run_exits_0_with_the_cursor_saved_and_the_next_run_finishes(tmp_path, capsys):
    # Engagement is read for 1,000 contacts at a time, so a page is saved only per 1,000: with
    # 2,500 contacts and 100 ms a call, the SIGTERM sent after the first saved page lands mid-run.
    sb = sandbox(2500, latency_ms=100)
    try:
        env = write_config(tmp_path, sb)
        assert cli(capsys, "setup", "--apply", "--config", str(env.config))[0] == 0
        proc = popen(
            env,
            "-m",
            "cli.main",
            "sync",
            "--full",
            "--config",
            str(env.config),
            "--now",
            NOW.isoformat(),
        )
        # The subprocess's progress shows only in its state database: polled, with a deadline.
        wait_until(lambda: _pages_done(tmp_path / "state.db") >= 1, what="the first page")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "SIGTERM: finishing the page in flight" in err
        assert "interrupted" in out
        store = StateStore.open(env.state_url, now=NOW)
        (run,) = store.runs("hs")
        cursor = store.get_cursor("hs", "contact")
        assert run.status == "interrupted" and 1 <= run.counts.pages < 25  # of 25 pages
        assert cursor.resume is not None and cursor.resume_mode == "full"
        sb.faults.set(latency_ms=0)
        code, _, err = cli(capsys, "sync", "--config", str(env.config), "--now", NOW.isoformat())
        assert code == 0, err
        assert store.runs("hs")[0].status == "succeeded"
        assert store.runs("hs")[0].mode == "full"
        assert store.get_cursor("hs", "contact").resume is None
        applied = Counter(
            r.record_id for r in store.ledger("hs", "contact") if r.status == "applied"
        )
        assert set(applied.values()) == {1} and len(applied) == len(crm_state(sb))
        store.close()
    finally:
        sb.stop()


def test_daemon_serves_health_and_exits_0_on_sigterm(tmp_path, capsys):
    import urllib.request

    sb = sandbox(120)
    try:
        env = write_config(tmp_path, sb, extra="daemon: {port: 0}\nlogging: {level: INFO}\n")
        assert cli(capsys, "setup", "--apply", "--config", str(env.config))[0] == 0
        proc = popen(env, "-m", "cli.main", "run", "--config", str(env.config))
        assert proc.stderr is not None
        logged = Lines(proc.stderr)
        logged.wait_for(
            lambda lines: any('"msg":"run finished"' in x for x in lines),
            what="the first scheduled run",
        )
        lines = logged.snapshot()
        health = next(json.loads(x) for x in lines if '"daemon started"' in x)["health"]
        with urllib.request.urlopen(health, timeout=5) as response:
            assert response.status == 200
        written = 'leadsync_records_total{connection="hs",kind="contact",outcome="written"} 120.0'

        def metrics() -> str:
            url = health.replace("healthz", "metrics")
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())

        # The daemon's metrics are another process's state, read over HTTP: polled.
        wait_until(lambda: written in metrics(), what="the run's metrics")
        assert health.startswith("http://127.0.0.1:")
        proc.send_signal(signal.SIGTERM)
        lines = logged.until_end(timeout=60)
        assert proc.wait(timeout=60) == 0, "".join(lines)
        assert any('"msg":"daemon stopped"' in line for line in lines)
        bad = [line for line in lines if line.strip() and line[0] != "{"]
        assert bad == []
        assert all(json.loads(line) for line in lines if line.strip())
    finally:
        sb.stop()


def test_two_processes_on_one_postgresql_never_run_a_connection_at_once(tmp_path):
    url, prefix = postgres_url(), unique_prefix()
    sb = sandbox(200, latency_ms=25)
    try:
        env = write_config(tmp_path, sb, state_url=url, prefix=prefix)
        procs = [
            popen(env, "-m", "cli.main", "sync", "--full", "--config", str(env.config))
            for _ in range(2)
        ]
        outcomes = [(*p.communicate(timeout=120), p.returncode) for p in procs]
        codes = sorted(code for _, _, code in outcomes)
        busy = [out for out, _, code in outcomes if code == 1]
        assert codes in ([0, 0], [0, 1])
        assert all("busy" in out and "already running" in out for out in busy)
        store = StateStore.open(url, now=NOW, table_prefix=prefix)
        try:
            runs = sorted(store.runs("hs"), key=lambda r: r.started_at)
            assert len(runs) == codes.count(0)  # a refused process records no run
            for first, second in itertools.pairwise(runs):
                assert first.finished_at is not None and first.finished_at <= second.started_at
        finally:
            store.drop_all()
            store.close()
    finally:
        sb.stop()


def test_cli_setup_status_dry_run_and_config_errors(tmp_path, capsys):
    sb = sandbox(150)
    try:
        env = write_config(tmp_path, sb)
        config = ("--config", str(env.config))
        code, out, _ = cli(capsys, "setup", *config)
        assert code == 0
        assert "leadsync_score" in out and "missing" in out
        assert "run `leadsync setup --apply`" in out
        code, out, _ = cli(capsys, "setup", "--apply", *config)
        assert code == 0 and "created" in out
        code, out, err = cli(capsys, "sync", "--dry-run", "--now", NOW.isoformat(), *config)
        assert code == 0, err
        assert "dry run, full" in out and "would write" in out and "samples:" in out
        assert all(v["score"] is None for v in crm_state(sb).values())
        code, out, _ = cli(capsys, "sync", "--now", NOW.isoformat(), *config)
        assert code == 0 and "succeeded" in out
        code, out, _ = cli(capsys, "status", *config)
        assert code == 0
        assert "== hs (hubspot: contact)" in out
        assert "next full rescore:" in out and "dead letters: 0" in out
        code, out, _ = cli(capsys, "sync", "--connection", "nope", *config)
        assert code == 2

        env.config.write_text(env.config.read_text().replace("crm: hubspot", "crm: hubspott"))
        code, _, err = cli(capsys, "sync", *config)
        assert code == 2
        assert f"error: {env.config}:5:10 connections[0].crm: should be 'hubspot' or " in err
        assert "Traceback" not in err
    finally:
        sb.stop()


def test_a_wrong_token_fails_with_exit_1_and_no_secret_in_the_output(tmp_path, capsys, monkeypatch):
    sb = sandbox(50)
    try:
        env = write_config(tmp_path, sb)
        monkeypatch.setenv("LEADSYNC_TEST_HUBSPOT_TOKEN", "pat-na1-wrong-secret-value")
        code, out, err = cli(capsys, "sync", "--config", str(env.config))
        assert code == 1
        assert "AuthError" in out
        assert "wrong-secret-value" not in out + err
    finally:
        sb.stop()


def test_a_second_sync_process_on_the_same_day_stops_at_the_daily_budget(tmp_path, capsys):
    sb = sandbox(CONTACTS, time_zone="Asia/Tokyo")
    try:
        env = write_config(tmp_path, sb)
        config = ("--config", str(env.config))
        assert cli(capsys, "setup", "--apply", *config)[0] == 0
        # setup's calls count against the day too: the runs get 24 more
        budget, setup = sb.calls + 24, sb.calls
        text = env.config.read_text()
        assert "timeout: 5}" in text
        env.config.write_text(text.replace("timeout: 5}", f"timeout: 5, daily_budget: {budget}}}"))
        code, out, err = cli(capsys, "sync", "--full", "--now", NOW.isoformat(), *config)
        assert code == 0 and "succeeded" in out, out + err
        store = StateStore.open(env.state_url, now=NOW)
        first = store.runs("hs")[0].counts.api_calls
        # the run looked the account's zone up (its budget's day) and the store keeps it
        zone = store.account_zone("hs")
        assert zone is not None and (zone.time_zone, zone.utc_offset_ms) == ("Asia/Tokyo", None)
        asked = sb.request_counts()["GET /account-info/v3/details"]
        reads = -(-CONTACTS // 100)
        assert budget - setup - first < reads < first < budget - setup  # no second full read
        calls_before = sb.calls
        # a new process (as from cron) counts the calls the first one made today
        second = popen(
            env, "-m", "cli.main", "sync", "--full", "--dry-run",
            "--now", NOW.isoformat(), *config,
        )  # fmt: skip
        out, err = second.communicate(timeout=60)
        run = store.runs("hs")[0]
        # no page was finished (a group's pages wait for its associations), so no progress
        assert (run.status, run.counts.api_calls) == ("failed", budget - setup - first), out + err
        assert f"daily API budget of {budget} calls" in (run.error or "")
        assert sb.calls - calls_before == budget - setup - first
        code, out, _ = cli(capsys, "sync", "--now", NOW.isoformat(), *config)
        assert code == 1
        assert store.runs("hs")[0].counts.api_calls == 0
        assert sb.calls - calls_before == budget - setup - first
        # later processes took the zone from the store: not asked again
        assert sb.request_counts()["GET /account-info/v3/details"] == asked
        assert "resumes at 00:00 Asia/Tokyo (15:00 UTC)" in (run.error or "")
        code, out, _ = cli(capsys, "status", *config)
        assert code == 0
        assert (
            f"API calls today: {budget} of {budget} (daily_budget); by command: sync "
            f"{budget - setup}, setup {setup}; the account's day resets at 00:00 Asia/Tokyo "
            "(15:00 UTC)"
        ) in out
        store.close()
    finally:
        sb.stop()
