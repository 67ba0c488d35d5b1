"""The sandbox's list-email results (`ListEmailSentResult`): served from API 67.0 only, as the
Versions resource says, with engagement fields behind the org's feature switch, and generated
beside the EmailStatus of the same send."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sandbox.salesforce import SalesforceSandbox

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
SOQL = "SELECT Id, RecipientId, ActivityId FROM ListEmailSentResult ORDER BY Id LIMIT 5"


def _session(sandbox: SalesforceSandbox) -> requests.Session:
    session = requests.Session()
    session.verify = sandbox.ca_file
    session.trust_env = False
    return session


def _client(sandbox: SalesforceSandbox, version: str) -> Any:
    token = (
        _session(sandbox)
        .post(
            f"{sandbox.url}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sandbox.client_id,
                "client_secret": sandbox.client_secret,
            },
        )
        .json()
    )
    return Salesforce(
        session_id=token["access_token"],
        instance_url=token["instance_url"],
        session=_session(sandbox),
        version=version,
    )


def _error(caught: Any) -> dict[str, Any]:
    """The first error of a simple-salesforce exception's JSON body (typed `bytes` there)."""
    content: Any = caught.value.content
    return dict(content[0])


def _make(**kwargs: Any) -> SalesforceSandbox:
    return SalesforceSandbox(leads=120, seed=3, now=NOW, **kwargs).start()


@pytest.fixture
def sandbox():
    box = _make()
    yield box
    box.stop()


def test_versions_resource_lists_31_to_67_without_a_session_and_uncounted(sandbox):
    body = _session(sandbox).get(f"{sandbox.url}/services/data/").json()
    assert len(body) == 37
    assert body[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
    assert body[31] == {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}
    assert body[-1] == {"label": "Summer '26", "url": "/services/data/v67.0", "version": "67.0"}
    assert sandbox.api_used == 0


def test_below_67_the_object_is_not_supported_anywhere(sandbox):
    sf = _client(sandbox, "66.0")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(SOQL)
    error = _error(caught)
    assert error["errorCode"] == "INVALID_TYPE"
    assert error["message"] == (
        f"\n{SOQL}\nsObject type 'ListEmailSentResult' is not supported. If you are attempting "
        "to use a custom object, be sure to append the '__c' after the entity name. Please "
        "reference your WSDL or the describe call for the appropriate names."
    )
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("sobjects/ListEmailSentResult/describe")
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert "ListEmailSentResult" not in names and "ListEmail" in names
    children = {c["relationshipName"] for c in sf.Lead.describe()["childRelationships"]}
    assert "ListEmailRecipients" not in children and "EmailStatuses" in children


def test_at_67_the_object_its_fields_and_lead_relationship_are_served(sandbox):
    sf = _client(sandbox, "67.0")
    assert "ListEmailSentResult" in {o["name"] for o in sf.describe()["sobjects"]}
    fields = {f["name"]: f for f in sf.restful("sobjects/ListEmailSentResult/describe")["fields"]}
    assert fields["RecipientId"]["referenceTo"] == ["Contact", "Lead"]
    assert fields["RecipientId"]["relationshipName"] == "Recipient"
    assert fields["ActivityId"]["referenceTo"] == ["Task"]
    assert {"FirstOpenedDate", "FirstClickedDate", "LastClickedDate", "HasReply"} <= set(fields)
    children = {c["relationshipName"]: c["field"] for c in sf.Lead.describe()["childRelationships"]}
    assert children["ListEmailRecipients"] == "RecipientId"
    rows = sf.query(SOQL)["records"]
    assert [r["Id"][:3] for r in rows] == ["0Xs"] * 5


def test_without_the_org_feature_the_engagement_fields_are_absent():
    box = _make(list_email_engagement=False)
    try:
        sf = _client(box, "67.0")
        fields = {f["name"] for f in sf.restful("sobjects/ListEmailSentResult/describe")["fields"]}
        assert fields & {"FirstOpenedDate", "IsOpened", "HasReply", "IsClicked"} == set()
        assert {"RecipientId", "ListEmailId", "EmailAddress", "Result", "ActivityId"} <= fields
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.query("SELECT Id, FirstOpenedDate FROM ListEmailSentResult ORDER BY Id")
        assert _error(caught)["errorCode"] == "INVALID_FIELD"
    finally:
        box.stop()


def test_an_org_serving_up_to_64_refuses_67_urls():
    box = _make(max_version=64.0)
    try:
        versions = _session(box).get(f"{box.url}/services/data/").json()
        assert versions[-1]["version"] == "64.0"
        with pytest.raises(SalesforceResourceNotFound):
            _client(box, "67.0").query(SOQL)
    finally:
        box.stop()


def test_each_list_email_send_has_its_result_beside_its_email_status(sandbox):
    store = sandbox.store
    statuses = {s["TaskId"]: s for s in store.table("EmailStatus").values()}
    results = list(store.table("ListEmailSentResult").values())
    of_tasks = {r["ActivityId"]: r for r in results if r["ActivityId"]}
    assert set(of_tasks) == set(statuses)
    for task, result in of_tasks.items():
        status = statuses[task]
        assert result["RecipientId"] == status["WhoId"]
        assert result["FirstOpenedDate"] == status["FirstOpenDate"]
        assert result["IsOpened"] == (status["FirstOpenDate"] is not None)
        assert store.table("Task")[task]["TaskSubtype"] == "ListEmail"
        if result["FirstClickedDate"] is not None:
            assert result["FirstOpenedDate"] <= result["FirstClickedDate"]
            assert result["FirstClickedDate"] <= result["LastClickedDate"]
    synced = [r for r in results if r["ActivityId"] is None]
    assert synced and len(results) == len(of_tasks) + len(synced)
    assert sum(r["IsClicked"] for r in results) > 5 and sum(r["HasReply"] for r in results) > 0
    assert all(r["EmailAddress"] == store.get(r["RecipientId"])[1]["Email"] for r in results)
