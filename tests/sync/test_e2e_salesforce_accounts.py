"""Account models end to end against the Salesforce sandbox: `setup` creates the Account fields,
a full run scores every Account from its Contacts and domain-matched Leads and writes the
scores back, and incremental runs recompute an Account when one of its people changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from config.model_loader import load_model, parse_model
from connectors.outputs import output_fields
from connectors.salesforce import SalesforceConnector, SalesforceOptions, members
from connectors.salesforce.queries import quote as soql_quote
from sandbox.salesforce import SalesforceSandbox
from scoring import score
from sync.engine import Engine, RunOptions
from sync.run import member_request
from sync.state.store import StateStore
from tests.sync.hubspot_env import ROOT

MODELS = ROOT / "config" / "examples" / "models"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
LEADS = 600


#: Contacts scoring 10 for an A- or B-grade Account, 1 for none, 0 otherwise.
LINKED_MODEL = parse_model(
    "name: linked\nobject: contact\nfit:\n  rules:\n"
    "    - {name: A- or B-grade account, if: {account.grade: {in: [A, B]}}, points: 10}\n"
    "    - {name: No account, if: {account.grade: {missing: true}}, points: 1}\n",
    "linked.yaml",
)


def account_outputs(sb: SalesforceSandbox, account_id: str) -> dict[str, object]:
    row = sb.store.table("Account")[account_id]
    return {n: row.get(f"Leadsync_{n.capitalize()}__c") for n in ("fit", "interest", "score")}


def connector(
    sb: SalesforceSandbox, *, batch_size: int = 2000, **kwargs: Any
) -> SalesforceConnector:
    """The connector of the sandbox's connected app (client credentials), reading `batch_size`
    rows a query page; `kwargs` go to `SalesforceConnector` (`checkpoint=`)."""
    return SalesforceConnector(
        SalesforceOptions(
            login_url=sb.url,
            client_id=sb.client_id,
            client_secret=SecretStr(sb.client_secret),
            ca_bundle=sb.ca_file,
            batch_size=batch_size,
        ),
        **kwargs,
    )


@pytest.fixture
def world(tmp_path):
    sb = SalesforceSandbox(leads=LEADS, now=NOW, buying_committees=True).start()
    conn = connector(sb)
    people = load_model(MODELS / "salesforce-leads.yaml")
    accounts = load_model(MODELS / "salesforce-accounts.yaml")
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=NOW)
    engine = Engine(store, conn, connection="sf", sleep=lambda s: True)
    yield sb, conn, engine, people, accounts
    conn.close()
    store.close()
    sb.stop()


def by_rep(sb: SalesforceSandbox, stamp: int) -> dict[str, object]:
    """Owner and stamps of a record a sales rep created at `stamp`."""
    rep = sb.store.sales_users[0]
    return {
        "OwnerId": rep,
        "CreatedDate": stamp,
        "CreatedById": rep,
        "LastModifiedDate": stamp,
        "LastModifiedById": rep,
        "SystemModstamp": stamp,
    }


def demo(sb: SalesforceSandbox, who_id: str, stamp: int) -> None:
    """A product demo with the person `who_id` an hour before `stamp` (caller holds the lock)."""
    sb.store.load(
        "Event",
        {
            "WhoId": who_id,
            "Subject": "Product demo",
            "Type": "Meeting",
            "EventSubtype": "Event",
            "StartDateTime": stamp - 3600,
            "ActivityDateTime": stamp - 3600,
            "EndDateTime": stamp - 1800,
            "DurationInMinutes": 30,
            **by_rep(sb, stamp),
        },
    )


def retitle(sb: SalesforceSandbox, contact_ids: list[str]) -> None:
    """A sales rep gives these Contacts a new title now."""
    with sb.store.lock:
        for contact_id in contact_ids:
            assert not sb.store.update(
                "Contact",
                contact_id,
                {"Title": "Chief Financial Officer"},
                user=sb.store.sales_users[0],
                auto_assign=False,
                stamp=sb.store.now(),
            )


def later(sb: SalesforceSandbox, minutes: int) -> datetime:
    """Move the org's clock `minutes` on and return the matching run time."""
    sb.store.advance(minutes * 60)
    return NOW + timedelta(seconds=sb.store.now() - sb.store.now_epoch)


def test_setup_creates_the_account_fields_once(world):
    sb, conn, _, _, accounts = world
    outputs = output_fields(accounts.grades, accounts.labels)
    report = conn.ensure_schema("account", outputs, apply=True)
    assert report.ok and {f.state for f in report.fields} == {"created"}
    again = conn.ensure_schema("account", outputs, apply=True)
    assert {f.state for f in again.fields} == {"ok"}
    account = sb.store.objects["account"]
    for name, kind in (("Fit", "double"), ("Grade", "picklist"), ("Reasons", "textarea")):
        definition = account.field(f"Leadsync_{name}__c")
        assert definition is not None and definition.type == kind


def test_accounts_are_scored_from_contacts_and_matched_leads_and_recomputed(world):
    sb, conn, engine, people, accounts = world
    for kind, model in (("lead", people), ("account", accounts)):
        outputs = output_fields(model.grades, model.labels)
        assert conn.ensure_schema(kind, outputs, apply=True).ok
    assert engine.run("lead", people, RunOptions(full=True), now=NOW).status == "succeeded"
    before = dict(conn.usage.by_endpoint)
    run = engine.run("account", accounts, RunOptions(full=True), now=NOW)
    ids = sorted(sb.store.table("Account"))
    assert (run.status, run.counts.read, run.counts.failed) == ("succeeded", len(ids), 0)
    calls = {k: d for k, v in conn.usage.by_endpoint.items() if (d := v - before.get(k, 0))}
    # one page of Accounts, one of Contacts and one of Leads (fewer than 2,000 rows each),
    # each people read with one query per activity object merge-joined (Task, Event,
    # CampaignMember, EmailMessageRelation and, at API 67.0, ListEmailSentResult), the describe
    # of Contact (setup and the lead run described Account and Lead, and found the list-email
    # results) and one sObject Collection for the written Accounts
    assert 0 < run.counts.written <= 200
    assert calls == {"query": 3 + 2 * 5, "describe": 1, "composite/sobjects": 1}
    assert run.counts.api_calls == sum(calls.values())

    # every written value is what scoring the Account with its people gives
    request = member_request(accounts)
    records = conn.fetch("account", ids, sorted(accounts.properties), [], members=request)
    assert [r.id for r in records] == ids
    engaged = leads = 0
    for record in records:
        result = score(record, accounts, NOW)
        assert account_outputs(sb, record.id) == {
            "fit": result.fit,
            "interest": result.interest,
            "score": result.score,
        }
        engaged += any("engaged in 14 days" in line for line in result.reasons)
        leads += sum(1 for m in record.members if m.kind == "lead")
    assert engaged >= 5 and leads >= 20  # the committees show up, Leads among the people

    # the run after a full run meets our own writes (echoes, skipped); then a quiet run
    engine.run("account", accounts, RunOptions(), now=later(sb, 10))
    quiet = engine.run("account", accounts, RunOptions(), now=later(sb, 10))
    assert (quiet.counts.read, quiet.counts.written) == (0, 0)

    # a Contact of one Account changes title: that Account alone is recomputed
    by_account: dict[str, list[str]] = {}
    for contact_id, row in sb.store.table("Contact").items():
        by_account.setdefault(str(row.get("AccountId")), []).append(contact_id)
    account_id = next(a for a in ids if len(by_account.get(a, [])) >= 2)
    contact_id = by_account[account_id][0]
    run_at = later(sb, 10)
    retitle(sb, [contact_id])
    changed = engine.run("account", accounts, RunOptions(), now=run_at)
    assert (changed.mode, changed.status, changed.counts.read) == ("incremental", "succeeded", 1)
    stored = engine.store.previous_scores("sf", "account", [account_id])[account_id]
    [record] = conn.fetch("account", [account_id], sorted(accounts.properties), [], members=request)
    assert stored.contributions == score(record, accounts, run_at).contributions


def test_an_account_gaining_a_lead_by_domain_is_recomputed_with_it(world):
    sb, conn, engine, _, accounts = world
    assert conn.ensure_schema(
        "account", output_fields(accounts.grades, accounts.labels), apply=True
    ).ok
    engine.run("account", accounts, RunOptions(full=True), now=NOW)
    for minutes in (10, 10):
        engine.run("account", accounts, RunOptions(), now=later(sb, minutes))
    request = member_request(accounts)
    ids = sorted(sb.store.table("Account"))
    records = conn.fetch("account", ids, sorted(accounts.properties), [], members=request)
    account = next(r for r in records if r.properties.get("Website"))
    domain = str(account.properties["Website"]).removeprefix("https://www.")
    before = {m.id for m in account.members}
    run_at = later(sb, 10)
    with sb.store.lock:
        stamp = sb.store.now()
        lead_id = sb.store.load(
            "Lead",
            {
                "FirstName": "Ada",
                "LastName": "Park",
                "Name": "Ada Park",
                "Email": f"Ada.Park@EU.{domain.upper()}",
                "Title": "VP Engineering",
                "Company": account.properties.get("Name") or "Acme",
                "Status": "Open - Not Contacted",
                "IsConverted": False,
                "HasOptedOutOfEmail": False,
                **by_rep(sb, stamp),
            },
        )
        demo(sb, lead_id, stamp)
    run = engine.run("account", accounts, RunOptions(), now=run_at)
    assert (run.status, run.counts.read, run.counts.written) == ("succeeded", 1, 1)
    [record] = conn.fetch("account", [account.id], sorted(accounts.properties), [], members=request)
    assert {m.id for m in record.members} == before | {lead_id}
    [lead] = [m for m in record.members if m.id == lead_id]
    assert lead.link == f"Lead: email domain {domain} (parent of eu.{domain})"
    stored = engine.store.previous_scores("sf", "account", [account.id])[account.id]
    assert stored.contributions == score(record, accounts, run_at).contributions
    meetings = next(c for c in stored.contributions if c.rule == "Meetings held")
    # 10 points a meeting, twice for a decision maker (the model's role weight)
    assert (meetings.points, meetings.detail) == (20.0, "1x meeting, 1 person: VP Engineering")
    # the incremental run wrote the new score to the Account's fields
    assert account_outputs(sb, account.id) == {
        "fit": stored.fit,
        "interest": stored.interest,
        "score": stored.score,
    }


def lead(sb: SalesforceSandbox, email: str | None, website: str | None = None) -> str:
    """A new unconverted Lead with this email and website."""
    with sb.store.lock:
        return sb.store.load(
            "Lead",
            {
                "LastName": "Doe",
                "Name": "Jo Doe",
                "Email": email,
                "Website": website,
                "Company": "Doe Inc",
                "Status": "Open - Not Contacted",
                "IsConverted": False,
                "HasOptedOutOfEmail": False,
                **by_rep(sb, sb.store.now()),
            },
        )


def account(sb: SalesforceSandbox, website: str | None) -> str:
    """A new prospect Account with this website."""
    with sb.store.lock:
        return sb.store.load(
            "Account", {"Name": "Doe", "Website": website, **by_rep(sb, sb.store.now())}
        )


def test_leads_are_matched_by_the_domain_rule_through_the_connector(world):
    sb, conn, _, _, accounts = world
    acme = account(sb, "HTTPS://WWW.Acme-Rockets.example/about")
    twins = [account(sb, "twin-co.example"), account(sb, "www.twin-co.example")]
    bare = account(sb, None)
    free = account(sb, "https://www.gmail.com")  # a sole trader: never takes anyone
    cases = {
        lead(sb, "jo@acme-rockets.example"): "email domain acme-rockets.example",
        lead(sb, "JO@ACME-ROCKETS.EXAMPLE"): "email domain acme-rockets.example",
        lead(sb, "jo@www.acme-rockets.example"): "email domain acme-rockets.example",
        lead(sb, "jo@eu.acme-rockets.example"): (
            "email domain acme-rockets.example (parent of eu.acme-rockets.example)"
        ),
        lead(sb, "jo@gmail.com", "www.acme-rockets.example"): (
            "website domain acme-rockets.example"
        ),
    }
    unmatched = {
        lead(sb, "jo@gmail.com"): ("not matched: email domain gmail.com is a free-email domain"),
        lead(sb, "jo@twin-co.example"): (
            f"not matched: 2 accounts share twin-co.example ({twins[0]}, {twins[1]})"
        ),
        lead(sb, None): "not matched: no email or website domain",
    }
    request = member_request(accounts)
    found = conn.fetch(
        "account", [acme, *twins, bare, free], sorted(accounts.properties), [], members=request
    )
    links = {r.id: {m.id: m.link for m in r.members} for r in found}
    assert links == {
        acme: {i: f"Lead: {why}" for i, why in cases.items()},
        twins[0]: {},
        twins[1]: {},
        bare: {},
        free: {},
    }
    assert conn.account_links("lead", [*cases, *unmatched]) == {
        **{i: f"{acme} ({why})" for i, why in cases.items()},
        **unmatched,
    }


def test_domains_are_matched_up_to_the_registered_domain_never_a_public_suffix(world, monkeypatch):
    sb, conn, _, _, accounts = world
    rockets = account(sb, "https://www.acme-rockets.co.uk")
    suffix = account(sb, "co.uk")  # a website typed as a bare public suffix: takes no one
    eu = lead(sb, "jo@eu.acme-rockets.co.uk")
    globex = lead(sb, "jo@globex.co.uk")
    bare = lead(sb, "jo@co.uk")
    looked_for: list[str] = []  # every LIKE literal the connector writes

    def quote(value: str) -> str:
        looked_for.append(value)
        return soql_quote(value)

    monkeypatch.setattr(members, "quote", quote)
    assert conn.account_links("lead", [eu, globex, bare]) == {
        eu: f"{rockets} (email domain acme-rockets.co.uk (parent of eu.acme-rockets.co.uk))",
        globex: "not matched: no account on email domain globex.co.uk",
        bare: "not matched: email domain co.uk is a public suffix, no one's own domain",
    }
    # the Accounts that could take them: their domains and parents, never every UK website
    assert sorted(looked_for) == [
        "%acme-rockets.co.uk%",
        "%eu.acme-rockets.co.uk%",
        "%globex.co.uk%",
    ]
    looked_for.clear()
    request = member_request(accounts)
    fields = sorted(accounts.properties)
    found = conn.fetch("account", [rockets, suffix], fields, [], members=request)
    assert {r.id: {m.id for m in r.members} for r in found} == {rockets: {eu}, suffix: set()}
    # the Leads on the Accounts' domains: none looked for on co.uk (it would read every UK Lead)
    assert sorted(looked_for) == [
        "%.acme-rockets.co.uk",
        "%@acme-rockets.co.uk",
        "%acme-rockets.co.uk%",
        "%acme-rockets.co.uk%",
        "%eu.acme-rockets.co.uk%",
    ]


def test_contact_rules_read_their_account_result_from_the_same_connection(world):
    sb, conn, engine, _, accounts = world
    linked = LINKED_MODEL
    for kind, model in (("account", accounts), ("contact", linked)):
        assert conn.ensure_schema(kind, output_fields(model.grades, model.labels), apply=True).ok
    engine.run("account", accounts, RunOptions(full=True), now=NOW)
    before = conn.usage.calls
    run = engine.run("contact", linked, RunOptions(full=True), now=NOW)
    assert run.status == "succeeded"
    # the Account results come from the state store: the Contacts' reads and writes only
    assert run.counts.api_calls == conn.usage.calls - before
    grades = {
        i: r.grade
        for i, r in engine.store.previous_scores(
            "sf", "account", list(sb.store.table("Account"))
        ).items()
    }
    contacts = sb.store.table("Contact")
    results = engine.store.previous_scores("sf", "contact", list(contacts))
    expected = {
        i: 10
        if grades.get(str(row.get("AccountId"))) in ("A", "B")
        else (0 if row.get("AccountId") else 1)
        for i, row in contacts.items()
    }
    assert {i: r.fit for i, r in results.items()} == expected
    # the won Accounts are customers, disqualified: no A grade among them (10 B of 51)
    assert 0 < sum(1 for v in expected.values() if v == 10) < len(expected)


def test_a_converted_lead_is_tied_to_the_account_it_became_not_by_domain(world):
    sb, conn, *_ = world
    leads = sb.store.table("Lead")
    converted = sorted(i for i, row in leads.items() if row.get("IsConverted"))[:2]
    assert len(converted) == 2
    expected = {
        i: (
            f"{leads[i]['ConvertedAccountId']} (converted: Contact "
            f"{leads[i]['ConvertedContactId']}, Lead.ConvertedAccountId)"
        )
        for i in converted
    }
    assert conn.account_links("lead", converted) == expected


def test_contacts_are_scored_again_when_their_account_result_changes(world):
    """Contact rules reading their Account's leadsync result only (no `Account.` field): the
    result lives in the state store, so no Contact's or Account's modification shows it."""
    sb, conn, engine, _, accounts = world
    for kind, model in (("account", accounts), ("contact", LINKED_MODEL)):
        assert conn.ensure_schema(kind, output_fields(model.grades, model.labels), apply=True).ok

    def sync(at: datetime, options: RunOptions) -> tuple[Any, Any]:
        return engine.run("account", accounts, options, now=at), engine.run(
            "contact", LINKED_MODEL, options, now=at
        )

    sync(NOW, RunOptions(full=True))
    for _ in range(2):  # the first incremental runs meet our own writes again
        sync(later(sb, 10), RunOptions())
    grades = {
        i: r.grade
        for i, r in engine.store.previous_scores(
            "sf", "account", list(sb.store.table("Account"))
        ).items()
    }
    people: dict[str, list[str]] = {}
    for contact_id, row in sb.store.table("Contact").items():
        people.setdefault(str(row.get("AccountId")), []).append(contact_id)
    account_id = next(
        a
        for a, grade in grades.items()
        if grade not in ("A", "B")
        and len(people.get(a, [])) >= 2
        and not str(sb.store.table("Account")[a].get("Type") or "").startswith("Customer")
    )
    contact_ids = people[account_id]
    before = engine.store.previous_scores("sf", "contact", contact_ids)
    assert {r.fit for r in before.values()} == {0}

    # a rep edits the Account: the account model grades it A; none of its Contacts changed
    run_at = later(sb, 10)
    with sb.store.lock:
        errors = sb.store.update(
            "Account",
            account_id,
            {
                "NumberOfEmployees": 5000,
                "Industry": "Technology",
                "BillingCountry": "United States",
                "AnnualRevenue": 50_000_000,
            },
            user=sb.store.sales_users[0],
            auto_assign=False,
            stamp=sb.store.now(),
        )
    assert errors == []
    account_run, contact_run = sync(run_at, RunOptions())
    assert engine.store.previous_scores("sf", "account", [account_id])[account_id].grade == "A"
    assert account_run.counts.read == 1
    assert (contact_run.status, contact_run.counts.read) == ("succeeded", len(contact_ids))
    after = engine.store.previous_scores("sf", "contact", contact_ids)
    assert {i: r.fit for i, r in after.items()} == dict.fromkeys(contact_ids, 10)
    # the Contacts modified since (none), the Account's Contacts (`Id, AccountId`), them by id
    # with their activity in subqueries, and their new scores in one sObject Collection
    assert contact_run.counts.api_calls == 4

    # the next run: our writes to them are echoes; the Account's row moved again (its people's
    # new scores are among its inputs) with the same values people read, so no query looks at
    # its Contacts again
    _, quiet = sync(later(sb, 10), RunOptions())
    assert (quiet.counts.read, quiet.counts.written, quiet.counts.api_calls) == (0, 0, 1)
