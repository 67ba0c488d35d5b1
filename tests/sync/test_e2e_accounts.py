"""Account models end to end against the HubSpot sandbox: companies scored from their contacts,
written back, and recomputed on incremental runs when one of their people changed."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from config.model_loader import load_model, parse_model
from connectors.base import MemberRequest
from connectors.outputs import output_fields
from sandbox.hubspot import activity
from scoring import score
from scoring.rollup import record_facts
from sync.engine import Engine, RunOptions
from sync.state.store import StateStore
from tests.sync.account_groups_env import LINKED
from tests.sync.hubspot_env import NOW, ROOT, SandboxClock, sandbox
from tests.sync.test_e2e_hubspot import connector

MODELS = ROOT / "config" / "examples" / "models"
CONTACTS, COMPANIES = 400, 40


def outputs(sb, object_type: str, record_id: str) -> dict[str, str | None]:
    table = sb.store.table(object_type)
    with sb.store.lock:
        row = table.rows[int(record_id)]
        return {n: table.text(row, f"leadsync_{n}") for n in ("fit", "interest", "score", "label")}


def saved_times(store: StateStore, kind: str, record_id: str) -> tuple[Any, Any]:
    """`(scored_at, values_changed_at)` of one stored row of connection `hs`."""
    s = store.t.scores
    query = sa.select(s.c.scored_at, s.c.values_changed_at).where(
        s.c.connection == "hs", s.c.kind == kind, s.c.record_id == record_id
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).one()
    return row.scored_at, row.values_changed_at


def account_world(tmp_path, sb, people, accounts):
    """`(sandbox, connector, engine, people model, account model)` of one connection `hs`
    scoring contacts and companies of `sb` (outputs set up), closed after the test."""
    conn = connector(sb)
    for kind, model in (("contact", people), ("company", accounts)):
        assert conn.ensure_schema(kind, output_fields(model.grades, model.labels), apply=True).ok
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=NOW)
    engine = Engine(store, conn, connection="hs", sleep=lambda s: True)
    yield sb, conn, engine, people, accounts
    conn.close()
    store.close()
    sb.stop()


@pytest.fixture
def world(tmp_path):
    sb = sandbox(CONTACTS, companies=COMPANIES, buying_committees=True)
    people = load_model(MODELS / "hubspot-professional.yaml")
    yield from account_world(tmp_path, sb, people, load_model(MODELS / "hubspot-companies.yaml"))


def test_companies_are_scored_from_their_people_written_back_and_recomputed(world):
    sb, conn, engine, people, accounts = world
    full = RunOptions(full=True)
    assert engine.run("contact", people, full, now=NOW).status == "succeeded"
    before = conn.usage.calls
    run = engine.run("company", accounts, full, now=NOW)
    assert (run.status, run.counts.read, run.counts.failed) == ("succeeded", COMPANIES, 0)
    # one list page of companies, one association batch read, one batch read per 100 distinct
    # contacts of those companies, one batch update per 100 written companies
    links = sb.store.associations[("companies", "contacts")]
    members = len({c for company in links.values() for c in company})
    expected = 1 + 1 + -(-members // 100) + -(-run.counts.written // 100)
    assert conn.usage.calls - before == run.counts.api_calls == expected

    # every written value is what scoring the company with its people gives
    request = MemberRequest(accounts.rollup.properties, accounts.rollup.event_types)
    ids = [str(i) for i in sb.store.table("companies").ids]
    records = conn.fetch("company", ids, accounts.properties, (), members=request)
    assert [len(r.members) for r in records] == [len(links.get(int(i), [])) for i in ids]
    engaged = 0
    for record in records:
        facts = record_facts(record.members, accounts.rollup, NOW)
        result = score(record, accounts, NOW, members=facts)
        assert outputs(sb, "companies", record.id) == {
            "fit": str(result.fit),
            "interest": str(result.interest),
            "score": str(result.score),
            "label": result.label,
        }
        engaged += any("engaged in 14 days" in line for line in result.reasons)
    assert engaged >= 5  # the sandbox's buying committees show up in the reasons

    # a contact of one company changes: the next incremental run recomputes that company
    # (and the companies our own writes touched) and reads no other company's people
    clock: SandboxClock = sb.clock
    clock.advance(600)
    engine.run("company", accounts, RunOptions(), now=NOW + timedelta(minutes=10))
    clock.advance(600)
    quiet = engine.run("company", accounts, RunOptions(), now=NOW + timedelta(minutes=20))
    assert (quiet.counts.read, quiet.counts.written) == (0, 0)
    company_id = next(i for i, contacts in links.items() if len(contacts) >= 3)
    contact_id = links[company_id][0]
    contacts = sb.store.table("contacts")
    clock.advance(600)
    with sb.store.lock:
        row = contacts.rows[contact_id]
        stamp = int(clock() * 1000)
        contacts.set_raw(row, "hs_analytics_last_visit_timestamp", stamp)
        contacts.touch(row, stamp)
    companies_of_contact = sb.store.associated("contacts", contact_id, "companies")
    before = conn.usage.by_endpoint.copy()
    changed = engine.run("company", accounts, RunOptions(), now=NOW + timedelta(minutes=30))
    assert (changed.mode, changed.status) == ("incremental", "succeeded")
    assert changed.counts.read == len(companies_of_contact)
    calls = {k: v - before.get(k, 0) for k, v in conn.usage.by_endpoint.items()}
    # companies searched (none changed), contacts searched (one), its companies, the companies
    # read by id, their associations and their people
    assert calls["objects.batch_read"] == 2


def test_a_contact_counts_in_every_company_it_is_associated_with_not_only_its_primary(world):
    sb, conn, engine, people, accounts = world
    links = sb.store.associations[("companies", "contacts")]
    primary, other = [i for i, contacts in links.items() if contacts][:2]
    contact = links[primary][0]
    assert sb.store.associated("contacts", contact, "companies") == [primary]
    sb.store.associate("contacts", contact, "companies", other)  # a second, unlabeled link
    engine.run("contact", people, RunOptions(full=True), now=NOW)
    run = engine.run("company", accounts, RunOptions(full=True), now=NOW)
    assert (run.status, run.counts.failed) == ("succeeded", 0)

    request = MemberRequest(accounts.rollup.properties, accounts.rollup.event_types)
    records = conn.fetch("company", [str(primary), str(other)], accounts.properties, (),
                         members=request)  # fmt: skip
    assert {r.id: [m.id for m in r.members] for r in records} == {
        str(primary): [str(c) for c in links[primary]],
        str(other): [str(c) for c in links[other]],
    }
    assert links[other][-1] == contact  # a member of the company it is not primary for
    # and the company's written result is its roll-up with that member in it
    for record in records:
        facts = record_facts(record.members, accounts.rollup, NOW)
        assert outputs(sb, "companies", record.id)["interest"] == str(
            score(record, accounts, NOW, members=facts).interest
        )


def test_contact_rules_read_their_company_result_from_the_same_connection(world):
    sb, conn, engine, people, accounts = world
    full = RunOptions(full=True)
    engine.run("contact", people, full, now=NOW)
    engine.run("company", accounts, full, now=NOW)
    linked = parse_model(
        "name: linked\nobject: contact\nfit:\n  rules:\n"
        "    - {name: A-grade account, if: {account.grade: A}, points: 10}\n"
        "    - {name: No account, if: {account.grade: {missing: true}}, points: 1}\n",
        "linked.yaml",
    )
    before = conn.usage.calls
    run = engine.run("contact", linked, full, now=NOW)
    assert run.status == "succeeded"
    # the account results come from the state store: reads and writes only
    assert run.counts.api_calls == conn.usage.calls - before
    assert conn.usage.calls - before <= -(-CONTACTS // 100) + 1 + -(-run.counts.written // 100)
    company_ids = [str(i) for i in sb.store.table("companies").ids]
    grades = {
        i: r.grade for i, r in engine.store.previous_scores("hs", "company", company_ids).items()
    }
    contact_ids = [str(i) for i in sb.store.table("contacts").ids]
    results = engine.store.previous_scores("hs", "contact", contact_ids)
    primary = {
        str(contact): str(companies[0])
        for contact, companies in sb.store.associations[("contacts", "companies")].items()
    }
    expected = {
        i: 10 if grades.get(primary.get(i, "")) == "A" else (0 if i in primary else 1)
        for i in contact_ids
    }
    assert {i: r.fit for i, r in results.items()} == expected
    assert 0 < sum(1 for v in expected.values() if v == 10) < len(primary)


def test_a_company_whose_people_change_between_runs_is_recomputed_with_them(world):
    sb, conn, engine, people, accounts = world
    engine.run("contact", people, RunOptions(full=True), now=NOW)
    engine.run("company", accounts, RunOptions(full=True), now=NOW)
    clock: SandboxClock = sb.clock
    for minutes in (10, 20):  # the first incremental run meets our own writes again
        clock.advance(600)
        engine.run("company", accounts, RunOptions(), now=NOW + timedelta(minutes=minutes))
    clock.advance(600)
    with sb.store.lock:
        [new_id] = activity.create(sb.store, 1, at_ms=int(clock() * 1000), rng=random.Random(5))
    [company] = sb.store.associated("contacts", int(new_id), "companies")
    before = len(sb.store.associated("companies", company, "contacts")) - 1
    later = NOW + timedelta(minutes=30)
    run = engine.run("company", accounts, RunOptions(), now=later)
    assert (run.status, run.counts.read) == ("succeeded", 1)
    request = MemberRequest(accounts.rollup.properties, accounts.rollup.event_types)
    [record] = conn.fetch("company", [str(company)], accounts.properties, (), members=request)
    assert len(record.members) == before + 1
    assert new_id in {m.id for m in record.members}
    stored = engine.store.previous_scores("hs", "company", [str(company)])[str(company)]
    expected = score(record, accounts, later)
    assert (stored.interest, stored.contributions) == (expected.interest, expected.contributions)


def test_people_are_scored_again_when_their_company_result_changes(world):
    """People rules reading their company's leadsync result only (no `company.` property): the
    result lives in the state store, so no CRM modification time shows when it changes."""
    sb, _, engine, _, accounts = world
    linked = parse_model(LINKED, "linked.yaml")
    clock: SandboxClock = sb.clock

    def sync(minutes: int, options: RunOptions) -> tuple[Any, Any]:
        at = NOW + timedelta(minutes=minutes)
        return engine.run("company", accounts, options, now=at), engine.run(
            "contact", linked, options, now=at
        )

    sync(0, RunOptions(full=True))
    for minutes in (10, 20):  # the first incremental runs meet our own writes again
        clock.advance(600)
        sync(minutes, RunOptions())
    primary = {
        contact: str(companies[0])
        for contact, companies in sb.store.associations[("contacts", "companies")].items()
    }
    company_ids = [str(i) for i in sb.store.table("companies").ids]
    grades = {
        i: r.grade for i, r in engine.store.previous_scores("hs", "company", company_ids).items()
    }
    people_of = {c: [p for p, own in primary.items() if own == c] for c in company_ids}
    company = next(c for c in company_ids if grades[c] != "A" and len(people_of[c]) >= 2)
    contact_ids = [str(p) for p in people_of[company]]
    assert {r.fit for r in engine.store.previous_scores("hs", "contact", contact_ids).values()} == {
        0
    }

    # someone edits the company: the account model grades it A; none of its people changed
    clock.advance(600)
    companies = sb.store.table("companies")
    with sb.store.lock:
        row = companies.rows[int(company)]
        for name, value in (
            ("numberofemployees", "5000"),
            ("industry", "COMPUTER_SOFTWARE"),
            ("country", "United States"),
            ("annualrevenue", "50000000"),
        ):
            companies.set_raw(row, name, value)
        companies.touch(row, int(clock() * 1000))
    account_run, people_run = sync(30, RunOptions())
    assert engine.store.previous_scores("hs", "company", [company])[company].grade == "A"
    saved, changed = saved_times(engine.store, "company", company)
    assert changed == saved  # its grade changed when the row was saved
    assert account_run.counts.read == 1

    # the contact run reads those people again (and no one else) and scores them with it
    assert (people_run.status, people_run.counts.read) == ("succeeded", len(contact_ids))
    results = engine.store.previous_scores("hs", "contact", contact_ids)
    assert {i: r.fit for i, r in results.items()} == dict.fromkeys(contact_ids, 10)
    # a contact search (nothing changed), the company's contacts (one association read), them
    # by batch read, and their new scores in one batch update
    assert people_run.counts.api_calls == 4

    # the next run meets our writes to them (one search); the company's stored row moved again
    # (its people's new scores are among its inputs) with the same grade, fit and interest, so
    # no association read looks at its people again
    clock.advance(600)
    account_quiet, quiet = sync(40, RunOptions())
    assert account_quiet.counts.read == 1
    assert engine.store.previous_scores("hs", "company", [company])[company].grade == "A"
    assert (quiet.counts.read, quiet.counts.written, quiet.counts.api_calls) == (
        len(contact_ids),
        0,
        1,
    )
    # the row was saved again, but what its people read of it did not change
    again, still = saved_times(engine.store, "company", company)
    assert (again > saved, still) == (True, changed)
