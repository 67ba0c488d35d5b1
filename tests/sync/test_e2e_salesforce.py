"""End to end against the Salesforce sandbox: the same engine and commands, the other CRM."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cli.main import main
from sandbox.salesforce import SalesforceSandbox
from sync.state.store import StateStore
from tests.sync.account_groups_env import config_file, salesforce_block
from tests.sync.hubspot_env import ROOT

MODEL = ROOT / "config" / "examples" / "models" / "salesforce-leads.yaml"


def test_salesforce_full_then_incremental_runs_write_once(tmp_path, capsys, monkeypatch):
    sb = SalesforceSandbox(leads=300).start()
    try:
        monkeypatch.setenv("LEADSYNC_TEST_SF_SECRET", sb.client_secret)
        config = tmp_path / "leadsync.yaml"
        config.write_text(
            f"""\
state_url: sqlite:///{tmp_path / "state.db"}
connections:
  - name: sf
    crm: salesforce
    salesforce:
      login_url: "{sb.url}"
      client_id: "{sb.client_id}"
      client_secret: "${{LEADSYNC_TEST_SF_SECRET}}"
      ca_bundle: "{sb.ca_file}"
    objects:
      - {{kind: lead, model: {MODEL}}}
"""
        )
        args = ("--config", str(config))
        assert main(["setup", "--apply", *args]) == 0
        assert main(["sync", "--full", *args]) == 0
        out = capsys.readouterr().out
        full = re.search(r"sf\s+lead\s+full\s+succeeded\s+(\d+)\s+(\d+)", out)
        assert full is not None, out
        read, written = int(full.group(1)), int(full.group(2))
        assert read >= 250 and written == read
        for _ in range(3):
            assert main(["sync", *args]) == 0
        store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=datetime.now(UTC))
        runs = store.runs("sf")
        assert [r.mode for r in runs] == ["incremental"] * 3 + ["full"]
        assert [r.counts.written for r in runs[:3]] == [0, 0, 0]
        assert store.applied_count("sf", "lead") == written
        assert sb.client_secret not in capsys.readouterr().out
        # every command's calls count: setup's and the runs'
        today = recorded(store)
        assert today == sb.api_used
        assert main(["status", *args]) == 0
        out = capsys.readouterr().out
        assert (
            f"API calls in the last 24 h: {today:,} of 20% of the org's daily allowance (the "
            in out
        )
        assert "`status --live` asks Salesforce" in out
        assert main(["status", "--live", *args]) == 0
        out = capsys.readouterr().out
        org = re.search(
            rf"API calls in the last 24 h: {today + 1:,} of 20,000 \(20% of the org's 100,000 "
            r"daily calls; the whole org used ([\d,]+) in its rolling 24 hours\)",
            out,
        )
        assert org is not None, out
        assert int(org.group(1).replace(",", "")) == sb.api_used  # the limits call included
        store.close()
    finally:
        sb.stop()


#: Long before any test: every recorded call counts.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def recorded(store: StateStore) -> int:
    """The API calls every command recorded for connection `sf`."""
    return store.api_calls_since("sf", EPOCH)


def by_command(store: StateStore) -> str:
    """`setup 18, sync 9, status 1`: how `status` splits them."""
    return ", ".join(f"{c} {n:,}" for c, n in store.api_calls_by_command("sf", EPOCH).items())


def test_status_live_reports_a_spent_org_allowance_as_part_of_the_status(tmp_path, capsys):
    sb = SalesforceSandbox(leads=20).start()
    try:
        block = salesforce_block(sb).removesuffix("}") + ", daily_share: 0.00896}"
        config = config_file(
            tmp_path, "sf", "salesforce", block, [f"{{kind: lead, model: {MODEL}}}"]
        )
        args = ("--config", str(config))
        assert main(["setup", "--apply", *args]) == 0
        assert main(["sync", "--full", *args]) == 0
        state_url = f"sqlite:///{tmp_path / 'state.db'}"
        capsys.readouterr()
        assert main(["status", "--live", *args]) == 0
        out = capsys.readouterr().out
        store = StateStore.open(state_url, now=datetime.now(UTC))
        used, split = recorded(store), by_command(store)
        store.close()
        # the cap is floor(0.00896 x 100,000) of the decimal written, and the share shown whole
        assert (
            f"API calls in the last 24 h: {used:,} of 896 (0.896% of the org's 100,000 daily "
            f"calls; the whole org used {sb.api_used:,} in its rolling 24 hours); by command: "
            f"{split}   "
        ) in out
        sb.set_usage(100_000)  # other clients spent the org's allowance
        capsys.readouterr()
        assert main(["status", "--live", *args]) == 0
        captured = capsys.readouterr()
        store = StateStore.open(state_url, now=datetime.now(UTC))
        used, split = recorded(store), by_command(store)
        store.close()
        assert captured.err == ""
        assert captured.out.splitlines()[0] == "== sf (salesforce: lead)"
        assert (
            f"API calls in the last 24 h: {used:,} of 896 (0.896% of the org's 100,000 daily "
            "calls); the org's whole allowance is spent (100,000 of 100,000 calls in its rolling "
            "24 hours, other clients' included): Salesforce refuses calls until enough of them "
            "are 24 hours old, and runs ask it again 15 minutes after each refusal; by command: "
            f"{split}   outbox pending: 0   dead letters: 0\n"
        ) in captured.out
    finally:
        sb.stop()
