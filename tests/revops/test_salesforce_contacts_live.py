"""Salesforce Contact models through `backtest` and `calibrate` against the Salesforce sandbox
with buying committees: the outcome is a contact role (`OpportunityContactRole`) on a won
Opportunity, dated by the earliest won `CloseDate`; each Contact is scored at its cutoff, with
its Account as the account model scored it then and its `Title` rewound through
`ContactHistory`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from cli.main import main
from config.loader import load_config
from config.model_loader import load_model
from connectors.salesforce import SalesforceConnector, SalesforceOptions
from connectors.salesforce.client import SalesforceApi
from revops import backtest as bt
from revops.crm_outcomes import labelled_from_crm
from sandbox.salesforce import SalesforceSandbox
from scoring.model import ScoringModel
from sync.connections import build_connector
from tests.revops.test_live import run
from tests.revops.test_salesforce_accounts_live import sandbox_config

NOW = "2026-11-20T12:00:00Z"
AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
LEADS, ACCOUNT_COUNT = 2000, 300

CONTACTS = Path(__file__).resolve().parents[2] / "config/examples/models/salesforce-contacts.yaml"


@dataclass
class Live:
    sandbox: SalesforceSandbox
    config: Path
    model: Path
    tmp: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("sf-contacts")
    sandbox = SalesforceSandbox(
        leads=LEADS, accounts=ACCOUNT_COUNT, buying_committees=True, now=AT
    ).start()
    model = CONTACTS
    config = sandbox_config(sandbox, tmp, f"{{kind: contact, model: {model}}}")
    try:
        assert main(["setup", "--config", str(config), "--apply"]) == 0
        yield Live(sandbox, config, model, tmp)
    finally:
        sandbox.stop()


def won_roles(sandbox: SalesforceSandbox) -> dict[str, datetime]:
    """Per Contact with a role on a won Opportunity, the earliest such CloseDate, from the
    sandbox's own tables."""
    opportunities = sandbox.store.table("Opportunity")
    won: dict[str, datetime] = {}
    for role in sandbox.store.table("OpportunityContactRole").values():
        deal = opportunities[role["OpportunityId"]]
        if deal["IsWon"]:
            closed = datetime.fromisoformat(deal["CloseDate"]).replace(tzinfo=UTC)
            contact = role["ContactId"]
            won[contact] = min(closed, won.get(contact, closed))
    return won


def connector_of(live: Live) -> SalesforceConnector:
    connector = build_connector(load_config(live.config).settings.connections[0])
    assert isinstance(connector, SalesforceConnector)
    return connector


def queries(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(after.get(k, 0) - before.get(k, 0) for k in ("query", "query_more"))


def test_won_contact_roles_are_read_in_one_query(live):
    """Every Contact with a role on a won Opportunity, dated by its earliest won close: the
    converted leads' Contacts (the primary role of their conversion's Opportunity) and the
    buying committees' people on won Accounts. One query for the whole org (its 87 won roles
    fit a 2,000-row page), and one query by ContactId for a few Contacts."""
    truth = won_roles(live.sandbox)
    roles = live.sandbox.store.table("OpportunityContactRole").values()
    primary = sum(1 for r in roles if r["IsPrimary"])
    deals = {r["OpportunityId"] for r in roles}
    contacts = list(live.sandbox.store.table("Contact"))
    # one primary role per Opportunity with roles
    assert (len(contacts), len(roles), len(deals), primary, len(truth)) == (557, 167, 141, 141, 87)
    connector = connector_of(live)
    try:
        before = dict(connector.usage.by_endpoint)
        won = connector.won_deals("contact", contacts)
        middle = dict(connector.usage.by_endpoint)
        few = connector.won_deals("contact", contacts[:150])
        after = dict(connector.usage.by_endpoint)
    finally:
        connector.close()
    assert won == truth
    assert few == {c: d for c, d in truth.items() if c in contacts[:150]}
    assert (queries(before, middle), queries(middle, after)) == (1, 1)
    converted = {
        str(lead["ConvertedContactId"])
        for lead in live.sandbox.store.table("Lead").values()
        if lead.get("IsConverted")
    }
    assert len(converted & set(won)) == 34
    dates = [d for d in won.values() if d is not None]
    assert len(dates) == len(won)
    assert (min(dates), max(dates)) == (
        datetime(2026, 8, 22, tzinfo=UTC),
        datetime(2026, 11, 20, tzinfo=UTC),
    )


def test_backtest_of_a_contact_model(live, capsys):
    """Each Contact is scored at its cutoff (a won one at its earliest won close), its Account
    as the account model scored it then: the committee's engagement and the Account in market
    rank the Contacts on won deals first; what they did after the win is left out."""
    code, out = run(
        capsys, "backtest", "--config", str(live.config), "--kind", "contact", "--as-of", NOW,
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert (result["records"], result["converted"], result["disqualified"]) == (557, 87, 0)
    assert (round(result["auc"], 3), round(result["fit_auc"], 3)) == (0.738, 0.604)
    assert round(result["interest_auc"], 3) == 0.737
    assert (result["events_after_outcome"], result["records_after_outcome"]) == (271, 136)
    rules = {r["rule"]: r for r in result["rules"]}
    engagement = ["Account in market", "Meeting held", "Call connected", "Campaign response"]
    assert [(rules[n]["support"], round(rules[n]["lift"], 2)) for n in engagement] == [
        (24, 5.79),
        (33, 4.44),
        (32, 3.42),
        (35, 4.45),
    ]
    assert result["point_in_time"][:2] == [
        "each record scored at its own cutoff: its outcome date; records without one 115 days "
        "after creation; none after 2026-11-20T12:00:00+00:00",
        "no history in the CRM for: Email, MailingCountry, Title (current values used; they may "
        "have changed after the outcome)",
    ]
    assert result["point_in_time"][2].startswith(
        "account. rules read each person's account as scored by salesforce-b2b-accounts at the "
        "person's own cutoff"
    )
    assert result["warnings"] == []


def test_calibrate_proposes_a_contact_model(live, capsys):
    out_path = live.tmp / "proposal.yaml"
    code, out = run(
        capsys, "calibrate", "--config", str(live.config), "--kind", "contact", "--as-of", NOW,
        "--out", str(out_path),
    )  # fmt: skip
    assert code == 0
    assert "held-out ROC AUC: current 0.737 -> proposed 0.782" in out
    assert "object: contact" in out_path.read_text()


def test_a_title_changed_after_the_win_is_rewound_through_contact_history(tmp_path):
    """Title is history-tracked on Contact in this org: a won Contact whose Title an admin
    changes today is scored with the Title it had at its cutoff, and reading the history costs
    one query more (every ContactHistory row fits one page)."""
    sandbox = SalesforceSandbox(leads=400, accounts=60, buying_committees=True, now=AT).start()
    try:
        contact, closed = min(won_roles(sandbox).items())
        before = sandbox.store.table("Contact")[contact]["Title"]
        options = SalesforceOptions(
            login_url=sandbox.url,
            client_id=sandbox.client_id,
            client_secret=SecretStr(sandbox.client_secret),
            ca_bundle=sandbox.ca_file,
        )
        admin = SalesforceApi(options, sleep=lambda _: None)
        try:
            admin.rest("update", f"sobjects/Contact/{contact}", method="PATCH",
                       body={"Title": "Chief Revenue Officer"})  # fmt: skip
        finally:
            admin.session.close()
        [row] = sandbox.store.table("ContactHistory").values()
        assert (row["ContactId"], row["OldValue"], row["NewValue"]) == (
            contact,
            before,
            "Chief Revenue Officer",
        )
        model = load_model_text(tmp_path)
        connector = SalesforceConnector(options, sleep=lambda _: None)
        try:
            start = dict(connector.usage.by_endpoint)
            rewound = labelled_from_crm(
                connector, "salesforce", "contact", model, as_of=AT, now=AT, history=connector
            )
            middle = dict(connector.usage.by_endpoint)
            today = labelled_from_crm(connector, "salesforce", "contact", model, as_of=AT, now=AT)
            end = dict(connector.usage.by_endpoint)
        finally:
            connector.close()
    finally:
        sandbox.stop()
    at = rewound.records.index(next(r for r in rewound.records if r.id == contact))
    assert (rewound.outcomes[at], rewound.outcome_dates[at]) == (True, closed)
    assert rewound.records[at].properties["Title"] == before
    assert next(r for r in today.records if r.id == contact).properties["Title"] == (
        "Chief Revenue Officer"
    )
    # the Contacts with their activity, then the won roles in one query; the history one more
    assert (queries(start, middle), queries(middle, end)) == (8, 7)
    assert bt.run(rewound, model, outcome="won").records == len(rewound.records)


def load_model_text(tmp: Path) -> ScoringModel:
    return load_model(CONTACTS)
