"""An Account's change reaches its Contacts' scores at the next incremental run (Salesforce
sandbox, through the real connector and simple-salesforce): `Account.<field>` models."""

from __future__ import annotations

from collections import Counter

import pytest

from config.model_loader import load_model, parse_model
from connectors.base import ReadHints
from connectors.outputs import output_fields
from sandbox.salesforce import SalesforceSandbox
from sync.engine import Engine, RunOptions
from sync.run import read_fields
from sync.run_summary import RunResult
from sync.state.store import StateStore
from tests.sync.hubspot_env import ROOT
from tests.sync.test_e2e_salesforce_accounts import NOW, connector, later

LEADS = 600
FIRMOGRAPHIC = """\
name: sf-firmographic
object: contact
fit:
  rules:
    - {name: 500+ employees, if: {Account.NumberOfEmployees: {gte: 500}}, points: 40}
    - {name: Manager, if: {Title: {matches: '(?i)manager'}}, points: 10}
    - {name: Owned account, if: {Account.Owner.Name: {exists: true}}, points: 1}
"""


@pytest.fixture
def world(tmp_path):
    sb = SalesforceSandbox(leads=LEADS, now=NOW).start()
    conn = connector(sb)
    people = parse_model(FIRMOGRAPHIC, "sf-firmographic.yaml")
    accounts = load_model(ROOT / "config" / "examples" / "models" / "salesforce-accounts.yaml")
    for kind, model in (("contact", people), ("account", accounts)):
        assert conn.ensure_schema(kind, output_fields(model.grades, model.labels), apply=True).ok
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=NOW)
    engine = Engine(store, conn, connection="sf", sleep=lambda s: True)
    yield sb, engine, people, accounts
    conn.close()
    store.close()
    sb.stop()


def three_contact_account(sb: SalesforceSandbox) -> tuple[str, list[str]]:
    """An Account with exactly three Contacts and fewer than 500 employees, and those ids."""
    members: dict[str, list[str]] = {}
    for contact_id, row in sb.store.table("Contact").items():
        if row.get("AccountId"):
            members.setdefault(str(row["AccountId"]), []).append(contact_id)
    for account_id, contacts in sorted(members.items()):
        employees = sb.store.table("Account")[account_id].get("NumberOfEmployees")
        if len(contacts) == 3 and employees is not None and employees < 500:
            return account_id, sorted(contacts)
    raise AssertionError("the sandbox has no Account with three Contacts")


def rep_changes(
    sb: SalesforceSandbox, record_id: str, values: dict[str, object], sobject: str = "Account"
) -> None:
    """A sales rep edits the record (an Account unless said otherwise) now (the sandbox's
    clock)."""
    rep = sb.store.sales_users[0]
    errors = sb.store.update(
        sobject, record_id, values, user=rep, auto_assign=False, stamp=sb.store.now()
    )
    assert errors == []


def fits(sb: SalesforceSandbox, ids: list[str]) -> dict[str, float]:
    return {i: float(sb.store.table("Contact")[i].get("Leadsync_Fit__c") or 0) for i in ids}


def incremental(world, minutes: int) -> tuple[RunResult, Counter[str]]:
    """An incremental contact run `minutes` later, and the sandbox's calls of it by route
    (`requests`: HTTP requests, each one call; a composite call's query subrequests count
    under `query` too, the composite itself once under `composite`)."""
    sb, engine, people, _ = world
    now = later(sb, minutes)
    before = Counter(sb.stats()["counters"])
    run = engine.run("contact", people, RunOptions(), now=now)
    calls = Counter(sb.stats()["counters"])
    calls.subtract(before)
    return run, +calls


def test_an_account_change_rescores_its_contacts_and_our_own_account_writes_do_not(world):
    sb, engine, people, accounts = world
    full = RunOptions(full=True)
    assert engine.run("contact", people, full, now=later(sb, 0)).status == "succeeded"
    account_full = engine.run("account", accounts, full, now=later(sb, 1))
    assert account_full.counts.written > 0

    # our contact writes come back echo-suppressed, and the Accounts our account model wrote
    # (in this run's window) were last modified by the integration user: no Contact is read
    # again; the Contacts' query and the Accounts' query, in one composite call (2 calls before)
    me = sb.store.table("Account")
    assert sum(row.get("LastModifiedById") != row.get("CreatedById") for row in me.values()) == (
        account_full.counts.written
    )
    absorb, calls = incremental(world, 5)
    assert (absorb.counts.read, absorb.counts.written, absorb.counts.api_calls) == (0, 0, 1)
    assert calls == {"requests": 1, "composite": 1, "query": 2}
    # a quiet org: the same two queries in one call, answering nothing (2 calls before)
    quiet, calls = incremental(world, 5)
    assert (quiet.counts.read, quiet.counts.api_calls) == (0, 1)
    assert calls == {"requests": 1, "composite": 1, "query": 2}

    # a sales rep raises one Account's employees past the 500 band
    account_id, contacts = three_contact_account(sb)
    before = fits(sb, contacts)
    rep = sb.store.sales_users[0]
    rep_changes(sb, account_id, {"NumberOfEmployees": 900})
    # older than the read overlap (2 minutes) when the next run starts, so that run's watermark
    # passes it (a change within the overlap is looked at once more by the run after)
    run, calls = incremental(world, 5)
    assert (run.status, run.mode) == ("succeeded", "incremental")
    assert (run.counts.read, run.counts.scored, run.counts.written) == (3, 3, 3)
    assert fits(sb, contacts) == {c: before[c] + 40 for c in contacts}
    # Contacts queried (none changed) and Accounts queried (this one, with NumberOfEmployees)
    # in one composite call, its Contacts' ids (`AccountId IN (...)`), those Contacts with their
    # activity (`Id IN (...)`: their stored inputs hold the employees before the change), and
    # one sObject Collections update (one collection: no composite): 4 calls, 5 before
    assert calls == {"requests": 4, "composite": 1, "query": 4, "collections_update": 1}
    assert run.counts.api_calls == 4

    # the account model rescores that Account and writes it: our own write, so its Contacts
    # are not read again (and their own writes come back echo-suppressed)
    account_run = engine.run("account", accounts, RunOptions(), now=later(sb, 5))
    assert account_run.counts.written >= 1
    assert sb.store.table("Account")[account_id]["LastModifiedById"] != rep
    after, calls = incremental(world, 5)
    assert (after.counts.read, after.counts.api_calls) == (0, 1)  # 2 before the composite
    assert calls == {"requests": 1, "composite": 1, "query": 2}

    # the account model may run first (a connection listing accounts before contacts): it
    # reads the rep's change and its write then makes the integration user the last modifier;
    # the change it scored (`changed_version`) is newer than the contact run's watermark, so
    # the Contacts are scored again all the same
    later(sb, 5)
    rep_changes(sb, account_id, {"NumberOfEmployees": 120})
    first = engine.run("account", accounts, RunOptions(), now=later(sb, 5))
    assert first.counts.written >= 1
    assert sb.store.table("Account")[account_id]["LastModifiedById"] != rep
    run, calls = incremental(world, 5)
    assert (run.counts.read, run.counts.scored, run.counts.written) == (3, 3, 3)
    assert fits(sb, contacts) == before
    # as above: the two first queries in one composite call, 4 calls (5 before)
    assert calls == {"requests": 4, "composite": 1, "query": 4, "collections_update": 1}


def test_an_account_change_the_model_does_not_read_reads_no_contact_again(world):
    sb, engine, people, _ = world
    assert engine.run("contact", people, RunOptions(full=True), now=later(sb, 0)).status == (
        "succeeded"
    )
    account_id, contacts = three_contact_account(sb)
    later(sb, 5)
    rep_changes(sb, account_id, {"Type": "Customer - Direct"})
    run, calls = incremental(world, 5)
    # Contacts and Accounts (this one: its NumberOfEmployees as before) in one composite call,
    # and its Contacts' ids: every one's stored inputs hold that value, so none is read with its
    # activity or scored (2 calls, 3 before)
    assert (run.status, run.counts.read, run.counts.scored, run.counts.written) == (
        "succeeded", 0, 0, 0,
    )  # fmt: skip
    assert calls == {"requests": 2, "composite": 1, "query": 3}

    # a Contact whose stored scoring is gone (a state restored from before it was scored) is
    # read again with the next change of its Account, the others are not
    scores = engine.store.t.scores
    with engine.store.transaction() as conn:
        conn.execute(scores.delete().where(scores.c.record_id == contacts[0]))
    later(sb, 5)
    rep_changes(sb, account_id, {"Type": "Prospect"})
    # and another of its Contacts changed itself: read once, by the Contacts' own query
    rep_changes(sb, contacts[1], {"Title": "VP Sales"}, sobject="Contact")
    run, calls = incremental(world, 5)
    assert (run.counts.read, run.counts.scored, run.counts.written) == (2, 2, 0)
    # Contacts (the one changed) and Accounts in one composite call, its Contacts' ids, the
    # forgotten one by id (3 calls, 4 before)
    assert calls == {"requests": 3, "composite": 1, "query": 4}


def test_without_stored_inputs_the_contacts_of_changed_accounts_are_read_at_once(world):
    """A read without `ReadHints.stored` (a model group: no one snapshot) reads the changed
    Accounts' Contacts by `AccountId` at once, with their activity: no ids query first."""
    sb, engine, people, _ = world
    assert engine.run("contact", people, RunOptions(full=True), now=later(sb, 0)).status == (
        "succeeded"
    )
    account_id, contacts = three_contact_account(sb)
    since = later(sb, 5)
    rep_changes(sb, account_id, {"Type": "Customer - Direct"})
    # one of its Contacts changed too: the read gives it, the Account's Contacts not again
    rep_changes(sb, contacts[0], {"Title": "VP Sales"}, sobject="Contact")
    before = Counter(sb.stats()["counters"])
    pages = list(
        engine.connector.iter_pages(
            "contact",
            read_fields(people, "salesforce", "contact"),
            (),
            since=since,
            hints=ReadHints(accounts_seen=lambda changes: set()),
        )
    )
    calls = Counter(sb.stats()["counters"])
    calls.subtract(before)
    assert [(sorted(r.id for r in p.records), p.rescore) for p in pages] == [
        ([contacts[0]], False),
        (contacts[1:], True),
    ]
    # Contacts (one changed) and Accounts (this one) in one composite call, its Contacts with
    # their activity (2 calls, 3 before)
    assert +calls == {"requests": 2, "composite": 1, "query": 3}
