"""A lookup's history (a Contact's `AccountId`): Salesforce adds two rows per change, the names
the screens show and the ids; the connector keeps the ids (`test_account_history` holds the
query, which asks for the field's name and its relationship's)."""

from __future__ import annotations

from datetime import UTC, datetime

BEGINNING = datetime.min.replace(tzinfo=UTC)


def test_a_contact_moved_to_another_account_has_the_ids_in_its_history(
    make_sandbox, make_connector
):
    sandbox = make_sandbox()
    store = sandbox.store
    contact_id, contact = next(
        (i, c) for i, c in store.table("Contact").items() if c.get("AccountId")
    )
    before = contact["AccountId"]
    after = next(i for i in store.table("Account") if i != before)
    moved = store.now_epoch - 3_600
    sandbox.move_contact(contact_id, after, at=moved)
    rows = [r for r in store.table("ContactHistory").values() if r["ContactId"] == contact_id]
    names = {i: store.table("Account")[i]["Name"] for i in (before, after)}
    assert [(r["Field"], r["DataType"], r["OldValue"], r["NewValue"]) for r in rows] == [
        ("Account", "Text", names[before], names[after]),
        ("Account", "EntityId", before, after),
    ]
    got = make_connector(sandbox).property_history("contact", [contact_id], ["AccountId"])
    assert got.tracked == frozenset({"AccountId"})
    assert got.values == {
        contact_id: {
            "AccountId": [(BEGINNING, before), (datetime.fromtimestamp(moved, UTC), after)]
        }
    }
