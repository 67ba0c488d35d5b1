"""CRM objects endpoints of the HubSpot sandbox over plain HTTP: shapes, paging, search, batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import requests

from sandbox.hubspot import HubSpotSandbox
from sandbox.hubspot.values import parse_datetime_ms

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


class Clock:
    """A settable clock (seconds since the epoch)."""

    def __init__(self, start: dt.datetime = NOW) -> None:
        self.t = start.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def sandbox():
    clock = Clock()
    with HubSpotSandbox(
        contacts=300,
        archived_contacts=3,
        seed=11,
        now=NOW,
        clock=clock,
        rate_limit_10s=10_000,
        search_per_second=10_000,
    ) as box:
        yield box


@pytest.fixture(scope="module")
def http(sandbox):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox.token}"
    yield session
    session.close()


def _list_all(
    sandbox: HubSpotSandbox, http: requests.Session, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    seen: list[dict[str, Any]] = []
    after, pages = None, 0
    while True:
        query = dict(params)
        if after:
            query["after"] = after
        body = http.get(f"{sandbox.url}/crm/v3/objects/contacts", params=query).json()
        pages += 1
        seen.extend(body["results"])
        if "paging" not in body:
            return seen, pages
        after = body["paging"]["next"]["after"]
        assert body["paging"]["next"]["link"].startswith(f"{sandbox.url}/crm/v3/objects/contacts?")


def test_list_pages_to_the_end_in_id_order(sandbox, http):
    records, pages = _list_all(sandbox, http, limit=100, properties="email")
    ids = [int(r["id"]) for r in records]
    table = sandbox.store.table("contacts")
    live = [i for i in table.ids if not table.rows[i].archived]
    assert len(ids) == 300  # and three archived contacts on top
    assert len(table.ids) == 303
    assert pages == 3
    assert ids == live


def test_archived_contacts_are_listed_only_when_asked(sandbox, http):
    table = sandbox.store.table("contacts")
    archived = [i for i in table.ids if table.rows[i].archived]
    body = http.get(
        f"{sandbox.url}/crm/v3/objects/contacts", params={"archived": "true", "limit": 100}
    ).json()
    assert [int(r["id"]) for r in body["results"]] == archived
    assert all(r["archived"] is True and r["archivedAt"] == r["updatedAt"] for r in body["results"])
    gone = http.get(f"{sandbox.url}/crm/v3/objects/contacts/{archived[0]}")
    assert gone.status_code == 404


def test_record_shape_is_hubspots(sandbox, http):
    response = http.get(
        f"{sandbox.url}/crm/v3/objects/contacts",
        params={"limit": 1, "properties": "email,hs_object_id,createdate,no_such_property"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    record = response.json()["results"][0]
    assert sorted(record) == ["archived", "createdAt", "id", "properties", "updatedAt"]
    assert record["archived"] is False
    assert sorted(record["properties"]) == ["createdate", "email", "hs_object_id"]
    assert record["properties"]["hs_object_id"] == record["id"]
    assert record["properties"]["createdate"] == record["createdAt"]
    assert record["createdAt"].endswith("Z") and len(record["createdAt"]) == 24


def test_default_properties_without_a_properties_parameter(sandbox, http):
    record = http.get(f"{sandbox.url}/crm/v3/objects/contacts", params={"limit": 1}).json()
    assert sorted(record["results"][0]["properties"]) == [
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ]


def test_properties_as_repeated_keys_and_every_value_a_string_or_null(sandbox, http):
    names = ["hs_analytics_num_page_views", "hs_email_last_open_date", "numemployees", "jobtitle"]
    body = http.get(
        f"{sandbox.url}/crm/v3/objects/contacts",
        params=[("limit", "100"), *(("properties", n) for n in names)],
    ).json()
    for record in body["results"]:
        assert sorted(record["properties"]) == sorted(names)
        assert all(v is None or isinstance(v, str) for v in record["properties"].values())
    values = [r["properties"]["hs_email_last_open_date"] for r in body["results"]]
    assert any(v is None for v in values)
    assert all(v is None or parse_datetime_ms(v) is not None for v in values)


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": "101"}, 400), ({"limit": "0"}, 400), ({"limit": "x"}, 400), ({"after": "z"}, 400)],
)
def test_list_rejects_bad_paging(sandbox, http, params, status):
    response = http.get(f"{sandbox.url}/crm/v3/objects/contacts", params=params)
    assert response.status_code == status
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_associations_on_list_and_v4_batch_read(sandbox, http):
    contacts = sandbox.store.table("contacts")
    linked = next(i for i in contacts.ids if sandbox.store.associated("contacts", i, "companies"))
    alone = next(
        i for i in contacts.ids if not sandbox.store.associated("contacts", i, "companies")
    )
    company = sandbox.store.associated("contacts", linked, "companies")[0]
    body = http.get(
        f"{sandbox.url}/crm/v3/objects/contacts/{linked}", params={"associations": "companies"}
    ).json()
    assert body["associations"] == {
        "companies": {
            "results": [
                {"id": str(company), "type": "contact_to_company"},
                {"id": str(company), "type": "contact_to_company_unlabeled"},
            ]
        }
    }
    response = http.post(
        f"{sandbox.url}/crm/v4/associations/contacts/companies/batch/read",
        json={"inputs": [{"id": str(linked)}, {"id": str(alone)}]},
    )
    assert response.status_code == 207
    body = response.json()
    assert body["results"] == [
        {
            "from": {"id": str(linked)},
            "to": [
                {
                    "toObjectId": company,
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
                    ],
                }
            ],
        }
    ]
    assert body["errors"][0]["message"] == f"No company is associated with contact {alone}."
    assert body["errors"][0]["context"] == {
        "fromObjectId": [str(alone)],
        "fromObjectType": ["contact"],
        "toObjectType": ["company"],
    }
    assert body["numErrors"] == 1


def test_meetings_and_calls_are_objects_associated_to_contacts(sandbox, http):
    meetings = sandbox.store.table("meetings")
    meeting_id = meetings.ids[0]
    contact_id = sandbox.store.associated("meetings", meeting_id, "contacts")[0]
    assert meeting_id in sandbox.store.associated("contacts", contact_id, "meetings")
    body = http.get(
        f"{sandbox.url}/crm/v3/objects/meetings/{meeting_id}",
        params={"properties": "hs_timestamp,hs_meeting_title,hs_meeting_outcome"},
    ).json()
    assert body["properties"]["hs_meeting_outcome"] in {
        "SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED",
    }  # fmt: skip
    response = http.post(
        f"{sandbox.url}/crm/v4/associations/contacts/meetings/batch/read",
        json={"inputs": [{"id": str(contact_id)}]},
    ).json()
    to = response["results"][0]["to"]
    assert meeting_id in [t["toObjectId"] for t in to]
    assert to[0]["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 199, "label": None}
    ]
    calls = http.get(f"{sandbox.url}/crm/v3/objects/calls", params={"limit": 5}).json()["results"]
    assert len(calls) == 5


def test_get_unknown_record_is_404_object_not_found(sandbox, http):
    response = http.get(f"{sandbox.url}/crm/v3/objects/contacts/999999999")
    assert response.status_code == 404
    assert response.json()["category"] == "OBJECT_NOT_FOUND"
    assert response.headers["X-HubSpot-Correlation-Id"] == response.json()["correlationId"]


def _search(
    sandbox: HubSpotSandbox, http: requests.Session, body: dict[str, Any], kind: str = "contacts"
) -> requests.Response:
    return http.post(f"{sandbox.url}/crm/v3/objects/{kind}/search", json=body)


def _python_filter(
    sandbox: HubSpotSandbox, name: str, predicate: Callable[[str | None], bool]
) -> list[int]:
    table = sandbox.store.table("contacts")
    return sorted(
        i
        for i in table.ids
        if not table.rows[i].archived and predicate(table.text(table.rows[i], name))
    )


def _num(value: str | None) -> float | None:
    return None if value is None else float(value)


@pytest.mark.parametrize(
    ("filt", "predicate", "name"),
    [
        (
            {"operator": "EQ", "value": "customer"},
            lambda v: v == "customer",
            "lifecyclestage",
        ),
        ({"operator": "NEQ", "value": "lead"}, lambda v: v != "lead", "lifecyclestage"),
        (
            {"operator": "IN", "values": ["customer", "opportunity"]},
            lambda v: v in ("customer", "opportunity"),
            "lifecyclestage",
        ),
        (
            {"operator": "NOT_IN", "values": ["lead"]},
            lambda v: v != "lead",
            "lifecyclestage",
        ),
        (
            {"operator": "GT", "value": "10"},
            lambda v: (_num(v) or -1) > 10,
            "hs_analytics_num_page_views",
        ),
        (
            {"operator": "GTE", "value": "10"},
            lambda v: (_num(v) or -1) >= 10,
            "hs_analytics_num_page_views",
        ),
        (
            {"operator": "LT", "value": "3"},
            lambda v: v is not None and float(v) < 3,
            "hs_analytics_num_page_views",
        ),
        (
            {"operator": "LTE", "value": "3"},
            lambda v: v is not None and float(v) <= 3,
            "hs_analytics_num_page_views",
        ),
        (
            {"operator": "BETWEEN", "value": "2", "highValue": "5"},
            lambda v: v is not None and 2 <= float(v) <= 5,
            "hs_analytics_num_page_views",
        ),
        ({"operator": "HAS_PROPERTY"}, lambda v: v is not None, "hs_email_last_click_date"),
        ({"operator": "NOT_HAS_PROPERTY"}, lambda v: v is None, "hs_email_last_click_date"),
        (
            {"operator": "GTE", "value": "2026-11-01T00:00:00.000Z"},
            lambda v: v is not None and v >= "2026-11-01T00:00:00.000Z",
            "lastmodifieddate",
        ),
        (
            {
                "operator": "LT",
                "value": str(int(dt.datetime(2026, 10, 1, tzinfo=dt.UTC).timestamp() * 1000)),
            },
            lambda v: v is not None and v < "2026-10-01T00:00:00.000Z",
            "notes_last_contacted",
        ),
    ],
)
def test_search_operators_match_a_python_evaluation(sandbox, http, filt, predicate, name):
    expected = _python_filter(sandbox, name, predicate)
    found: list[int] = []
    after = 0
    while True:
        body = {
            "filterGroups": [{"filters": [{"propertyName": name, **filt}]}],
            "limit": 200,
            "after": after,
            "properties": [name],
        }
        page = _search(sandbox, http, body).json()
        assert page["total"] == len(expected)
        found.extend(int(r["id"]) for r in page["results"])
        if "paging" not in page:
            break
        after = int(page["paging"]["next"]["after"])
    assert found == expected  # default order: hs_object_id ascending
    assert 0 < len(expected) < 300


@pytest.mark.parametrize(
    ("operator", "passes"), [("GT", lambda i, b: i > b), ("GTE", lambda i, b: i >= b)]
)
def test_search_paging_by_id_matches_a_python_evaluation(sandbox, http, operator, passes):
    # the connector's incremental read: modified since, ids past the last one, by id
    since = "2026-11-01T00:00:00.000Z"
    recent = _python_filter(sandbox, "lastmodifieddate", lambda v: v is not None and v >= since)
    for bound in (0, recent[len(recent) // 2], recent[len(recent) // 2] + 0.5, recent[-1]):
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": since},
                        {"propertyName": "hs_object_id", "operator": operator, "value": str(bound)},
                    ]
                }
            ],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "limit": 7,
            "properties": ["lastmodifieddate"],
        }
        page = _search(sandbox, http, body).json()
        expected = [i for i in recent if passes(i, bound)]
        assert page["total"] == len(expected)
        assert [int(r["id"]) for r in page["results"]] == expected[:7]


def test_search_groups_are_ored_and_sort_applies(sandbox, http):
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}
                ]
            },
            {
                "filters": [
                    {"propertyName": "lifecyclestage", "operator": "EQ", "value": "opportunity"}
                ]
            },
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
        "properties": ["lastmodifieddate", "lifecyclestage"],
        "limit": 200,
    }
    page = _search(sandbox, http, body).json()
    stages = {r["properties"]["lifecyclestage"] for r in page["results"]}
    assert stages == {"customer", "opportunity"}
    modified = [r["properties"]["lastmodifieddate"] for r in page["results"]]
    assert modified == sorted(modified, reverse=True)
    assert "paging" not in page


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"limit": 201}, "limit"),
        ({"sorts": ["email", "firstname"]}, "one sort"),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}
                ]
            },
            "nope",
        ),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "email", "operator": "LIKE", "value": "1"}]}
                ]
            },
            "operator",
        ),
        ({"filterGroups": [{"filters": []}] * 6}, "filter groups"),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 7}
                ]
            },
            "filters",
        ),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "hs_email_open", "operator": "GT", "value": "x"}]}
                ]
            },
            "valid number",
        ),
    ],
)
def test_search_validation_errors(sandbox, http, body, fragment):
    response = _search(sandbox, http, body)
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    assert fragment in response.json()["message"]


def test_malformed_json_is_a_400(sandbox, http):
    response = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/search",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid input JSON")


def test_batch_read_200_and_207_for_unknown_ids(sandbox, http):
    ids = [str(i) for i in sandbox.store.table("contacts").ids[:3]]
    ok = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/batch/read",
        json={"inputs": [{"id": i} for i in ids], "properties": ["email"]},
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "COMPLETE"
    assert [r["id"] for r in ok.json()["results"]] == ids
    assert "errors" not in ok.json()
    partial = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/batch/read",
        json={
            "inputs": [{"id": ids[0]}, {"id": "12345678"}, {"id": "abc"}],
            "properties": ["email"],
        },
    )
    assert partial.status_code == 207
    body = partial.json()
    assert [r["id"] for r in body["results"]] == [ids[0]]
    assert body["numErrors"] == 1
    assert body["errors"] == [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some CONTACT objects, they may be deleted or not exist. "
            "Check that ids are valid.",
            "context": {"ids": ["12345678", "abc"]},
        }
    ]


def test_batch_read_by_email_id_property(sandbox, http):
    table = sandbox.store.table("contacts")
    row = table.rows[table.ids[4]]
    email = table.raw(row, "email")
    body = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/batch/read",
        json={"inputs": [{"id": email.upper()}], "idProperty": "email", "properties": ["email"]},
    ).json()
    assert body["results"][0]["id"] == str(row.id)


def test_batch_limits(sandbox, http):
    too_many = {"inputs": [{"id": str(i)} for i in range(101)]}
    for path in ("batch/read", "batch/update"):
        response = http.post(f"{sandbox.url}/crm/v3/objects/contacts/{path}", json=too_many)
        assert response.status_code == 400
        assert response.json()["category"] == "VALIDATION_ERROR"
    dup = {"inputs": [{"id": "5", "properties": {}}, {"id": "5", "properties": {}}]}
    response = http.post(f"{sandbox.url}/crm/v3/objects/contacts/batch/update", json=dup)
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Duplicate IDs found in batch input: [5]. IDs must be unique"
    assert (body["category"], body["context"]) == ("VALIDATION_ERROR", {"ids": ["5"]})
