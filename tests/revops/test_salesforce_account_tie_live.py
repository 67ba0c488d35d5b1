"""A Salesforce Contact that changed Accounts, explained at a past moment against the sandbox
(which tracks the Contact's Account, two history rows a change): its `account.` rules read the
Account `AccountId` named then, not the one it names today."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.commands.runs import open_store
from cli.main import main
from config.loader import load_config
from sandbox.salesforce import SalesforceSandbox
from tests.revops.test_salesforce_accounts_live import PEOPLE, sandbox_config
from tests.revops.test_salesforce_people_accounts_live import ACCOUNT_RULES, CONTACTS

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
MOVED = datetime(2026, 11, 25, 12, tzinfo=UTC)
RULES = ("A-grade account", "Account fit 50+")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SalesforceSandbox, Path]]:
    tmp = tmp_path_factory.mktemp("sf-tie")
    contacts = tmp / "sf-contacts.yaml"
    contacts.write_text(CONTACTS + ACCOUNT_RULES)
    sandbox = SalesforceSandbox(leads=400, accounts=60, buying_committees=True, now=NOW).start()
    config = sandbox_config(
        sandbox,
        tmp,
        f"{{kind: lead, model: {PEOPLE}}}, {{kind: contact, model: {contacts}}}",
    )
    try:
        assert main(["setup", "--config", str(config), "--apply"]) == 0
        assert main(["sync", "--config", str(config), "--full", "--now", NOW.isoformat()]) == 0
        yield sandbox, config
    finally:
        sandbox.stop()


def explained(capsys, config: Path, contact: str, at: datetime):
    """(whether each account rule matched, the tie line) of `explain` at `at`."""
    capsys.readouterr()
    code = main(
        ["explain", contact, "--config", str(config), "--kind", "contact",
         "--format", "json", "--now", at.isoformat()]
    )  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    matched = {r["rule"]: r["matched"] for r in data["rules"] if r["rule"] in RULES}
    return matched, data["point_in_time"]["accounts"][1]


def test_a_contact_that_moved_reads_the_account_it_belonged_to_then(world, capsys):
    sandbox, config = world
    store = sandbox.store
    state = open_store(load_config(config).settings)
    try:
        accounts = state.previous_scores("sf", "account", list(store.table("Account")))
    finally:
        state.close()
    contact, hot = next(
        (i, c["AccountId"])
        for i, c in sorted(store.table("Contact").items())
        if c.get("AccountId") in accounts and accounts[c["AccountId"]].fit >= 50
    )
    cold = min(
        (i for i, r in accounts.items() if r.grade == "D"), key=lambda i: (accounts[i].fit, i)
    )
    # no Account is A-grade in this small org: the fit rule tells the two apart
    assert (accounts[hot].fit >= 50, accounts[cold].fit < 50) == (True, True)
    today = "  the person's account is the one AccountId names today"
    # no Contact changed its Account yet: no ContactHistory row, so the tie is today's
    assert explained(capsys, config, contact, NOW) == (
        {"A-grade account": False, "Account fit 50+": True},
        today,
    )
    sandbox.move_contact(contact, cold, at=int(MOVED.timestamp()))
    tie = "  the person's account is the one AccountId named at that moment (its property history)"
    # before the move it still belonged to the first Account (the ids' history row)
    assert explained(capsys, config, contact, NOW) == (
        {"A-grade account": False, "Account fit 50+": True},
        tie,
    )
    assert explained(capsys, config, contact, datetime(2026, 11, 30, tzinfo=UTC)) == (
        {"A-grade account": False, "Account fit 50+": False},
        tie,
    )
