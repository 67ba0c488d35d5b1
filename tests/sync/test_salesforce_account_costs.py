"""What incremental account runs cost on Salesforce, in calls counted per endpoint, and a stop
between the calls of their long read: a quiet org costs one composite call of the three queries
that find nothing changed; one changed person costs the reads of that one Account; many changed
Accounts cost no more than the full run's read of every Account
(`connectors.salesforce.members`)."""

from __future__ import annotations

import threading

import pytest

from config.model_loader import load_model
from connectors.outputs import output_fields
from connectors.salesforce import SalesforceConnector
from sandbox.salesforce import SalesforceSandbox
from sync.engine import Engine, RunOptions
from sync.shutdown import stop_checkpoint
from sync.state.store import StateStore
from tests.sync.test_e2e_salesforce_accounts import MODELS, NOW, connector, later, retitle

LEADS = 600


def reads(conn: SalesforceConnector, before: dict[str, int]) -> dict[str, int]:
    """Calls by endpoint since `before`, writes left out."""
    return {
        k: d
        for k, v in conn.usage.by_endpoint.items()
        if (d := v - before.get(k, 0)) and not k.startswith("composite")
    }


@pytest.fixture
def world(tmp_path):
    sb = SalesforceSandbox(leads=LEADS, now=NOW, buying_committees=True).start()
    stop = threading.Event()
    check = stop_checkpoint(stop)
    calls = {"left": -1}

    def checkpoint() -> None:
        # sets the stop once `left` more query calls went out (-1: never)
        if calls["left"] == 0:
            stop.set()
        calls["left"] -= 1
        check()

    conn = connector(sb, checkpoint=checkpoint)
    model = load_model(MODELS / "salesforce-accounts.yaml")
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=NOW)
    engine = Engine(store, conn, connection="sf", sleep=lambda s: True, stop=stop)
    assert conn.ensure_schema("account", output_fields(model.grades, model.labels), apply=True).ok
    engine.run("account", model, RunOptions(full=True), now=NOW)
    for _ in range(2):  # our own writes come back once (echoes), then the org is quiet
        engine.run("account", model, RunOptions(), now=later(sb, 10))
    yield sb, conn, engine, model, stop, calls
    conn.close()
    store.close()
    sb.stop()


def test_quiet_one_changed_person_and_many_changed_accounts(world):
    sb, conn, engine, model, _, _ = world
    before = dict(conn.usage.by_endpoint)
    full = engine.run("account", model, RunOptions(full=True), now=later(sb, 10))
    full_reads = reads(conn, before)
    # Account, Contact and Lead, and per kind of person each activity object merge-joined
    assert full_reads == {"query": 13}

    before = dict(conn.usage.by_endpoint)
    quiet = engine.run("account", model, RunOptions(), now=later(sb, 10))
    # the Accounts, Contacts and Leads modified since: none. The three queries go as one
    # composite call (Salesforce counts it as one call), 3 calls before
    assert (quiet.counts.read, reads(conn, before)) == (0, {"query/composite": 1})
    assert quiet.counts.api_calls == 1

    contacts = sorted(sb.store.table("Contact"))
    run_at = later(sb, 10)
    retitle(sb, contacts[:1])
    before = dict(conn.usage.by_endpoint)
    one = engine.run("account", model, RunOptions(), now=run_at)
    # the three queries in one composite call (3 calls before, so 8 calls in all, were 10), the
    # Account by id, its Contacts (by AccountId, activity in subqueries, EmailMessageRelation
    # and ListEmailSentResult on their own) and the Leads on its domain (one query finding
    # none: no activity or Account lookups follow)
    assert (one.counts.read, reads(conn, before)) == (
        1,
        {"query/composite": 1, "query": 1 + 3 + 1},
    )

    accounts = {str(sb.store.table("Contact")[c].get("AccountId")) for c in contacts}
    run_at = later(sb, 10)
    retitle(sb, contacts)
    before = dict(conn.usage.by_endpoint)
    many = engine.run("account", model, RunOptions(), now=run_at)
    # the three queries in one composite call (3 calls before: 14 calls in all, were 16), then
    # every Account, Contact and Lead once, as the full run read them
    assert (many.counts.read, reads(conn, before)) == (
        len(accounts),
        {"query/composite": 1, "query": 13},
    )
    assert full.counts.read >= many.counts.read


def test_a_stop_between_the_calls_of_a_long_read_leaves_the_next_run_to_do_it(world):
    sb, conn, engine, model, stop, calls = world
    contacts = sorted(sb.store.table("Contact"))
    run_at = later(sb, 10)
    retitle(sb, contacts)
    # the composite call of the three queries finding the changes (one checkpoint, one call:
    # three of each before), then two of the whole read
    calls["left"] = 3
    before = dict(conn.usage.by_endpoint)
    stopped = engine.run("account", model, RunOptions(), now=run_at)
    assert (stopped.status, stopped.counts.read, stopped.counts.api_calls) == ("interrupted", 0, 3)
    assert reads(conn, before) == {"query/composite": 1, "query": 2}

    stop.clear()
    calls["left"] = -1
    again = engine.run("account", model, RunOptions(), now=later(sb, 10))
    accounts = {str(sb.store.table("Contact")[c].get("AccountId")) for c in contacts}
    assert (again.status, again.counts.read) == ("succeeded", len(accounts))


def test_when_most_of_the_org_changed_every_account_is_recomputed_from_one_whole_read(tmp_path):
    """Pages of 200 rows, so the changed lists take pages of their own: paging them first and
    then reading everyone would cost more than the whole read alone."""
    sb = SalesforceSandbox(leads=2000, now=NOW, buying_committees=True).start()
    conn = connector(sb, batch_size=200)
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=NOW)
    try:
        model = load_model(MODELS / "salesforce-accounts.yaml")
        engine = Engine(store, conn, connection="sf", sleep=lambda s: True)
        assert conn.ensure_schema("account", output_fields(model.grades, model.labels), apply=True)
        before = dict(conn.usage.by_endpoint)
        full = engine.run("account", model, RunOptions(full=True), now=later(sb, 10))
        full_reads = {k: v for k, v in reads(conn, before).items() if k.startswith("query")}
        for _ in range(2):  # our own writes come back once (echoes), then the org is quiet
            engine.run("account", model, RunOptions(), now=later(sb, 10))
        contacts = sorted(sb.store.table("Contact"))
        assert len(contacts) > 2 * 200  # the changed Contacts alone take three pages
        run_at = later(sb, 10)
        retitle(sb, contacts)
        before = dict(conn.usage.by_endpoint)
        many = engine.run("account", model, RunOptions(), now=run_at)
        # the three first queries in one composite call, then every Account, Contact and Lead
        # once, exactly as the full run read them: not one page of the changed lists more
        assert reads(conn, before) == {"query/composite": 1, **full_reads}
        assert many.counts.read == full.counts.read == len(sb.store.table("Account"))
    finally:
        conn.close()
        store.close()
        sb.stop()
