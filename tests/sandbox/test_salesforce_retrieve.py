"""The sandbox's sObject Collections retrieve (`POST|GET composite/sobjects/{SObject}`) through
simple-salesforce: one entry per id in order, `null` for ids it does not give back, field names
matched case-insensitively, 400s for fields and for more than 2,000 ids."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sandbox.salesforce import SalesforceSandbox
from tests.sandbox.test_salesforce_org import NOW, V, _client, _error_code, _lead_ids


@pytest.fixture
def sandbox():
    with SalesforceSandbox(leads=60, seed=11, now=NOW) as box:
        yield box


@pytest.fixture
def sf(sandbox):
    return _client(sandbox)


def test_retrieve_answers_each_id_in_order_with_null_for_ids_not_given_back(sandbox, sf):
    first, second, deleted = _lead_ids(sandbox)[:3]
    sandbox.store.table("Lead")[deleted]["IsDeleted"] = True
    contact = next(iter(sandbox.store.table("Contact")))
    sandbox.store.table("Lead")[first]["Title"] = "VP Sales"
    used = sandbox.api_used
    rows = sf.restful(
        "composite/sobjects/Lead",
        method="POST",
        json={
            "ids": [first, second[:15], "00Qbogus", deleted, contact],
            "fields": ["id", "TITLE", "IsConverted"],
        },
    )
    assert sandbox.api_used == used + 1
    record = sandbox.store.table("Lead")[second]
    assert rows == [
        {
            "attributes": {"type": "Lead", "url": f"/services/data/v{V}/sobjects/Lead/{first}"},
            "Id": first,
            "Title": "VP Sales",
            "IsConverted": False,
        },
        {
            "attributes": {"type": "Lead", "url": f"/services/data/v{V}/sobjects/Lead/{second}"},
            "Id": second,
            "Title": record["Title"],
            "IsConverted": record["IsConverted"],
        },
        None,
        None,
        None,
    ]


def test_retrieve_renders_written_values_as_the_rest_api_does(sandbox, sf):
    sandbox.install_leadsync_fields()
    lead = _lead_ids(sandbox)[0]
    values = {
        "Leadsync_Score__c": 85,
        "Leadsync_Qualified__c": True,
        "Leadsync_Scored_At__c": "2026-11-20T10:15:30Z",
        "Leadsync_Grade__c": "A",
    }
    sf.Lead.update(lead, values, headers={"Sforce-Auto-Assign": "FALSE"})
    query = f"ids={lead}&fields=Leadsync_Score__c,Leadsync_Qualified__c,Leadsync_Scored_At__c"
    rows = sf.restful(f"composite/sobjects/Lead?{query},Leadsync_Grade__c,Leadsync_Label__c")
    assert {k: v for k, v in rows[0].items() if k != "attributes"} == {
        "Leadsync_Score__c": 85.0,
        "Leadsync_Qualified__c": True,
        "Leadsync_Scored_At__c": "2026-11-20T10:15:30.000+0000",
        "Leadsync_Grade__c": "A",
        "Leadsync_Label__c": None,
    }


@pytest.mark.parametrize(
    ("setup", "ids", "fields", "code"),
    [
        (None, 1, ["Id", "Leadsync_Score__c"], "INVALID_FIELD"),  # not created yet
        ("hidden", 1, ["Id", "Leadsync_Score__c"], "INVALID_FIELD"),  # created, not granted
        (None, 1, ["Id", "NoSuchField__c"], "INVALID_FIELD"),
        (None, 2001, ["Id"], "EXCEEDED_ID_LIMIT"),
        (None, 0, ["Id"], "JSON_PARSER_ERROR"),
        (None, 1, [], "JSON_PARSER_ERROR"),
    ],
)
def test_retrieve_refuses_unreadable_fields_and_more_than_2000_ids(
    sandbox, sf, setup, ids, fields, code
):
    if setup == "hidden":
        sandbox.install_leadsync_fields(grant=False)
    lead = _lead_ids(sandbox)[0]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful(
            "composite/sobjects/Lead", method="POST", json={"ids": [lead] * ids, "fields": fields}
        )
    assert _error_code(caught) == code


def test_retrieve_of_an_unknown_object_is_404(sandbox, sf):
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful(
            "composite/sobjects/Nothing",
            method="POST",
            json={"ids": [_lead_ids(sandbox)[0]], "fields": ["Id"]},
        )
