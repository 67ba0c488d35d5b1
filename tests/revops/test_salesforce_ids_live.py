"""`explain` and `history` on Salesforce take record ids as users copy them: 15 characters from a
Classic URL or a report export, or 18 from the API; anything else (or another kind's id) is
refused before any call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from sandbox.salesforce import SalesforceSandbox
from tests.sync.account_groups_env import config_file, salesforce_block, set_up_and_synced

ROOT = Path(__file__).resolve().parents[2]
LEADS = ROOT / "config/examples/models/salesforce-leads.yaml"
NOW = "2026-11-20T12:00:00Z"
LEAD = "00Q5g0000000002EAA"  # the sandbox's second Lead, as the API returns it


@dataclass
class Live:
    sandbox: SalesforceSandbox
    config: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("sf-ids")
    sandbox = SalesforceSandbox(leads=20, now=datetime(2026, 11, 20, 12, tzinfo=UTC)).start()
    config = config_file(
        tmp, "sf", "salesforce", salesforce_block(sandbox), [f"{{kind: lead, model: {LEADS}}}"]
    )
    try:
        set_up_and_synced(config, NOW)
        yield Live(sandbox, config)
    finally:
        sandbox.stop()


def out_err(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("given", [LEAD[:15], LEAD, LEAD.lower()])
def test_explain_and_history_find_the_lead_by_its_15_or_18_character_id(live, capsys, given):
    config = ("--config", str(live.config))
    code, out, err = out_err(capsys, "explain", given, *config, "--now", NOW)
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith(f"record {LEAD}  model salesforce-b2b-leads (")
    code, out, err = out_err(capsys, "history", given, *config)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"score history of {LEAD}: 1 write(s)"


@pytest.mark.parametrize("command", ["explain", "history"])
@pytest.mark.parametrize(
    ("given", "error"),
    [
        ("garbage", "error: 'garbage': not a Salesforce id: 15 or 18 letters/digits\n"),
        (
            "00Q5g0000000002EA9",
            "error: '00Q5g0000000002EA9': not a Salesforce id: the last 3 of 18 characters are "
            "letters or digits 0-5\n",
        ),
        # a Contact's id given for the connection's lead kind (Account ids begin 001)
        (
            "0035g0000000002",
            "error: '0035g0000000002' is a contact id (prefix 003), not a lead's (00Q): give "
            "--kind contact\n",
        ),
    ],
)
def test_what_is_no_salesforce_id_is_a_usage_error_without_a_call(
    live, capsys, command, given, error
):
    before = live.sandbox.counters["requests"]
    code, out, err = out_err(capsys, command, given, "--config", str(live.config))
    assert (code, out, err) == (2, "", error)
    assert live.sandbox.counters["requests"] == before
