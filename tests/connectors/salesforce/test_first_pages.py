"""Independent first queries sent in one composite call (`Reader.first_pages`): one API call
for all of them, each answer's first page read from it and its `nextRecordsUrl` followed with
ordinary calls, and a failed subrequest raising, when its query is read, the error the same
query alone raises (`connectors.salesforce.first_pages`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import responses
from pydantic import SecretStr
from responses.registries import OrderedRegistry

from connectors.errors import BudgetExhausted, MissingPermission, UnknownField
from connectors.retry import RetryPolicy
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.first_pages import FirstQuery
from connectors.salesforce.options import SalesforceOptions
from connectors.salesforce.reader import Reader
from tests.connectors.salesforce.conftest import NOW

LEADS = "SELECT Id FROM Lead ORDER BY Id"
CONTACTS = "SELECT Id, AccountId FROM Contact ORDER BY Id"
TYPO = "SELECT Id, Titel FROM Lead ORDER BY Id"
NO_OBJECT = "SELECT Id FROM Leed ORDER BY Id"


def _error(call: Any) -> tuple[type[Exception], str]:
    with pytest.raises((UnknownField, MissingPermission)) as caught:
        call()
    return type(caught.value), str(caught.value)


def test_queries_in_one_call_each_failure_raised_as_the_query_alone_raises_it(
    make_sandbox, make_api
):
    sandbox = make_sandbox(leads=300)
    api = make_api(sandbox)
    reader = Reader(api, batch_size=200)
    alone = {
        soql: list(reader.query_pages(soql, 1)) for soql in (LEADS, CONTACTS)
    }  # the answers of each query sent alone
    errors = {
        soql: _error(lambda soql=soql: list(reader.query_pages(soql, 1)))
        for soql in (TYPO, NO_OBJECT)
    }
    assert [e[0] for e in errors.values()] == [UnknownField, MissingPermission]
    calls, used = api.usage.calls, sandbox.api_used
    first = reader.first_pages([FirstQuery(q) for q in (LEADS, TYPO, NO_OBJECT, CONTACTS)])
    assert (api.usage.calls - calls, sandbox.api_used - used) == (1, 1)
    # each failed subrequest raises its own error when its query is read, not before
    assert _error(lambda: list(reader.query_pages(TYPO, 1, first=first))) == errors[TYPO]
    assert list(reader.query_pages(LEADS, 1, first=first)) == alone[LEADS]
    assert (
        _error(lambda: list(reader.query_pages(NO_OBJECT, 1, first=first))) == (errors[NO_OBJECT])
    )
    assert list(reader.query_pages(CONTACTS, 1, first=first)) == alone[CONTACTS]
    # pages of 200 rows as asked (the subrequests carry the batch size): the Leads' two more
    # pages and the Contacts' further pages by `query_more`, the first pages from the composite
    lead_pages, contact_pages = len(alone[LEADS]), len(alone[CONTACTS])
    assert [len(rows) for rows in alone[LEADS]][:-1] == [200] * (lead_pages - 1)
    assert api.usage.calls - calls == 1 + (lead_pages - 1) + (contact_pages - 1)
    assert api.usage.by_endpoint["query/composite"] == 1
    # an answer is taken once: the same query again is a call of its own
    assert list(reader.query_pages(LEADS, 1, first=first)) == alone[LEADS]
    assert api.usage.calls - calls == 1 + 2 * lead_pages - 1 + (contact_pages - 1)


def test_the_checkpoint_and_the_share_come_before_the_composite_call(make_sandbox, make_api):
    sandbox = make_sandbox(leads=300)
    api = make_api(sandbox, daily_share=0.0001)  # 10 calls of the sandbox's 100,000
    checks: list[int] = []
    reader = Reader(api, checkpoint=lambda: checks.append(api.usage.calls))
    calls, spent = api.usage.calls, api.budget.used
    reader.first_pages([FirstQuery(LEADS), FirstQuery(CONTACTS, calls_needed=3)])
    # one call of the share for the two queries
    assert (checks, api.usage.calls, api.budget.used) == ([calls], calls + 1, spent + 1)
    left = api.budget.limit - api.budget.used
    # the share must hold the largest `calls_needed` of the queries: refused before any call
    with pytest.raises(BudgetExhausted, match="reading the next page"):
        reader.first_pages([FirstQuery(LEADS), FirstQuery(CONTACTS, calls_needed=left + 1)])
    assert (checks, api.usage.calls) == ([calls], calls + 1)


INSTANCE = "https://acme.my.salesforce.com"
COMPOSITE_URL = f"{INSTANCE}/services/data/v62.0/composite"
QUERY_URL = re.compile(rf"{INSTANCE}/services/data/v62\.0/query/.*")


@responses.activate(registry=OrderedRegistry)
def test_a_subrequest_failing_for_a_passing_reason_is_sent_again_alone():
    """A 503 in a subrequest: the query alone would have been retried, so it is sent alone
    (through the retry layer) when read; the other answer comes from the composite call."""
    rows = {"totalSize": 1, "done": True, "records": [{"Id": "00Q1"}]}
    unavailable = [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
    responses.post(
        COMPOSITE_URL,
        json={
            "compositeResponse": [
                {"body": rows, "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "query0"},
                {
                    "body": unavailable,
                    "httpHeaders": {},
                    "httpStatusCode": 503,
                    "referenceId": "query1",
                },
            ]
        },
    )
    responses.get(QUERY_URL, status=503, json=unavailable)
    responses.get(QUERY_URL, json={"totalSize": 1, "done": True, "records": [{"Id": "003A"}]})
    sleeps: list[float] = []
    api = SalesforceApi(
        SalesforceOptions(
            login_url=INSTANCE,
            session_id=SecretStr("00Dxx!token"),
            instance_url=INSTANCE,
            retry_policy=RetryPolicy(attempts=3, base=1.0, jitter=lambda: 0.0),
        ),
        sleep=sleeps.append,
    )
    reader = Reader(api)
    first = reader.first_pages([FirstQuery(LEADS), FirstQuery(CONTACTS)])
    assert list(reader.query_pages(CONTACTS, 1, first=first)) == [[{"Id": "003A"}]]
    assert list(reader.query_pages(LEADS, 1, first=first)) == [[{"Id": "00Q1"}]]
    sent = [call.request for call in responses.calls]
    assert [(r.method, str(r.url).split("?")[0]) for r in sent] == [
        ("POST", COMPOSITE_URL),
        ("GET", f"{INSTANCE}/services/data/v62.0/query/"),
        ("GET", f"{INSTANCE}/services/data/v62.0/query/"),
    ]
    body = sent[0].body
    assert body is not None and b'"Sforce-Query-Options": "batchSize=2000"' in body
    assert sleeps == [0.5]  # the query alone retried once, as any query is
    assert (api.usage.calls, api.usage.errors) == (3, 2)


def test_a_contact_read_with_an_unknown_account_field_names_it_after_one_call(
    make_sandbox, make_connector
):
    """Both first queries of a Contact read with `Account.` fields fail on a misspelt one
    (the Contacts' selects it through the relationship): the Contacts' error comes first, as
    when it went alone, naming the model's field; the composite was the only call."""
    sandbox = make_sandbox(leads=300)
    connector = make_connector(sandbox)
    since = NOW - dt.timedelta(days=1)
    fields = ["Title", "Account.NumberOfEmployes"]
    connector.property_names("contact")  # the describe, before counting
    calls = connector.usage.calls
    with pytest.raises(UnknownField) as caught:
        list(connector.iter_pages("contact", fields, [], since=since))
    assert caught.value.fields == ("Account.NumberOfEmployes",)
    assert str(caught.value) == (
        "Salesforce Contact has no field Account.NumberOfEmployes (Salesforce query: HTTP 400 "
        "INVALID_FIELD: no field 'NumberOfEmployes' on Account): fix the name in the model; "
        "`leadsync validate --config` checks every field path against the describes"
    )
    assert connector.usage.calls - calls == 1
    by_endpoint = connector.usage.by_endpoint
    assert (by_endpoint.get("query/composite"), by_endpoint.get("query")) == (1, None)


def test_an_account_cursor_expired_during_the_contacts_read_is_queried_again_alone(
    make_sandbox, make_connector
):
    """The Accounts' first page comes with the Contacts' before their read; when Salesforce
    drops the Accounts' cursor while the Contacts are read, that query goes again alone."""
    sandbox = make_sandbox(leads=1000, accounts=300)  # more than 200 of each
    connector = make_connector(sandbox, batch_size=200)
    since = NOW - dt.timedelta(days=3650)  # every Contact and Account modified since
    fields = ["Title", "Account.NumberOfEmployees"]
    pages = connector.iter_pages("contact", fields, [], since=since)
    first = next(pages)
    assert sandbox.rest.engine.drop_cursors() == 2  # the Contacts' and the Accounts' cursors
    rest = list(pages)
    ids = [r.id for r in first.records] + [r.id for p in rest for r in p.records]
    assert sorted(ids) == sorted(sandbox.store.table("Contact"))
    assert not any(p.rescore for p in rest)  # every Contact was read by its own query
    assert (len(ids), len(sandbox.store.table("Account"))) == (281, 331)
    by_endpoint = connector.usage.by_endpoint
    # the composite call (200 Contacts, 200 Accounts); the Contacts' next page refused (its
    # cursor gone) and their query again from their own cursor (81); after them, the Accounts'
    # next page refused, their query again alone (200) and its next page (131); then the
    # Contacts of those 331 Accounts (`AccountId IN`, 200 Accounts a query: all read already)
    assert (by_endpoint["query/composite"], by_endpoint["query"], by_endpoint["query_more"]) == (
        1,
        1 + 1 + 2,
        1 + 1 + 1,
    )
