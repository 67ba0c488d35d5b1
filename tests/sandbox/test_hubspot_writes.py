"""Writes to the HubSpot sandbox: batch update 200/207, read-only and typed properties, the
Properties API (create, 409 on duplicates, type/fieldType validation, PATCH updates and what
HubSpot-defined properties refuse) and property groups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from sandbox.hubspot import HubSpotSandbox

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.t = NOW.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def sandbox():
    with HubSpotSandbox(contacts=40, seed=5, now=NOW, clock=Clock()) as box:
        yield box


@pytest.fixture
def http(sandbox):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox.token}"
    yield session
    session.close()


def _create(
    sandbox: HubSpotSandbox, http: requests.Session, body: dict[str, Any], kind: str = "contacts"
) -> requests.Response:
    return http.post(f"{sandbox.url}/crm/v3/properties/{kind}", json=body)


FIT = {
    "name": "leadsync_fit",
    "label": "Fit score",
    "type": "number",
    "fieldType": "number",
    "groupName": "leadsync",
}


def _leadsync_schema(sandbox: HubSpotSandbox, http: requests.Session) -> None:
    group = http.post(
        f"{sandbox.url}/crm/v3/properties/contacts/groups",
        json={"name": "leadsync", "label": "leadsync"},
    )
    assert group.status_code == 201
    assert _create(sandbox, http, FIT).status_code == 201
    grade = {
        "name": "leadsync_grade",
        "label": "Fit grade",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "leadsync",
        "options": [{"label": g, "value": g} for g in "ABCD"],
    }
    assert _create(sandbox, http, grade).status_code == 201
    for name, kind, field in (
        ("leadsync_qualified", "bool", "booleancheckbox"),
        ("leadsync_scored_at", "datetime", "date"),
        ("leadsync_reasons", "string", "textarea"),
    ):
        body = {
            "name": name,
            "label": name,
            "type": kind,
            "fieldType": field,
            "groupName": "leadsync",
        }
        assert _create(sandbox, http, body).status_code == 201


def test_property_create_read_and_409_on_duplicate(sandbox, http):
    _leadsync_schema(sandbox, http)
    prop = http.get(f"{sandbox.url}/crm/v3/properties/contacts/leadsync_fit").json()
    assert prop["name"] == "leadsync_fit"
    assert prop["type"] == "number"
    assert prop["fieldType"] == "number"
    assert prop["groupName"] == "leadsync"
    assert prop["modificationMetadata"] == {
        "archivable": True,
        "readOnlyDefinition": False,
        "readOnlyOptions": False,
        "readOnlyValue": False,
    }
    assert "hubspotDefined" not in prop
    again = _create(sandbox, http, FIT)
    assert again.status_code == 409
    body = again.json()
    assert body["status"] == "error"
    assert body["category"] == "OBJECT_ALREADY_EXISTS"
    assert body["message"] == "Property named 'leadsync_fit' already exists."
    group = http.post(
        f"{sandbox.url}/crm/v3/properties/contacts/groups", json={"name": "leadsync", "label": "x"}
    )
    assert group.status_code == 409
    groups = http.get(f"{sandbox.url}/crm/v3/properties/contacts/groups").json()["results"]
    assert {
        "name": "leadsync",
        "label": "leadsync",
        "displayOrder": -1,
        "archived": False,
    } in groups
    listed = http.get(f"{sandbox.url}/crm/v3/properties/contacts").json()["results"]
    names = [p["name"] for p in listed]
    assert "leadsync_grade" in names and "hs_analytics_num_page_views" in names
    bool_prop = next(p for p in listed if p["name"] == "leadsync_qualified")
    assert [o["value"] for o in bool_prop["options"]] == ["true", "false"]


def test_hubspot_defined_properties_are_read_only(sandbox, http):
    listed = http.get(f"{sandbox.url}/crm/v3/properties/contacts").json()["results"]
    by_name = {p["name"]: p for p in listed}
    for name in (
        "hs_analytics_num_page_views",
        "lastmodifieddate",
        "hs_object_id",
        "hs_email_open",
    ):
        assert by_name[name]["modificationMetadata"]["readOnlyValue"] is True
        assert by_name[name]["hubspotDefined"] is True
    for name in ("jobtitle", "lifecyclestage", "email"):
        assert by_name[name]["modificationMetadata"]["readOnlyValue"] is False
    assert by_name["numemployees"]["type"] == "enumeration"
    assert [o["value"] for o in by_name["numemployees"]["options"]] == [
        "1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({**FIT, "fieldType": "text"}, 400, "not valid with fieldType"),
        ({**FIT, "type": "money"}, 400, "Invalid type"),
        ({**FIT, "name": "Bad Name"}, 400, "invalid"),
        ({**FIT, "groupName": "nosuchgroup"}, 400, "does not exist"),
        ({k: v for k, v in FIT.items() if k != "label"}, 400, "label"),
        ({**FIT, "type": "enumeration", "fieldType": "select"}, 400, "option"),
        ({**FIT, "name": "jobtitle", "groupName": "contactinformation"}, 409, "already exists"),
    ],
)
def test_property_create_validation(sandbox, http, body, status, fragment):
    response = _create(sandbox, http, body)
    assert response.status_code == status
    assert fragment in response.json()["message"]


def test_batch_update_writes_typed_values_and_bumps_modified_dates(sandbox, http):
    _leadsync_schema(sandbox, http)
    sandbox.clock.t = NOW.timestamp() + 3600
    ids = [str(i) for i in sandbox.store.table("contacts").ids[:2]]
    values = {
        "leadsync_fit": 72,
        "leadsync_grade": "B",
        "leadsync_qualified": True,
        "leadsync_scored_at": "2026-11-20T12:30:00.000Z",
        "leadsync_reasons": "Title: VP (+25)\nPricing page (+10)",
    }
    response = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/batch/update",
        json={"inputs": [{"id": i, "properties": values} for i in ids]},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "COMPLETE"
    assert "errors" not in body
    stamp = "2026-11-20T13:00:00.000Z"
    for record in body["results"]:
        assert record["updatedAt"] == stamp
        assert record["properties"]["lastmodifieddate"] == stamp
        assert record["properties"]["hs_lastmodifieddate"] == stamp
    read = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/batch/read",
        json={"inputs": [{"id": ids[0]}], "properties": list(values)},
    ).json()["results"][0]["properties"]
    assert read == {
        "leadsync_fit": "72",
        "leadsync_grade": "B",
        "leadsync_qualified": "true",
        "leadsync_scored_at": "2026-11-20T12:30:00.000Z",
        "leadsync_reasons": "Title: VP (+25)\nPricing page (+10)",
    }
    found = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": stamp}
                    ]
                }
            ]
        },
    ).json()
    assert sorted(r["id"] for r in found["results"]) == sorted(ids)


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"leadsync_fit": "high"}, "INVALID_INTEGER"),
        ({"leadsync_grade": "E"}, "INVALID_OPTION"),
        ({"leadsync_qualified": "maybe"}, "INVALID_BOOLEAN"),
        ({"leadsync_scored_at": "yesterday"}, "INVALID_DATE"),
        ({"hs_analytics_num_page_views": "3"}, "READ_ONLY_VALUE"),
        ({"lastmodifieddate": "2026-01-01T00:00:00Z"}, "READ_ONLY_VALUE"),
        ({"no_such_property": "x"}, "PROPERTY_DOESNT_EXIST"),
    ],
)
def test_batch_update_207_names_each_failed_record(sandbox, http, props, code):
    _leadsync_schema(sandbox, http)
    good, bad = (str(i) for i in sandbox.store.table("contacts").ids[:2])
    before = http.get(
        f"{sandbox.url}/crm/v3/objects/contacts/{bad}", params={"properties": list(props)}
    ).json()
    response = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/batch/update",
        json={
            "inputs": [
                {"id": good, "properties": {"leadsync_fit": "10"}},
                {"id": bad, "properties": props},
                {"id": "99999999", "properties": {"leadsync_fit": "10"}},
            ]
        },
    )
    assert response.status_code == 207
    body = response.json()
    assert [r["id"] for r in body["results"]] == [good]
    assert body["numErrors"] == 2
    missing, invalid = body["errors"]
    assert missing["category"] == "OBJECT_NOT_FOUND"
    assert missing["context"] == {"ids": ["99999999"]}
    assert invalid["category"] == "VALIDATION_ERROR"
    assert invalid["context"]["ids"] == [bad]
    assert invalid["context"]["propertyName"] == list(props)
    assert invalid["errors"][0]["code"] == code
    assert invalid["message"].startswith("Property values were not valid: ")
    after = http.get(
        f"{sandbox.url}/crm/v3/objects/contacts/{bad}", params={"properties": list(props)}
    ).json()
    assert after["properties"] == before["properties"]
    assert after["updatedAt"] == before["updatedAt"]


def test_patch_single_record(sandbox, http):
    contact = str(sandbox.store.table("contacts").ids[0])
    ok = http.patch(
        f"{sandbox.url}/crm/v3/objects/contacts/{contact}",
        json={"properties": {"jobtitle": "Chief Revenue Officer", "lifecyclestage": "opportunity"}},
    )
    assert ok.status_code == 200
    assert ok.json()["properties"]["jobtitle"] == "Chief Revenue Officer"
    bad = http.patch(
        f"{sandbox.url}/crm/v3/objects/contacts/{contact}",
        json={"properties": {"lifecyclestage": "champion"}},
    )
    assert bad.status_code == 400
    assert bad.json()["category"] == "VALIDATION_ERROR"


def test_createdate_is_writable_and_moves_created_at(sandbox, http):
    contact = str(sandbox.store.table("contacts").ids[1])
    response = http.patch(
        f"{sandbox.url}/crm/v3/objects/contacts/{contact}",
        json={"properties": {"createdate": "2024-02-03T04:05:06.007Z"}},
    )
    assert response.status_code == 200
    assert response.json()["createdAt"] == "2024-02-03T04:05:06.007Z"
    assert response.json()["properties"]["createdate"] == "2024-02-03T04:05:06.007Z"


def _patch(
    sandbox: HubSpotSandbox, http: requests.Session, name: str, body: Any
) -> requests.Response:
    return http.patch(f"{sandbox.url}/crm/v3/properties/contacts/{name}", json=body)


def _option_list(*values: str) -> list[dict[str, Any]]:
    return [{"label": f"Grade {v}", "value": v, "displayOrder": i} for i, v in enumerate(values)]


def test_patch_replaces_the_fields_sent_and_keeps_the_rest(sandbox, http):
    _leadsync_schema(sandbox, http)
    before = http.get(f"{sandbox.url}/crm/v3/properties/contacts/leadsync_grade").json()
    sandbox.clock.t = NOW.timestamp() + 60
    response = _patch(sandbox, http, "leadsync_grade", {"options": _option_list(*"ABCDE")})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        **before,
        "options": [
            {"label": f"Grade {v}", "value": v, "description": "", "displayOrder": i,
             "hidden": False}
            for i, v in enumerate("ABCDE")
        ],
        "updatedAt": "2026-11-20T12:01:00.000Z",
    }  # fmt: skip
    assert http.get(f"{sandbox.url}/crm/v3/properties/contacts/leadsync_grade").json() == body
    relabelled = _patch(sandbox, http, "leadsync_grade", {"label": "Grade", "hidden": True}).json()
    assert (relabelled["label"], relabelled["hidden"]) == ("Grade", True)
    assert relabelled["options"] == body["options"]
    contact = str(sandbox.store.table("contacts").ids[0])
    written = http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/batch/update",
        json={"inputs": [{"id": contact, "properties": {"leadsync_grade": "E"}}]},
    )
    assert written.status_code == 200  # the new option is a valid value at once
    assert sandbox.request_counts()["PATCH /crm/v3/properties/{object}/{name}"] == {"200": 2}


def test_patch_options_of_an_editable_hubspot_dropdown(sandbox, http):
    stages = http.get(f"{sandbox.url}/crm/v3/properties/contacts/lifecyclestage").json()
    assert stages["modificationMetadata"]["readOnlyDefinition"] is True
    assert stages["modificationMetadata"]["readOnlyOptions"] is False
    extended = [*stages["options"], {"label": "Partner", "value": "partner", "displayOrder": 8}]
    response = _patch(sandbox, http, "lifecyclestage", {"options": extended})
    assert response.status_code == 200
    assert [o["value"] for o in response.json()["options"]][-2:] == ["other", "partner"]
    assert response.json()["hubspotDefined"] is True


@pytest.mark.parametrize(
    ("name", "body", "status", "fragment"),
    [
        ("jobtitle", {"label": "Title"}, 400, "HubSpot-defined property: its definition is read"),
        ("lifecyclestage", {"fieldType": "select", "options": []}, 400, "(fieldType)"),
        ("hs_analytics_source", {"options": _option_list("X")}, 400, "readOnlyOptions"),
        ("hs_analytics_num_page_views", {"options": _option_list("X")}, 400, "readOnlyOptions"),
        ("leadsync_fit", {"fieldType": "text"}, 400, "not valid with fieldType"),
        ("leadsync_fit", {"type": "money"}, 400, "Invalid type"),
        ("leadsync_fit", {"options": _option_list("X")}, 400, "only valid on enumeration"),
        ("leadsync_fit", {"groupName": "nosuchgroup"}, 400, "does not exist"),
        ("leadsync_fit", {"name": "leadsync_fitness"}, 400, "cannot be changed"),
        ("leadsync_fit", {"archived": True}, 400, 'Unrecognized field "archived"'),
        ("leadsync_fit", {}, 400, "expected an object"),
        ("leadsync_grade", {"options": []}, 400, "at least one option"),
        ("leadsync_grade", {"options": [{"value": "A"}]}, 400, "{label, value}"),
        ("leadsync_nosuch", {"label": "x"}, 404, "Unable to find property leadsync_nosuch"),
    ],
)
def test_patch_refusals(sandbox, http, name, body, status, fragment):
    _leadsync_schema(sandbox, http)
    table = sandbox.store.table("contacts")
    before = table.props.get(name)
    response = _patch(sandbox, http, name, body)
    assert response.status_code == status
    assert fragment in response.json()["message"]
    assert table.props.get(name) is before  # unchanged


def test_patch_type_only_while_no_record_has_a_value(sandbox, http):
    _leadsync_schema(sandbox, http)
    retyped = _patch(sandbox, http, "leadsync_fit", {"type": "string", "fieldType": "text"})
    assert (retyped.status_code, retyped.json()["type"]) == (200, "string")
    contact = str(sandbox.store.table("contacts").ids[0])
    http.post(
        f"{sandbox.url}/crm/v3/objects/contacts/batch/update",
        json={"inputs": [{"id": contact, "properties": {"leadsync_fit": "high"}}]},
    ).raise_for_status()
    back = _patch(sandbox, http, "leadsync_fit", {"type": "number", "fieldType": "number"})
    assert back.status_code == 400
    assert "has values; its type cannot change from string to number" in back.json()["message"]


def test_patch_needs_the_schema_write_scope(sandbox, http):
    _leadsync_schema(sandbox, http)
    token = sandbox.new_token(["crm.schemas.contacts.read", "crm.objects.contacts.read"])
    response = requests.patch(
        f"{sandbox.url}/crm/v3/properties/contacts/leadsync_grade",
        json={"label": "x"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 403
    assert response.json()["category"] == "MISSING_SCOPES"
