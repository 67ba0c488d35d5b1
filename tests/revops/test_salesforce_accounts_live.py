"""Salesforce account models through the commands against the Salesforce sandbox with buying
committees: `setup` and `sync` of leads then accounts, `explain` of an Account (its people and
how each was tied to it) and of a Lead (its domain match), `history`, `preview`, and `backtest` /
`calibrate` against the won Opportunities that the breadth of engagement predicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.commands.runs import open_store
from cli.main import main
from config.loader import load_config
from config.model_loader import load_model
from connectors.salesforce import SalesforceConnector
from revops import backtest as bt
from revops.crm_outcomes import labelled_from_crm
from revops.evaluation import roc_auc
from sandbox.salesforce import SalesforceSandbox
from sync.connections import build_connector
from tests.revops.test_live import run

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = ROOT / "config/examples/models/salesforce-leads.yaml"
ACCOUNTS = ROOT / "config/examples/models/salesforce-accounts.yaml"
NOW = "2026-11-20T12:00:00Z"
LEADS, ACCOUNT_COUNT = 2000, 300


@dataclass
class Live:
    sandbox: SalesforceSandbox
    config: Path
    tmp: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("sf-accounts")
    sandbox = SalesforceSandbox(
        leads=LEADS,
        accounts=ACCOUNT_COUNT,
        buying_committees=True,
        now=datetime(2026, 11, 20, 12, tzinfo=UTC),
    ).start()
    config = sandbox_config(sandbox, tmp, f"{{kind: lead, model: {PEOPLE}}}")
    try:
        assert main(["setup", "--config", str(config), "--apply"]) == 0
        assert main(["sync", "--config", str(config), "--full", "--now", NOW]) == 0
        yield Live(sandbox, config, tmp)
    finally:
        sandbox.stop()


def sandbox_config(sandbox: SalesforceSandbox, tmp: Path, people: str) -> Path:
    """A config file in `tmp` with one connection `sf` to `sandbox`: the `people` object entry
    and the example account model."""
    config = tmp / "leadsync.yaml"
    config.write_text(
        f"state_url: sqlite:///{tmp}/state.db\n"
        "connections:\n"
        "  - name: sf\n"
        "    crm: salesforce\n"
        f'    salesforce: {{login_url: "{sandbox.url}", client_id: "{sandbox.client_id}", '
        f'client_secret: "{sandbox.client_secret}", ca_bundle: "{sandbox.ca_file}"}}\n'
        f"    objects: [{people}, {{kind: account, model: {ACCOUNTS}}}]\n"
    )
    return config


def account_scores(live: Live) -> dict[str, tuple[int, int]]:
    store = open_store(load_config(live.config).settings)
    try:
        ids = list(live.sandbox.store.table("Account"))
        found = store.previous_scores("sf", "account", ids)
        return {rid: (r.interest, r.score) for rid, r in found.items()}
    finally:
        store.close()


def test_sync_scores_every_account_and_breadth_predicts_the_hidden_won_opportunities(live):
    scores = account_scores(live)
    assert len(scores) == len(live.sandbox.store.table("Account"))
    truth = live.sandbox.store.account_outcomes
    ids = sorted(i for i in scores if i in truth)
    won = [truth[i].won for i in ids]
    interest_auc = roc_auc([scores[i][0] for i in ids], won)
    assert interest_auc is not None and round(interest_auc, 3) == 0.840


def committee_account(live: Live) -> tuple[str, str, str, str]:
    """(Account id, its domain, one of its Contacts, one of its Leads on the plain domain) of
    an Account no other Account shares a domain with."""
    store = live.sandbox.store
    domains: dict[str, list[str]] = {}
    for account_id, row in store.table("Account").items():
        if row.get("Website"):
            domains.setdefault(str(row["Website"]).removeprefix("https://www."), []).append(
                account_id
            )
    contacts = {str(r.get("AccountId")): i for i, r in store.table("Contact").items()}
    leads = {
        str(r["Email"]).split("@")[1]: i
        for i, r in store.table("Lead").items()
        if not r.get("IsConverted") and "@" in str(r.get("Email"))
    }
    for domain, ids in sorted(domains.items()):
        if len(ids) == 1 and ids[0] in contacts and domain in leads:
            return ids[0], domain, contacts[ids[0]], leads[domain]
    raise AssertionError("no Account with a Contact and a Lead on its domain")


def test_explain_an_account_shows_how_each_person_was_tied_to_it(live, capsys):
    account_id, domain, contact_id, lead_id = committee_account(live)
    code, out = run(
        capsys, "explain", account_id, "--config", str(live.config), "--kind", "account",
        "--now", NOW,
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"record {account_id}  model salesforce-b2b-accounts")
    [contact] = [line for line in lines if line.startswith(f"  {contact_id} ")]
    assert contact.endswith("  via Contact.AccountId")
    [lead] = [line for line in lines if line.startswith(f"  {lead_id} ")]
    assert lead.endswith(f"  via Lead: email domain {domain}")


def test_explain_a_lead_shows_its_domain_match(live, capsys):
    account_id, domain, _, lead_id = committee_account(live)
    code, out = run(
        capsys, "explain", lead_id, "--config", str(live.config), "--kind", "lead", "--now", NOW
    )
    assert code == 0
    assert f"\naccount: {account_id} (email domain {domain})\n" in out


def test_history_of_an_account(live, capsys):
    account = next(iter(account_scores(live)))
    code, out = run(capsys, "history", account, "--config", str(live.config), "--kind", "account")
    assert code == 0
    assert out.splitlines()[0] == f"score history of {account}: 1 write(s)"


def test_the_kind_comes_from_the_id_prefix_when_no_kind_is_given(live, capsys):
    account_id, domain, _, lead_id = committee_account(live)
    args = ("--config", str(live.config), "--now", NOW)
    code, out = run(capsys, "explain", lead_id, *args)
    assert code == 0
    assert out.splitlines()[0].startswith(f"record {lead_id}  model ")
    assert f"\naccount: {account_id} (email domain {domain})\n" in out
    # a 15-character id from a report names its kind as well
    code, out = run(capsys, "explain", account_id[:15], *args)
    assert code == 0
    assert out.splitlines()[0].startswith(f"record {account_id}  model salesforce-b2b-accounts")
    code, out = run(capsys, "history", account_id, "--config", str(live.config))
    assert (code, out.splitlines()[0]) == (0, f"score history of {account_id}: 1 write(s)")
    # text that names no kind still asks for one
    assert main(["history", "nope", "--config", str(live.config)]) == 2
    assert capsys.readouterr().err.endswith("; pick one with --kind\n")


def test_preview_of_an_account_model_change(live, capsys):
    candidate = live.tmp / "candidate.yaml"
    text = ACCOUNTS.read_text()
    assert text.count("{min: 5, points: 40}") == 1
    candidate.write_text(text.replace("{min: 5, points: 40}", "{min: 5, points: 10}"))
    code, out = run(
        capsys, "preview", "--config", str(live.config), "--model", str(candidate), "--kind",
        "account", "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert f"on {len(account_scores(live))} records from sf" in out
    assert any(line.startswith("Buying committee") for line in out.splitlines())
    # without --kind, the candidate's own object names the kind
    code, again = run(
        capsys, "preview", "--config", str(live.config), "--model", str(candidate), "--now", NOW
    )
    assert (code, again) == (0, out)
    code, tried = run(capsys, "backtest", "--config", str(live.config), "--model", str(candidate),
                      "--format", "json")  # fmt: skip
    assert (code, json.loads(tried)["records"]) == (0, len(account_scores(live)))


def test_backtest_reads_won_opportunities_and_breadth_predicts_them(live, capsys):
    """The outcome of a Salesforce account model is a won Opportunity on the Account, each
    Account scored at its cutoff: won ones at their close date, so the activity after the win
    is left out and the activity before it counts. The example model ranks the won Accounts
    first, and every engagement rule (meetings, each breadth band) fires mostly on won ones."""
    truth = live.sandbox.store.account_outcomes
    code, out = run(
        capsys, "backtest", "--config", str(live.config), "--kind", "account", "--as-of", NOW,
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    result = json.loads(out)
    # 300 prospect Accounts (74 won, as the committees drew) and 57 Accounts created by
    # converting a lead (34 with the conversion's Opportunity won by now); the converted
    # leads' activity is on their Contacts, and no Account is a customer before its win
    assert (result["records"], result["converted"], result["disqualified"]) == (357, 108, 0)
    assert (len(truth), sum(o.won for o in truth.values())) == (300, 74)
    # the hidden outcome the committees drew: the more people engaged, the likelier the win
    breadth = roc_auc([o.committee for o in truth.values()], [o.won for o in truth.values()])
    assert breadth is not None and round(breadth, 3) == 0.887
    assert (round(result["auc"], 3), round(result["fit_auc"], 3)) == (0.596, 0.496)
    assert round(result["interest_auc"], 3) == 0.734
    rules = {r["rule"]: r for r in result["rules"]}
    engagement = ["Meetings held", *(f"Buying committee [{b}]" for b in ("2-2", "3-4", "5+"))]
    assert [
        (rules[name]["support"], round(rules[name]["lift"], 2), rules[name]["contradicts"])
        for name in engagement
    ] == [(33, 4.13, False), (28, 3.18, False), (18, 3.52, False), (5, 3.42, False)]
    assert result["events_after_outcome"] == 255
    # Type is history-tracked in the org: every won Account became a customer at its close,
    # so it is taken as it was before (no Account disqualified) and flagged as leaking
    assert result["point_in_time"][1:] == [
        "property history from the CRM for: Type",
        "no history in the CRM for: AnnualRevenue, BillingCountry, Industry, NumberOfEmployees "
        "(current values used; they may have changed after the outcome)",
    ]
    late = [w for w in result["warnings"] if w["kind"] == "set_after_outcome"]
    assert [(w["subject"], w["explanation"]) for w in late] == [
        (
            "Type",
            "the CRM's history shows the value was empty before the outcome or set by it for "
            "108 of 108 converted records: it records the sale, not a sign of it",
        )
    ]
    # the disqualify check reading Type is named with the rules, though it scores no points
    assert result["leaky_rules"] == ["Existing customer"]


def test_backtest_on_the_prospect_accounts_alone(live):
    """Over the Accounts the committees decide, the engagement breadth predicts the wins, each
    Account's `Type` rewound through `AccountHistory` (one query more than the read without)."""
    config = load_config(live.config)
    model = load_model(ACCOUNTS)
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    connector = build_connector(config.settings.connections[0])
    assert isinstance(connector, SalesforceConnector)
    try:
        before = dict(connector.usage.by_endpoint)
        labelled = labelled_from_crm(
            connector, "salesforce", "account", model, as_of=now, now=now, history=connector
        )
        middle = dict(connector.usage.by_endpoint)
        today = labelled_from_crm(connector, "salesforce", "account", model, as_of=now, now=now)
        after = dict(connector.usage.by_endpoint)
    finally:
        connector.close()
    truth = live.sandbox.store.account_outcomes
    keep = [i for i, record in enumerate(labelled.records) if record.id in truth]
    prospects = replace(
        labelled,
        records=tuple(labelled.records[i] for i in keep),
        outcomes=tuple(labelled.outcomes[i] for i in keep),
        outcome_dates=tuple(labelled.outcome_dates[i] for i in keep),
        cutoffs=tuple(labelled.cutoffs[i] for i in keep),
    )
    assert [truth[r.id].won for r in prospects.records] == list(prospects.outcomes)
    result = bt.run(prospects, model, outcome="won")
    assert (round(result.auc or 0, 3), round(result.interest_auc or 0, 3)) == (0.661, 0.836)
    # the history of Type is one more query (every Account's rows fit one 2,000-row page)
    queries = [
        sum(b.get(k, 0) - a.get(k, 0) for k in ("query", "query_more"))
        for a, b in ((before, middle), (middle, after))
    ]
    assert queries == [17, 16]
    # A won Account is a customer today (Type set at its win) and a prospect at its cutoff.
    won = next(r for r in prospects.records if truth[r.id].won)
    accounts = live.sandbox.store.table("Account")
    assert (accounts[won.id]["Type"], won.properties["Type"]) == ("Customer - Direct", "Prospect")
    # Without the history every won Account (108 of 357) reads Type as today and the model's
    # "Existing customer" rule disqualifies it: the ranking turns upside down.
    current = next(r for r in today.records if r.id == won.id)
    assert current.properties["Type"] == "Customer - Direct"
    leaked = bt.run(today, model, outcome="won")
    assert (leaked.disqualified, round(leaked.auc or 0, 3)) == (108, 0.034)


def test_calibrate_proposes_an_account_model(live, capsys):
    out_path = live.tmp / "proposal.yaml"
    code, out = run(
        capsys, "calibrate", "--config", str(live.config), "--kind", "account", "--as-of", NOW,
        "--out", str(out_path),
    )  # fmt: skip
    assert code == 0
    assert "held-out ROC AUC: current 0.596 -> proposed 0.756" in out
    lines = out.splitlines()
    start = lines.index(
        "checks reading a leaky property (kept as they are; calibrate fits points only):"
    )
    assert lines[start + 1 : start + 3] == [
        "  Existing customer",
        "    Type: the CRM's history shows the value was empty before the outcome or set by it "
        "for 108 of 108 converted records: it records the sale, not a sign of it",
    ]
    proposal = out_path.read_text()
    assert "object: account" in proposal
    assert "        - {min: 5, points: 40}" not in proposal


def test_explain_a_won_account_before_its_win_rewinds_type(live, capsys):
    """At a moment before its win, a won Account reads the Type it had then (AccountHistory);
    its untracked fields keep today's values, and explain says which is which."""
    store = live.sandbox.store
    row = next(
        r for r in store.table("AccountHistory").values()
        if store.table("Account")[r["AccountId"]]["Type"] == "Customer - Direct"
    )  # fmt: skip
    before = datetime.fromtimestamp(row["CreatedDate"] - 86_400, UTC).isoformat()
    args = ["explain", row["AccountId"], "--config", str(live.config), "--kind", "account"]
    code, out = run(capsys, *args, "--now", before)
    assert code == 0
    tail = out.splitlines()[-4:]
    assert tail[0] == f"point in time: the record as it was at {before}"
    assert tail[1:3] == [
        "  values from the CRM's property history: Type",
        "  no history in the CRM for: AnnualRevenue, BillingCountry, Industry, NumberOfEmployees "
        "(current values used; they may have changed since)",
    ]
    assert "Already a customer" not in out
    code, out = run(capsys, *args, "--now", NOW)
    assert "Already a customer" in out
