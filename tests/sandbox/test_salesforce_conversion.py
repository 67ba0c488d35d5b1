"""Lead conversion in the Salesforce sandbox, as Salesforce converts: the lead's activity and
campaign memberships on the new Contact, the standard field mapping on the new Account, and an
Opportunity that is closed only when its close date has come."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sandbox.salesforce import SalesforceSandbox
from sandbox.salesforce.values import format_date

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
#: Each activity object and the field naming its person.
PERSON_FIELDS = (
    ("Task", "WhoId"),
    ("Event", "WhoId"),
    ("EmailStatus", "WhoId"),
    ("ListEmailSentResult", "RecipientId"),
    ("EmailMessageRelation", "RelationId"),
    ("CampaignMember", "ContactId"),
)


def test_a_converted_leads_activity_is_on_its_contact():
    store = SalesforceSandbox(leads=400, now=NOW).store
    converted = {i: lead for i, lead in store.table("Lead").items() if lead["IsConverted"]}
    assert len(converted) == 13
    contacts = {lead["ConvertedContactId"]: i for i, lead in converted.items()}
    on_lead: Counter[str] = Counter()
    on_contact: Counter[str] = Counter()
    for name, field in PERSON_FIELDS:
        for row in store.table(name).values():
            on_lead[name] += row.get(field) in converted
            on_contact[name] += row.get(field) in contacts
    assert on_lead == Counter()
    assert on_contact == {
        "Task": 19,
        "EmailMessageRelation": 15,
        "ListEmailSentResult": 3,
        "Event": 2,
        "EmailStatus": 2,
        "CampaignMember": 1,
    }
    first = next(iter(converted.values()))
    contact, opportunity = first["ConvertedContactId"], first["ConvertedOpportunityId"]
    tasks = store.child_ids("Task", "WhoId", contact)  # what the Contact's Tasks subquery reads
    assert len(tasks) == 11
    assert store.child_ids("Task", "WhoId", next(iter(converted))) == []
    rows = [store.table("Task")[t] for t in tasks]
    assert {r["WhatId"] for r in rows} == {opportunity}
    converted_at = first["LastModifiedDate"]
    assert all(
        r["LastModifiedDate"] == converted_at for r in rows if r["CreatedDate"] < converted_at
    )
    [member] = [m for m in store.table("CampaignMember").values() if m.get("ContactId") == contact]
    assert member["LeadId"] == next(iter(converted))  # the membership keeps its lead
    assert store.table("Contact")[contact]["LastActivityDate"] == first["LastActivityDate"]
    relations = [
        r for r in store.table("EmailMessageRelation").values() if r["RelationId"] == contact
    ]
    assert {r["RelationObjectType"] for r in relations} == {"Contact"}


def test_conversion_maps_the_leads_fields_and_closes_only_past_opportunities():
    store = SalesforceSandbox(leads=400, now=NOW).store
    converted = [lead for lead in store.table("Lead").values() if lead["IsConverted"]]
    first = converted[0]
    account = store.table("Account")[first["ConvertedAccountId"]]
    assert {k: account[k] for k in ("Name", "Industry", "BillingCountry", "Website", "Type")} == {
        "Name": "Vertex Networks",
        "Industry": "Electronics",
        "BillingCountry": "USA",
        "Website": "https://www.vertexnetworks.io",
        "Type": None,  # a Lead has no Type to map: conversion leaves it empty
    }
    assert (account["NumberOfEmployees"], account["AnnualRevenue"]) == (
        first["NumberOfEmployees"],
        first["AnnualRevenue"],
    )
    today = format_date(store.now_epoch)
    opportunities = [
        store.table("Opportunity")[lead["ConvertedOpportunityId"]] for lead in converted
    ]
    stages = Counter(
        (o["StageName"], o["IsClosed"], o["CloseDate"] <= today) for o in opportunities
    )
    assert stages == {
        ("Closed Won", True, True): 11,
        ("Closed Lost", True, True): 1,
        ("Proposal", False, False): 1,
    }
