"""Property history through batch reads with `propertiesWithHistory`: 50 records a call, each
property's values oldest first, a property no record has a value for untracked, company fields
never asked for."""

from __future__ import annotations

from datetime import UTC, datetime

import requests

from connectors.history import HistoryReader
from connectors.hubspot.history import changes_of

BATCH_READ = "POST /crm/v3/objects/{object}/batch/read"


def moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def test_history_of_every_contact_fifty_a_call(make_sandbox, make_connector):
    sandbox = make_sandbox(contacts=120)
    connector = make_connector(sandbox)
    assert isinstance(connector, HistoryReader)
    table = sandbox.store.table("contacts")
    with sandbox.store.lock:
        rows = [table.rows[i] for i in table.ids]
        customer = next(r for r in rows if table.raw(r, "lifecyclestage") == "customer")
        converted = table.raw(customer, "hs_lifecyclestage_customer_date")
        title = table.raw(customer, "jobtitle")
    ids = [str(r.id) for r in rows]
    bodies = sandbox.journal(BATCH_READ)

    known = connector.property_history(
        "contact", ids, ["lifecyclestage", "jobtitle", "company.industry", "fax"]
    )

    assert [len(b["inputs"]) for b in bodies] == [50, 50, len(ids) - 100]
    assert {tuple(b["propertiesWithHistory"]) for b in bodies} == {
        ("lifecyclestage", "jobtitle", "fax")
    }
    assert known.tracked == frozenset({"lifecyclestage", "jobtitle"})
    assert set(known.values) == set(ids)
    assert known.values[str(customer.id)]["lifecyclestage"] == [
        (moment(customer.created), "lead"),
        (moment(converted), "customer"),
    ]
    assert known.values[str(customer.id)]["jobtitle"] == [(moment(customer.created), title)]


def test_a_title_written_later_is_dated_by_the_write(make_sandbox, make_connector, clock):
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    table = sandbox.store.table("contacts")
    with sandbox.store.lock:
        row = table.rows[table.ids[0]]
        title = table.raw(row, "jobtitle")
    clock.advance(60.0)
    reply = requests.patch(
        f"{sandbox.url}/crm/v3/objects/contacts/{row.id}",
        json={"properties": {"jobtitle": "Chief Revenue Officer"}},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=5,
    )
    assert reply.status_code == 200

    known = connector.property_history("contact", [str(row.id)], ["jobtitle"])

    assert known.values[str(row.id)]["jobtitle"] == [
        (moment(row.created), title),
        (moment(int(clock() * 1000)), "Chief Revenue Officer"),
    ]


def test_changes_are_sorted_oldest_first_and_ties_keep_hubspots_order():
    entries: list[dict[str, str | None]] = [
        {"value": "b", "timestamp": "2026-02-01T00:00:00.000Z", "sourceType": "CRM_UI"},
        {"value": "a2", "timestamp": "2026-01-01T00:00:00.000Z", "sourceType": "CRM_UI"},
        {"value": "a1", "timestamp": "2026-01-01T00:00:00.000Z", "sourceType": "CRM_UI"},
        {"value": "x", "timestamp": None, "sourceType": "CRM_UI"},
    ]
    january, february = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    assert changes_of(entries) == [(january, "a1"), (january, "a2"), (february, "b")]
