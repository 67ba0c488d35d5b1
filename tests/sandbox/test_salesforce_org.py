"""The Salesforce sandbox over HTTPS, through simple-salesforce and plain requests: OAuth grants,
sessions, query paging, limits, describe, sObject Collections, composite, assignment rules,
converted leads, Tooling fields with field-level security, Bulk API 2.0 and faults."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from sandbox.salesforce import SalesforceSandbox

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
V = "62.0"


def _session(sandbox: SalesforceSandbox) -> requests.Session:
    session = requests.Session()
    session.verify = sandbox.ca_file
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`
    return session


def _token(sandbox: SalesforceSandbox, **form: str) -> requests.Response:
    return _session(sandbox).post(f"{sandbox.url}/services/oauth2/token", data=form)


def _client(sandbox: SalesforceSandbox) -> Salesforce:
    token = _token(
        sandbox,
        grant_type="client_credentials",
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
    ).json()
    return Salesforce(
        session_id=token["access_token"],
        instance_url=token["instance_url"],
        session=_session(sandbox),
        version=V,
    )


@pytest.fixture
def sandbox():
    with SalesforceSandbox(leads=250, seed=11, now=NOW) as box:
        yield box


@pytest.fixture
def sf(sandbox):
    return _client(sandbox)


def _content(caught: Any) -> Any:
    """The JSON error body of a simple-salesforce exception (typed `bytes` by the library)."""
    return caught.value.content


def _error_code(caught: Any) -> str:
    """The errorCode of a simple-salesforce exception's JSON error body."""
    content: Any = caught.value.content
    return str(content[0]["errorCode"])


def _lead_ids(sandbox, *, converted=False):
    return [
        i for i, r in sandbox.store.table("Lead").items() if bool(r["IsConverted"]) == converted
    ]


# -- OAuth and sessions ---------------------------------------------------------------------------


def test_client_credentials_token_shape(sandbox):
    body = _token(
        sandbox,
        grant_type="client_credentials",
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
    ).json()
    assert set(body) == {
        "access_token",
        "signature",
        "scope",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    }
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == sandbox.url
    assert body["id"].endswith(f"/{sandbox.integration_user_id}")


def test_jwt_bearer_grant(sandbox):
    key = Path(sandbox.private_key_file).read_bytes()
    claims = {
        "iss": sandbox.client_id,
        "sub": sandbox.username,
        "aud": sandbox.url,
        "exp": int(time.time()) + 120,
    }
    good = _token(
        sandbox,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=jwt.encode(claims, key, "RS256"),
    )
    assert good.status_code == 200
    assert good.json()["id"].endswith(sandbox.integration_user_id)
    wrong_sub = jwt.encode({**claims, "sub": "nobody@example.com"}, key, "RS256")
    bad = _token(
        sandbox, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=wrong_sub
    )
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")
    other_app = jwt.encode({**claims, "iss": "someone-else"}, key, "RS256")
    bad = _token(
        sandbox, grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=other_app
    )
    assert bad.json() == {
        "error": "invalid_client_id",
        "error_description": "client identifier invalid",
    }


@pytest.mark.parametrize(
    ("form", "error"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
            "invalid_client",
        ),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
    ],
)
def test_token_errors(sandbox, form, error):
    response = _token(sandbox, **form)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_expired_session_is_401_invalid_session_id(sandbox, sf):
    sf.query("SELECT Id FROM Lead LIMIT 1")
    sandbox.oauth.expire_all()
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert _content(caught) == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


# -- query, limits, describe ----------------------------------------------------------------------


def test_query_pages_with_batch_size_and_relative_next_url(sandbox, sf):
    page = sf.query(
        "SELECT Id FROM Lead ORDER BY Id", headers={"Sforce-Query-Options": "batchSize=150"}
    )
    assert len(page["records"]) == 200  # clamped to Salesforce's minimum batch size
    assert page["totalSize"] == 250
    assert page["nextRecordsUrl"].startswith(f"/services/data/v{V}/query/01g")
    assert page["nextRecordsUrl"].endswith("-200")
    rest = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True and "nextRecordsUrl" not in rest
    ids = [r["Id"] for r in page["records"] + rest["records"]]
    assert ids == sorted(sandbox.store.table("Lead"))


def test_subquery_children_count_toward_the_batch(sandbox, sf):
    text = "SELECT Id, (SELECT Id FROM Tasks) FROM Lead ORDER BY Id"
    page = sf.query(text, headers={"Sforce-Query-Options": "batchSize=200"})
    rows = sum(1 + len((r["Tasks"] or {}).get("records", [])) for r in page["records"])
    assert rows <= 200
    assert len(page["records"]) < 200
    for record in page["records"]:
        tasks = sandbox.store.child_ids("Task", "WhoId", record["Id"])
        if tasks:
            assert [t["Id"] for t in record["Tasks"]["records"]] == tasks
        else:
            assert record["Tasks"] is None


def test_two_custom_long_text_areas_cap_pages_at_200_rows(sandbox, sf):
    sandbox.install_leadsync_fields()
    one = sf.query("SELECT Id, Leadsync_Reasons__c, Description FROM Lead ORDER BY Id")
    assert len(one["records"]) == 250  # Description is standard: one custom long text area
    two = sf.query("SELECT Id, Leadsync_Reasons__c, Leadsync_Changes__c FROM Lead ORDER BY Id")
    assert len(two["records"]) == 200 and two["nextRecordsUrl"].endswith("-200")
    rest = sf.query_more(two["nextRecordsUrl"], identifier_is_url=True)
    assert len(rest["records"]) == 50 and rest["done"] is True


def test_limit_header_counts_every_call_and_limits_resource(sandbox, sf):
    sf.query("SELECT Id FROM Lead LIMIT 1")
    assert sf.api_usage["api-usage"].used == 1
    assert sf.api_usage["api-usage"].total == 100_000
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 100_000, "Remaining": 100_000 - 2}


def test_daily_allowance_spent_is_403_request_limit_exceeded(sandbox, sf):
    sandbox.set_usage(sandbox.daily_api_limit)
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert _content(caught) == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]


def test_malformed_query_is_400(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FROM Lead WHERE")
    assert _error_code(caught) == "MALFORMED_QUERY"


# -- writes ---------------------------------------------------------------------------------------


def _collection(records, *, auto_assign=None, all_or_none=False):
    headers = {} if auto_assign is None else {"Sforce-Auto-Assign": auto_assign}
    return {"allOrNone": all_or_none, "records": records}, headers


def test_collections_partial_failure_is_200_with_save_results(sandbox, sf):
    open_id = _lead_ids(sandbox)[0]
    converted_id = _lead_ids(sandbox, converted=True)[0]
    body, headers = _collection(
        [
            {"attributes": {"type": "Lead"}, "id": open_id, "Title": "VP Sales"},
            {"attributes": {"type": "Lead"}, "id": converted_id, "Title": "VP Sales"},
            {"attributes": {"type": "Lead"}, "id": "00Qbogus", "Title": "x"},
            {"attributes": {"type": "Lead"}, "id": open_id, "Title": "x" * 129},
        ],
        auto_assign="FALSE",
    )
    results = sf.restful("composite/sobjects", method="PATCH", json=body, headers=headers)
    assert results[0] == {"id": open_id, "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    assert results[2] == {
        "success": False,
        "errors": [
            {
                "statusCode": "MALFORMED_ID",
                "message": "Lead ID: id value of incorrect type: 00Qbogus",
                "fields": ["Id"],
            }
        ],
    }
    assert results[3]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert sandbox.store.table("Lead")[open_id]["Title"] == "VP Sales"


def test_collections_all_or_none_rolls_back(sandbox, sf):
    first, second = _lead_ids(sandbox)[:2]
    before = sandbox.store.table("Lead")[first]["Title"]
    body, headers = _collection(
        [
            {"attributes": {"type": "Lead"}, "id": first, "Title": "Changed"},
            {
                "attributes": {"type": "Lead"},
                "id": second,
                "Rating": "Lukewarm",
                "NumberOfEmployees": "many",
            },
        ],
        auto_assign="FALSE",
        all_or_none=True,
    )
    results = sf.restful("composite/sobjects", method="PATCH", json=body, headers=headers)
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert sandbox.store.table("Lead")[first]["Title"] == before


def test_more_than_200_records_is_refused(sf, sandbox):
    records = [
        {"attributes": {"type": "Lead"}, "id": i, "Title": "x"} for i in _lead_ids(sandbox)[:201]
    ]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="PATCH", json={"records": records})
    assert _error_code(caught) == "EXCEEDED_ID_LIMIT"


@pytest.mark.parametrize(
    ("header", "reassigned"), [(None, True), ("TRUE", True), ("FALSE", False), ("false", False)]
)
def test_assignment_rule_runs_unless_header_false(sandbox, sf, header, reassigned):
    lead_id = _lead_ids(sandbox)[0]
    owner = sandbox.store.table("Lead")[lead_id]["OwnerId"]
    body, headers = _collection(
        [{"attributes": {"type": "Lead"}, "id": lead_id, "Title": "CTO"}], auto_assign=header
    )
    sf.restful("composite/sobjects", method="PATCH", json=body, headers=headers)
    new_owner = sandbox.store.table("Lead")[lead_id]["OwnerId"]
    assert (new_owner == sandbox.store.assignment_queue) is reassigned
    assert (new_owner != owner) is reassigned


def test_single_record_patch_and_write_stamps(sandbox, sf):
    lead_id = _lead_ids(sandbox)[0]
    sf.Lead.update(
        lead_id, {"Title": "Head of Data", "Rating": ""}, headers={"Sforce-Auto-Assign": "FALSE"}
    )
    record = sandbox.store.table("Lead")[lead_id]
    assert (record["Title"], record["Rating"]) == ("Head of Data", None)  # "" is stored as null
    assert record["LastModifiedById"] == sandbox.integration_user_id
    assert record["SystemModstamp"] == record["LastModifiedDate"] >= int(NOW.timestamp())
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Lead.update(lead_id, {"IsConverted": True})
    assert _error_code(caught) == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_composite_packs_five_collections_into_one_call(sandbox, sf):
    ids = _lead_ids(sandbox)[:300]
    subrequests = [
        {
            "method": "PATCH",
            "url": f"/services/data/v{V}/composite/sobjects",
            "referenceId": f"c{n}",
            "body": {
                "records": [
                    {"attributes": {"type": "Lead"}, "id": i, "Rating": "Warm"}
                    for i in ids[n * 60 : n * 60 + 60]
                ]
            },
            "httpHeaders": {"Sforce-Auto-Assign": "FALSE"},
        }
        for n in range(5)
    ]
    used = sandbox.api_used
    answer = sf.restful("composite", method="POST", json={"compositeRequest": subrequests})
    assert sandbox.api_used == used + 1
    assert [r["httpStatusCode"] for r in answer["compositeResponse"]] == [200] * 5
    assert all(s["success"] for r in answer["compositeResponse"] for s in r["body"])
    assert {sandbox.store.table("Lead")[i]["Rating"] for i in ids} == {"Warm"}
    six = [*subrequests, {**subrequests[0], "referenceId": "c5"}]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite", method="POST", json={"compositeRequest": six})
    assert _error_code(caught) == "LIMIT_EXCEEDED"


def test_composite_queries_count_once_and_page_at_their_own_batch_size(sandbox, sf):
    """Query subrequests: one call toward the allowance for all of them, each answered by its
    first page at its own `Sforce-Query-Options` (else 2,000 rows), its `nextRecordsUrl`
    followed with ordinary calls; a failing one is its own 400 beside the others' 200."""

    def query(ref: str, soql: str, batch: int | None) -> dict[str, Any]:
        headers = {"Sforce-Query-Options": f"batchSize={batch}"} if batch else {}
        url = f"/services/data/v{V}/query/?{urlencode({'q': soql})}"
        return {"method": "GET", "url": url, "referenceId": ref, "httpHeaders": headers}

    used = sandbox.api_used
    answer = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": False,
            "compositeRequest": [
                query("small", "SELECT Id FROM Lead ORDER BY Id", 200),
                query("whole", "SELECT Id FROM Lead ORDER BY Id", None),
                query("typo", "SELECT Id, Titel FROM Lead", 2000),
            ],
        },
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert sandbox.api_used == used + 1
    small, whole, typo = answer["compositeResponse"]
    assert [r["httpStatusCode"] for r in (small, whole, typo)] == [200, 200, 400]
    assert (len(small["body"]["records"]), small["body"]["done"]) == (200, False)
    assert (len(whole["body"]["records"]), whole["body"]["done"]) == (250, True)
    assert typo["body"][0]["errorCode"] == "INVALID_FIELD"
    rest = sf.query_more(small["body"]["nextRecordsUrl"], identifier_is_url=True)
    assert sandbox.api_used == used + 2
    ids = [r["Id"] for r in small["body"]["records"] + rest["records"]]
    assert ids == sorted(sandbox.store.table("Lead"))


# -- Tooling API and field-level security --------------------------------------------------------


def test_custom_field_is_invisible_until_permissions_grant_it(sandbox, sf):
    created = sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": "Lead.Leadsync_Score__c",
            "Metadata": {"label": "Score", "type": "Number", "precision": 3, "scale": 0},
        },
    )
    assert created["success"] is True and created["id"].startswith("00N")
    found = sf.toolingexecute(
        "query",
        params={"q": "SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = 'Lead'"},
    )
    assert [r["DeveloperName"] for r in found["records"]] == ["Leadsync_Score"]
    assert "Leadsync_Score__c" not in {f["name"] for f in sf.Lead.describe()["fields"]}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Leadsync_Score__c FROM Lead LIMIT 1")
    assert _error_code(caught) == "INVALID_FIELD"
    lead_id = _lead_ids(sandbox)[0]
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Lead"}, "id": lead_id, "Leadsync_Score__c": 5}]},
    )
    assert results[0]["errors"][0]["statusCode"] == "INVALID_FIELD"

    permission_set = sf.PermissionSet.create({"Name": "Leadsync_Integration", "Label": "Leadsync"})[
        "id"
    ]
    sf.FieldPermissions.create(
        {
            "ParentId": permission_set,
            "SobjectType": "Lead",
            "Field": "Lead.Leadsync_Score__c",
            "PermissionsRead": True,
            "PermissionsEdit": True,
        }
    )
    assert "Leadsync_Score__c" not in {
        f["name"] for f in sf.Lead.describe()["fields"]
    }  # not assigned yet
    sf.PermissionSetAssignment.create(
        {"AssigneeId": sandbox.integration_user_id, "PermissionSetId": permission_set}
    )
    assert "Leadsync_Score__c" in {f["name"] for f in sf.Lead.describe()["fields"]}
    sf.Lead.update(lead_id, {"Leadsync_Score__c": 87}, headers={"Sforce-Auto-Assign": "FALSE"})
    row = sf.query(f"SELECT Leadsync_Score__c FROM Lead WHERE Id = '{lead_id}'")["records"][0]
    assert row["Leadsync_Score__c"] == 87.0
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.PermissionSetAssignment.create(
            {"AssigneeId": sandbox.integration_user_id, "PermissionSetId": permission_set}
        )
    assert _error_code(caught) == "DUPLICATE_VALUE"


def test_tooling_picklist_values_are_named_value_name(sf):
    def create(name: str, value: dict[str, Any]) -> Any:
        metadata = {
            "label": "Grade",
            "type": "Picklist",
            "valueSet": {"restricted": True, "valueSetDefinition": {"value": [value]}},
        }
        return sf.toolingexecute(
            "sobjects/CustomField",
            method="POST",
            data={"FullName": f"Lead.{name}", "Metadata": metadata},
        )

    with pytest.raises(SalesforceMalformedRequest) as caught:
        create("Grade_A__c", {"fullName": "A", "label": "A"})
    assert _content(caught)[0]["message"] == (
        "Metadata.valueSet.valueSetDefinition.value[0]: valueName is required"
    )
    created = create("Grade_B__c", {"valueName": "A", "label": "Top"})
    read = sf.toolingexecute(f"sobjects/CustomField/{created['id']}")
    assert read["Metadata"]["valueSet"]["valueSetDefinition"]["value"] == [
        {
            "color": None,
            "default": False,
            "description": None,
            "isActive": None,
            "label": "Top",
            "urls": None,
            "valueName": "A",
        }
    ]


# -- Bulk API 2.0 ---------------------------------------------------------------------------------


def test_bulk_ingest_job_lifecycle_with_failed_rows(sandbox, sf):
    open_ids = _lead_ids(sandbox)[:3]
    converted = _lead_ids(sandbox, converted=True)[0]
    job = sf.restful(
        "jobs/ingest",
        method="POST",
        json={"object": "Lead", "operation": "update", "lineEnding": "LF"},
    )
    assert job["state"] == "Open"
    assert job["contentUrl"] == f"services/data/v{V}/jobs/ingest/{job['id']}/batches"
    data = "Id,Title,Rating\n" + "".join(f"{i},Bulk Title,#N/A\n" for i in [*open_ids, converted])
    session = _session(sandbox)
    put = session.put(
        f"{sandbox.url}/{job['contentUrl']}",
        data=data,
        headers={**sf.headers, "Content-Type": "text/csv"},
    )
    assert put.status_code == 201
    closed = sf.restful(
        f"jobs/ingest/{job['id']}", method="PATCH", json={"state": "UploadComplete"}
    )
    assert closed["state"] == "UploadComplete"
    states = [sf.restful(f"jobs/ingest/{job['id']}")["state"] for _ in range(2)]
    assert states == ["InProgress", "JobComplete"]
    ok = list(csv.DictReader(io.StringIO(sf.bulk2.Lead.get_successful_records(job["id"]))))
    failed = list(csv.DictReader(io.StringIO(sf.bulk2.Lead.get_failed_records(job["id"]))))
    assert [r["sf__Id"] for r in ok] == open_ids
    assert [(r["sf__Id"], r["sf__Error"].split(":")[0]) for r in failed] == [
        (converted, "CANNOT_UPDATE_CONVERTED_LEAD")
    ]
    assert {sandbox.store.table("Lead")[i]["Rating"] for i in open_ids} == {None}
    owners = {sandbox.store.table("Lead")[i]["OwnerId"] for i in open_ids}
    assert sandbox.store.assignment_queue not in owners  # no assignmentRuleId: rules do not run


def test_bulk_job_fails_on_invisible_column(sandbox, sf):
    sandbox.install_leadsync_fields(grant=False)
    job = sf.restful("jobs/ingest", method="POST", json={"object": "Lead", "operation": "update"})
    session = _session(sandbox)
    data = f"Id,Leadsync_Score__c\n{_lead_ids(sandbox)[0]},5\n"
    session.put(
        f"{sandbox.url}/{job['contentUrl']}",
        data=data,
        headers={**sf.headers, "Content-Type": "text/csv"},
    )
    sf.restful(f"jobs/ingest/{job['id']}", method="PATCH", json={"state": "UploadComplete"})
    sf.restful(f"jobs/ingest/{job['id']}")
    info = sf.restful(f"jobs/ingest/{job['id']}")
    assert info["state"] == "Failed"
    assert info["errorMessage"] == "InvalidBatch : Field name not found : Leadsync_Score__c"


# -- faults ---------------------------------------------------------------------------------------


def test_scripted_faults_503_reset_and_lock(sandbox, sf):
    sandbox.faults.script.extend(["503", "reset"])
    with pytest.raises(Exception) as first:
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert getattr(first.value, "status", None) == 503
    with pytest.raises(requests.ConnectionError):
        sf.query("SELECT Id FROM Lead LIMIT 1")
    assert sf.query("SELECT Id FROM Lead LIMIT 1")["totalSize"] == 1
    lead_id = _lead_ids(sandbox)[0]
    sandbox.store.locked[lead_id] = 1
    body, headers = _collection(
        [{"attributes": {"type": "Lead"}, "id": lead_id, "Title": "x"}], auto_assign="FALSE"
    )
    first_try = sf.restful("composite/sobjects", method="PATCH", json=body, headers=headers)
    second_try = sf.restful("composite/sobjects", method="PATCH", json=body, headers=headers)
    assert first_try[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert second_try[0]["success"] is True


def test_generator_is_seeded_and_has_a_plausible_hidden_outcome():
    a = SalesforceSandbox(leads=600, seed=5, now=NOW)
    b = SalesforceSandbox(leads=600, seed=5, now=NOW)
    assert list(a.store.table("Lead").values()) == list(b.store.table("Lead").values())
    truth = a.store.outcomes
    converted = [o for o in truth.values() if o.converted]
    others = [o for o in truth.values() if not o.converted]
    assert 0 < len(converted) < len(others)

    def mean(items: list[Any], key: str) -> float:
        total: float = sum(getattr(o, key) for o in items)
        return total / len(items)

    assert mean(converted, "fit") > mean(others, "fit")
    assert mean(converted, "engagement") > mean(others, "engagement")
    titles = [r["Title"] for r in a.store.table("Lead").values()]
    assert any(t and t.isupper() and len(t) > 4 for t in titles)  # dirty values are there
    assert any(r["IsConverted"] for r in a.store.table("Lead").values())
