"""A company's change reaches its contacts' scores at the next incremental run (HubSpot sandbox,
through the real connector): `company.<property>` models."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime

import pytest

from config.model_loader import load_model, parse_model
from sync.engine import RunOptions
from sync.run_summary import RunResult
from tests.sync.hubspot_env import NOW, ROOT, SandboxClock, sandbox
from tests.sync.test_e2e_accounts import account_world

CONTACTS, COMPANIES = 300, 100
#: A run that scores again the three contacts of one changed company: contacts searched (none
#: changed), companies searched (that one, with the properties the model reads: no batch read
#: of it), its contacts (companies -> contacts), their batch read, their primary companies
#: (contacts -> companies), and one batch update.
RESCORE_CALLS = {
    "objects.search": 2,
    "associations.batch_read": 2,
    "objects.batch_read": 1,
    "objects.batch_update": 1,
}
FIRMOGRAPHIC = """\
name: firmographic
object: contact
fit:
  rules:
    - {name: 500+ employees, if: {company.numberofemployees: {gte: 500}}, points: 40}
    - {name: Manager, if: {jobtitle: {matches: '(?i)manager'}}, points: 10}
"""


def three_contact_company(sb) -> int:
    """A company with exactly three contacts, each having it as primary company, and fewer
    than 500 employees."""
    store = sb.store
    companies = store.table("companies")
    with store.lock:
        for company_id in companies.ids:
            people = store.associated("companies", company_id, "contacts")
            employees = companies.text(companies.rows[company_id], "numberofemployees")
            if (
                len(people) == 3
                and all(store.associated("contacts", c, "companies")[:1] == [company_id]
                        for c in people)
                and employees is not None
                and float(employees) < 500
            ):  # fmt: skip
                return int(company_id)
    raise AssertionError("the sandbox has no company with three contacts")


def patch_company(sb, company_id: int, properties: dict[str, str]) -> None:
    """An admin's edit: `PATCH /crm/v3/objects/companies/{id}` (HubSpot moves
    `hs_lastmodifieddate`, not the contacts' `lastmodifieddate`)."""
    request = urllib.request.Request(
        f"{sb.url}/crm/v3/objects/companies/{company_id}",
        data=json.dumps({"properties": properties}).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {sb.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert reply.status == 200


def fits(sb, ids) -> dict[int, str | None]:
    table = sb.store.table("contacts")
    with sb.store.lock:
        return {i: table.text(table.rows[i], "leadsync_fit") for i in ids}


@pytest.fixture
def world(tmp_path):
    sb = sandbox(CONTACTS, companies=COMPANIES)
    people = parse_model(FIRMOGRAPHIC, "firmographic.yaml")
    accounts = load_model(ROOT / "config" / "examples" / "models" / "hubspot-companies.yaml")
    yield from account_world(tmp_path, sb, people, accounts)


def at(clock: SandboxClock) -> datetime:
    """The sandbox's present, as the runs' scoring time (their read window starts from it)."""
    return datetime.fromtimestamp(clock(), UTC)


def incremental(world) -> tuple[RunResult, dict[str, int]]:
    """An incremental contact run now, and the calls it made by endpoint."""
    sb, conn, engine, people, _ = world
    before = dict(conn.usage.by_endpoint)
    run = engine.run("contact", people, RunOptions(), now=at(sb.clock))
    after = conn.usage.by_endpoint
    return run, {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def account_writes_only(world, company: int) -> None:
    """An incremental account run now, which writes exactly `company`."""
    sb, _, engine, _, accounts = world
    run = engine.run("company", accounts, RunOptions(), now=at(sb.clock))
    assert run.counts.written == 1
    last = engine.store.ledger("hs", "company", record_id=str(company))[-1]
    assert (last.run_id, last.status) == (run.run_id, "applied")


def test_a_company_change_rescores_its_contacts_and_our_own_company_writes_do_not(world):
    sb, _, engine, people, accounts = world
    clock: SandboxClock = sb.clock
    live = len(sb.store.table("contacts").ids)
    assert engine.run("contact", people, RunOptions(full=True), now=NOW).counts.read == live
    written = engine.run("company", accounts, RunOptions(full=True), now=NOW).counts.written
    assert written == COMPANIES  # every company now carries our write's modification time

    # our contact writes come back (skipped: their versions are scored), and so do the
    # companies our account model wrote: HubSpot's reply gave their modification times, stored
    # as the account scores' crm_version, so no company counts as changed and no contact is
    # read again
    clock.advance(300)
    absorb, calls = incremental(world)
    assert (absorb.counts.read, absorb.counts.scored, absorb.counts.written) == (live, 0, 0)
    searches = -(-live // 200) + (live % 200 == 0)
    assert calls == {"objects.search": searches + 1}  # the contacts', then the companies' one

    # a quiet CRM: one contact search and one company search, each answering nothing
    clock.advance(300)
    quiet, calls = incremental(world)
    assert (quiet.counts.read, quiet.counts.api_calls) == (0, 2)
    assert calls == {"objects.search": 2}

    # an admin raises one company's employees past the 500 band
    company = three_contact_company(sb)
    contacts = sb.store.associated("companies", company, "contacts")
    before = fits(sb, contacts)
    clock.advance(60)
    patch_company(sb, company, {"numberofemployees": "900"})
    # older than the read overlap (2 minutes) when the next run starts, so that run's watermark
    # passes it (a change within the overlap is looked at once more by the run after)
    clock.advance(180)
    run, calls = incremental(world)
    assert (run.status, run.mode) == ("succeeded", "incremental")
    assert (run.counts.read, run.counts.scored, run.counts.written) == (3, 3, 3)
    assert fits(sb, contacts) == {c: str(int(before[c] or 0) + 40) for c in contacts}
    assert calls == RESCORE_CALLS
    assert run.counts.api_calls == 6

    # the next run's window (from its watermark minus the overlap) still holds the change, but
    # the change is older than the watermark: the run before looked at it, nothing is read
    clock.advance(300)
    again, calls = incremental(world)
    assert (again.counts.read, again.counts.scored) == (3, 0)  # our writes of their scores
    assert calls == {"objects.search": 2}

    # the account model rescores that company (its people's scores moved) and writes it: our
    # own write, so no contact is read again
    clock.advance(300)
    account_writes_only(world, company)
    clock.advance(300)
    after, calls = incremental(world)
    assert (after.counts.read, after.counts.scored, after.counts.api_calls) == (0, 0, 2)
    assert calls == {"objects.search": 2}

    # the account model may run first (a connection listing companies before contacts): it
    # reads an admin's change, and its write then hides it behind our own modification time;
    # the change it scored (`changed_version`) is newer than the contact run's watermark, so
    # the contacts are scored again all the same
    clock.advance(300)
    patch_company(sb, company, {"numberofemployees": "120"})
    clock.advance(300)
    account_writes_only(world, company)
    clock.advance(300)
    run, calls = incremental(world)
    assert (run.counts.read, run.counts.scored, run.counts.written) == (3, 3, 3)
    assert fits(sb, contacts) == before
    assert calls == RESCORE_CALLS


def test_a_company_change_the_model_does_not_read_costs_no_contact_read(world):
    # An admin (or another integration) edits a company property the model does not read: the
    # company search finds it and its contacts are looked up, but their stored scoring already
    # holds the company's values the model reads, so none is read or scored again.
    sb, _, engine, people, _ = world
    clock: SandboxClock = sb.clock
    engine.run("contact", people, RunOptions(full=True), now=NOW)
    clock.advance(300)
    incremental(world)  # absorbs our own writes
    company = three_contact_company(sb)
    clock.advance(60)
    patch_company(sb, company, {"city": "Toronto"})
    clock.advance(180)
    run, calls = incremental(world)
    assert (run.status, run.counts.read, run.counts.scored, run.counts.written) == (
        "succeeded", 0, 0, 0,
    )  # fmt: skip
    assert calls == {"objects.search": 2, "associations.batch_read": 1}

    # the same company then crosses the model's 500-employee band: its three contacts again
    clock.advance(60)
    patch_company(sb, company, {"numberofemployees": "900"})
    clock.advance(180)
    run, calls = incremental(world)
    assert (run.counts.read, run.counts.scored, run.counts.written) == (3, 3, 3)
    assert calls == RESCORE_CALLS
