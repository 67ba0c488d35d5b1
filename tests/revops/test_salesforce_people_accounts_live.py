"""Salesforce people through the model tools against the sandbox with buying committees:
`explain` of a converted Lead carries the activity of the Contact it became, and `preview` of a
Contact model with `account.` rules gives each Contact its Account's stored result."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from cli.commands.runs import open_store
from config.loader import load_config
from scoring.types import EVENT_TYPES
from sync.connections import build_connector
from tests.revops import test_salesforce_accounts_live as accounts
from tests.revops.test_live import run
from tests.revops.test_salesforce_accounts_live import ACCOUNTS, NOW, PEOPLE, Live

#: `tests.revops.test_salesforce_accounts_live`'s sandbox, set up and synced (once here)
live = accounts.live

CONTACTS = """name: sf-contacts
object: contact
fit:
  rules:
    - {name: Senior title, if: {Title: {contains: [VP, Director, Chief]}}, points: 20}
"""
ACCOUNT_RULES = """    - {name: A-grade account, if: {account.grade: A}, points: 10}
    - {name: Account fit 50+, if: {account.fit: {gte: 50}}, points: 5}
"""


@pytest.fixture(scope="module")
def contacts_config(live: Live) -> tuple[Path, Path]:
    """A config scoring the same connection's Contacts too (the Account results stored by the
    sync stay where they are), and a candidate Contact model with account rules."""
    model = live.tmp / "sf-contacts.yaml"
    model.write_text(CONTACTS)
    candidate = live.tmp / "sf-contacts-candidate.yaml"
    candidate.write_text(CONTACTS + ACCOUNT_RULES)
    config = live.tmp / "with-contacts.yaml"
    text = live.config.read_text()
    objects = f"[{{kind: lead, model: {PEOPLE}}}, {{kind: account, model: {ACCOUNTS}}}]"
    assert text.count(objects) == 1
    config.write_text(
        text.replace(
            objects,
            f"[{{kind: lead, model: {PEOPLE}}}, {{kind: account, model: {ACCOUNTS}}}, "
            f"{{kind: contact, model: {model}}}]",
        )
    )
    return config, candidate


def test_preview_gives_each_contact_its_accounts_stored_result(live, contacts_config, capsys):
    config, candidate = contacts_config
    store = open_store(load_config(live.config).settings)
    try:
        found = store.previous_scores("sf", "account", list(live.sandbox.store.table("Account")))
    finally:
        store.close()
    contacts = list(live.sandbox.store.table("Contact").values())
    owners = [found.get(c.get("AccountId") or "") for c in contacts]
    a_grade = sum(1 for r in owners if r is not None and r.grade == "A")
    fit_50 = sum(1 for r in owners if r is not None and r.fit >= 50)
    # the won Accounts are customers since their win: the account model disqualifies them
    assert (len(contacts), a_grade, fit_50) == (557, 31, 216)
    code, out = run(
        capsys, "preview", "--config", str(config), "--model", str(candidate), "--kind",
        "contact", "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert f"on {len(contacts)} records from sf (contact records read from the CRM)" in out
    rows = {line.split("  ")[0]: line.split()[-4:] for line in out.splitlines()}
    assert rows["A-grade account"] == ["0.00", "0.56", "+0.56", "31"]
    assert f"{10 * a_grade / len(contacts):.2f}" == "0.56"
    assert rows["Account fit 50+"] == ["0.00", "1.94", "+1.94", "216"]
    assert f"{5 * fit_50 / len(contacts):.2f}" == "1.94"


def test_explain_of_a_converted_lead_lists_its_contacts_activity(live, capsys):
    leads = live.sandbox.store.table("Lead")
    settings = load_config(live.config).settings.connections[0]
    connector = build_connector(settings)
    try:
        converted = [(i, r["ConvertedContactId"]) for i, r in leads.items() if r["IsConverted"]]
        contacts = {
            r.id: r
            for r in connector.fetch("contact", [c for _, c in converted], [], list(EVENT_TYPES))
        }
    finally:
        connector.close()
    lead_id, contact_id = next((i, c) for i, c in converted if len(contacts[c].events) >= 2)
    events = Counter(e.type for e in contacts[contact_id].events)
    code, out = run(
        capsys, "explain", lead_id, "--config", str(live.config), "--kind", "lead", "--now", NOW,
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    counts = {
        r["rule"]: r["count"] for r in data["rules"] if r["count"] and r["kind"] != "condition"
    }
    # conversion moved the lead's activity to its Contact: none is left on the lead itself
    store = live.sandbox.store
    assert [
        r
        for name in ("Task", "Event")
        for r in store.table(name).values()
        if r.get("WhoId") == lead_id
    ] == []
    assert (lead_id, contact_id) == ("00Q5g000000000dEAA", "0035g0000000002AAA")
    assert events == {"meeting": 2, "call": 1, "email_click": 1, "email_reply": 1, "email_open": 1}
    # the email open is 265 days old, outside its 90-day rule
    assert counts == {"Meeting held": 2, "Call connected": 1, "Email click": 1, "Email reply": 1}
    assert data["result"]["interest"] == 36
