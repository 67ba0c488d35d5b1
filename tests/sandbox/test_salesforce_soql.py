"""The sandbox's SOQL subset: what parses, what Salesforce would refuse, and how it evaluates."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from sandbox.salesforce.query_engine import QueryEngine
from sandbox.salesforce.soql import (
    Compare,
    InList,
    Junction,
    Like,
    Negation,
    SoqlError,
    parse,
)
from sandbox.salesforce.store import Store
from sandbox.salesforce.values import to_epoch

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def test_parse_full_statement():
    query = parse(
        "SELECT Id, Title, Account.Industry, (SELECT Subject FROM Tasks WHERE Status = 'Done' "
        "ORDER BY CreatedDate DESC LIMIT 5) FROM Lead WHERE IsConverted = false AND "
        "(SystemModstamp > 2026-01-02T03:04:05Z OR (SystemModstamp = 2026-01-02T03:04:05Z AND "
        "Id > '00Q000000000001')) ORDER BY SystemModstamp ASC NULLS LAST, Id LIMIT 10 OFFSET 5"
    )
    assert query.sobject == "Lead"
    assert [f.text for f in query.fields] == ["Id", "Title", "Account.Industry"]
    assert query.subqueries[0].relationship == "Tasks"
    assert query.subqueries[0].query.limit == 5
    assert query.subqueries[0].query.order[0].descending is True
    assert isinstance(query.where, Junction) and query.where.op == "AND"
    inner = query.where.items[1]
    assert isinstance(inner, Junction) and inner.op == "OR"
    assert [(k.field.text, k.descending, k.nulls_last) for k in query.order] == [
        ("SystemModstamp", False, True),
        ("Id", False, False),
    ]
    assert (query.limit, query.offset) == (10, 5)


@pytest.mark.parametrize(
    ("where", "kind"),
    [
        ("Name LIKE 'Ac%'", Like),
        ("Industry IN ('Banking', 'Finance')", InList),
        ("Industry NOT IN ('Banking')", InList),
        ("NOT Industry = 'Banking'", Negation),
        ("NumberOfEmployees >= 100", Compare),
        ("Id IN (SELECT LeadId FROM CampaignMember)", InList),
    ],
)
def test_parse_operators(where, kind):
    assert isinstance(parse(f"SELECT Id FROM Lead WHERE {where}").where, kind)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3", "unexpected token: 'OR'"),
        (
            "SELECT Id FROM Lead WHERE CreatedDate > 2026-01-01T00:00:00.000Z",
            "no viable alternative",
        ),
        ("SELECT Id FROM Lead WHERE", "unexpected end of query"),
        ("SELECT Id Lead", "unexpected token: 'Lead'"),
        ("SELECT Id FROM Lead LIMIT x", "unexpected token: 'x'"),
        ("SELECT Id FROM Lead WHERE Name = 'a\\qb'", "Illegal character sequence"),
        ("", "empty query"),
    ],
)
def test_parse_errors_are_malformed_query(text, message):
    with pytest.raises(SoqlError, match=message) as caught:
        parse(text)
    assert caught.value.code == "MALFORMED_QUERY"


@pytest.fixture(scope="module")
def store():
    from sandbox.salesforce.generator import generate

    org = Store(now_epoch=to_epoch(NOW), seed=3)
    generate(org, leads=300, seed=3)
    return org


def _ids(store, text):
    engine = QueryEngine(store)
    body = engine.run(
        text, store.integration_user, batch_size=2000, version="62.0", include_deleted=False
    )
    return [r["Id"] for r in body["records"]], body


def _python(store, predicate):
    return [r["Id"] for r in store.table("Lead").values() if predicate(r)]


def test_filters_match_a_python_evaluation(store):
    ids, _ = _ids(
        store,
        "SELECT Id FROM Lead WHERE Industry IN ('Banking', 'Finance') AND NumberOfEmployees > 500",
    )
    assert ids == _python(
        store,
        lambda r: r["Industry"] in ("Banking", "Finance") and (r["NumberOfEmployees"] or 0) > 500,
    )
    ids, _ = _ids(store, "SELECT Id FROM Lead WHERE Title LIKE '%manager%' OR Rating = 'hot'")
    assert ids == _python(
        store,
        lambda r: "manager" in (r["Title"] or "").lower() or (r["Rating"] or "").lower() == "hot",
    )
    ids, _ = _ids(store, "SELECT Id FROM Lead WHERE Industry = null")
    assert ids == _python(store, lambda r: r["Industry"] is None)
    ids, _ = _ids(store, "SELECT Id FROM Lead WHERE NOT IsConverted = false")
    assert ids == _python(store, lambda r: r["IsConverted"])
    assert ids  # the generator converts some leads


def test_datetime_and_relative_date_literals(store):
    cutoff = to_epoch(NOW - dt.timedelta(days=30))
    ids, _ = _ids(store, "SELECT Id FROM Lead WHERE SystemModstamp >= 2026-10-21T12:00:00Z")
    assert ids == _python(store, lambda r: r["SystemModstamp"] >= cutoff)
    start = to_epoch(dt.datetime(2026, 11, 13, tzinfo=dt.UTC))
    ids, _ = _ids(store, "SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:7")
    assert ids == _python(store, lambda r: r["CreatedDate"] >= start)


def test_order_by_with_tiebreak_and_semi_join(store):
    ids, _ = _ids(store, "SELECT Id FROM Lead ORDER BY SystemModstamp DESC, Id")
    expected = sorted(store.table("Lead").values(), key=lambda r: r["Id"])
    expected.sort(key=lambda r: r["SystemModstamp"], reverse=True)
    assert ids == [r["Id"] for r in expected]
    ids, _ = _ids(store, "SELECT Id FROM Lead WHERE Id IN (SELECT LeadId FROM CampaignMember)")
    members = {r["LeadId"] for r in store.table("CampaignMember").values() if r.get("LeadId")}
    assert ids == [i for i in store.table("Lead") if i in members]


def test_count_and_parent_and_polymorphic_fields(store):
    _, body = _ids(store, "SELECT COUNT() FROM Lead WHERE IsConverted = true")
    assert body["records"] == []
    assert body["totalSize"] == sum(1 for r in store.table("Lead").values() if r["IsConverted"])
    _, body = _ids(store, "SELECT Id, Who.Type, WhoId FROM Task WHERE Who.Type = 'Lead' LIMIT 1")
    who = body["records"][0]["Who"]
    assert who["attributes"]["type"] == "Name"
    assert who["Type"] == "Lead"
    _, body = _ids(store, "SELECT Id, Account.Name FROM Contact LIMIT 1")
    record = body["records"][0]
    account = store.table("Account")[store.table("Contact")[record["Id"]]["AccountId"]]
    assert record["Account"]["Name"] == account["Name"]


def test_past_a_polymorphic_parent_the_name_objects_fields_come_from_the_parent(store):
    """A Lead's `Owner` is typed `Name`: its fields are served from the User or queue (Group)
    that owns the lead, null where that object has no such field (Salesforce Field Reference,
    "Name")."""
    leads = store.table("Lead")
    by_user, by_queue = list(leads)[:2]
    leads[by_queue]["OwnerId"] = store.assignment_queue
    user = store.table("User")[leads[by_user]["OwnerId"]]
    fields = "Owner.Email, Owner.FirstName, Owner.LastName, Owner.Alias, Owner.IsActive, Owner.Type"
    _, body = _ids(
        store,
        f"SELECT Id, {fields}, Owner.NameOrAlias, Owner.Title, Owner.UserRoleId FROM Lead "
        f"WHERE Id IN ('{by_user}', '{by_queue}') ORDER BY Id",
    )
    owners = {r["Id"]: r["Owner"] for r in body["records"]}
    assert owners[by_user] == {
        "attributes": owners[by_user]["attributes"],
        "Email": user["Email"],
        "FirstName": user["FirstName"],
        "LastName": user["LastName"],
        "Alias": user["Alias"],
        "IsActive": True,
        "Type": "User",
        "NameOrAlias": user["Name"],
        "Title": None,
        "UserRoleId": None,
    }
    assert owners[by_user]["attributes"]["type"] == "Name"
    assert {k: v for k, v in owners[by_queue].items() if k != "attributes"} == {
        "Email": None,
        "FirstName": None,
        "LastName": None,
        "Alias": None,
        "IsActive": None,
        "Type": "Group",
        "NameOrAlias": "Lead Assignment Queue",
        "Title": None,
        "UserRoleId": None,
    }
    ids, _ = _ids(store, f"SELECT Id FROM Lead WHERE Owner.Email = '{user['Email']}'")
    assert ids == [i for i, r in leads.items() if r["OwnerId"] == leads[by_user]["OwnerId"]]


def test_a_field_the_name_object_lacks_is_refused_past_a_polymorphic_parent(store):
    text = "SELECT Id, Owner.Username, Owner.CreatedDate FROM Lead"
    with pytest.raises(SoqlError) as caught:
        QueryEngine(store).plan(text, store.integration_user)
    assert caught.value.code == "INVALID_FIELD"
    assert "No such column 'CreatedDate' on entity 'Name'." in str(caught.value)


def test_a_field_path_climbs_several_parents(store):
    """`Account.Owner.Name` on a Contact: the Account, then its owner, nested as Salesforce
    nests parent records (each with its attributes); a Contact without an Account has
    `"Account": null` and nothing past it, and a filter on the path sees the same value."""
    users = store.table("User")
    accounts = store.table("Account")
    contacts = store.table("Contact")
    with_account = next(i for i, c in contacts.items() if c.get("AccountId"))
    account_id = contacts[with_account]["AccountId"]
    owner_id = accounts[account_id]["OwnerId"]
    _, body = _ids(
        store,
        "SELECT Id, Account.Owner.Name, Account.Owner.Id, Account.Industry FROM Contact "
        f"WHERE Id = '{with_account}'",
    )
    (record,) = body["records"]
    account = record["Account"]
    assert account["attributes"]["type"] == "Account"
    assert account["Industry"] == accounts[account_id].get("Industry")
    assert account["Owner"]["attributes"]["type"] == "User"
    assert account["Owner"]["attributes"]["url"].endswith(f"/sobjects/User/{owner_id}")
    assert (account["Owner"]["Name"], account["Owner"]["Id"]) == (users[owner_id]["Name"], owner_id)
    name = users[owner_id]["Name"].replace("'", "\\'")
    ids, _ = _ids(store, f"SELECT Id FROM Contact WHERE Account.Owner.Name = '{name}' ORDER BY Id")
    assert ids == sorted(
        i for i, c in contacts.items()
        if c.get("AccountId") and accounts[c["AccountId"]]["OwnerId"] == owner_id
    )  # fmt: skip


def test_a_field_path_climbs_up_to_four_parents_and_stops_at_a_missing_one():
    """Five levels with the queried object, as Salesforce counts them; past a missing parent
    the relationship is null."""
    org = Store(now_epoch=to_epoch(NOW), seed=5)
    from sandbox.salesforce.generator import generate

    generate(org, leads=40, seed=5)
    users, accounts = org.table("User"), org.table("Account")
    (contact_id, contact), (orphan_id, orphan) = list(org.table("Contact").items())[:2]
    owner = accounts[contact["AccountId"]]["OwnerId"]
    chain = [owner, *(u for u in users if u != owner)][:3]
    for user, creator in itertools.pairwise(chain):
        users[user]["CreatedById"] = creator
    _, body = _ids(
        org,
        f"SELECT Id, Account.Owner.CreatedBy.CreatedBy.Name FROM Contact WHERE Id = '{contact_id}'",
    )
    top = body["records"][0]["Account"]["Owner"]["CreatedBy"]["CreatedBy"]
    assert (top["attributes"]["type"], top["Name"]) == ("User", users[chain[2]]["Name"])
    orphan["AccountId"] = None
    _, body = _ids(org, f"SELECT Id, Account.Owner.Name FROM Contact WHERE Id = '{orphan_id}'")
    assert body["records"][0]["Account"] is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SELECT Nope FROM Lead", "INVALID_FIELD"),
        ("SELECT Account.Owner.Nope FROM Contact", "INVALID_FIELD"),
        ("SELECT Who.Owner.Name FROM Task", "INVALID_FIELD"),  # past a polymorphic parent
        # six levels with the Contact: past the five SOQL allows
        ("SELECT Account.Owner.CreatedBy.CreatedBy.CreatedBy.Name FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT Id, (SELECT Id FROM Nopes) FROM Lead", "INVALID_TYPE"),
        ("SELECT Id FROM Lead WHERE CreatedDate > '2026-01-01'", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE IsConverted = 'false'", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE Description = 'x'", "INVALID_FIELD"),
        ("SELECT Leadsync_Score__c FROM Lead", "INVALID_FIELD"),
    ],
)
def test_semantic_errors(store, text, code):
    with pytest.raises(SoqlError) as caught:
        QueryEngine(store).plan(text, store.integration_user)
    assert caught.value.code == code


def test_a_subquery_result_past_200_children_pages_through_its_own_next_records_url():
    from sandbox.salesforce.generator import generate

    org = Store(now_epoch=to_epoch(NOW), seed=5)
    generate(org, leads=400, seed=5)
    lead = next(i for i, r in org.table("Lead").items() if not r["IsConverted"])
    template = next(iter(org.table("Task").values()))
    for i in range(450):
        org.load("Task", {**template, "Id": None, "WhoId": lead, "CreatedDate": i})
    expected = [
        r["Id"]
        for r in sorted(org.table("Task").values(), key=lambda r: (-r["CreatedDate"], r["Id"]))
        if r["WhoId"] == lead
    ]
    engine = QueryEngine(org)
    user = org.integration_user
    text = "SELECT Id, (SELECT Id FROM Tasks ORDER BY CreatedDate DESC, Id) FROM Lead ORDER BY Id"
    first = engine.run(text, user, batch_size=200, version="62.0", include_deleted=False)
    row = next(r for r in first["records"] if r["Id"] == lead)
    tasks = row["Tasks"]
    assert (tasks["totalSize"], tasks["done"], len(tasks["records"])) == (len(expected), False, 200)
    locator = tasks["nextRecordsUrl"].removeprefix("/services/data/v62.0/query/")
    assert locator.endswith("-200")
    seen = [t["Id"] for t in tasks["records"]]
    pages = 0
    while locator:
        page = engine.more(locator, user, batch_size=2000, version="62.0")
        assert len(page["records"]) <= 200
        seen += [t["Id"] for t in page["records"]]
        pages += 1
        url = page.get("nextRecordsUrl")
        assert page["done"] is (url is None)
        locator = url.removeprefix("/services/data/v62.0/query/") if url else ""
    assert seen == expected
    assert pages == -(-len(expected) // 200) - 1
    # Moving the parent query on invalidates the child cursors of its previous page.
    again = engine.run(text, user, batch_size=200, version="62.0", include_deleted=False)
    child = next(r for r in again["records"] if r["Id"] == lead)["Tasks"]["nextRecordsUrl"]
    assert not again["done"]
    engine.more(again["nextRecordsUrl"].rsplit("/", 1)[1], user, batch_size=200, version="62.0")
    with pytest.raises(SoqlError) as caught:
        engine.more(child.rsplit("/", 1)[1], user, batch_size=200, version="62.0")
    assert caught.value.code == "INVALID_QUERY_LOCATOR"
