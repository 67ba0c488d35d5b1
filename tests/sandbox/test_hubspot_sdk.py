"""The HubSpot sandbox driven through the official `hubspot-api-client` SDK: paging to the end,
search, batches with 207, properties with 409, associations v4, events, OAuth refresh."""

from __future__ import annotations

import datetime as dt

import hubspot
import pytest
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectId,
)
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyCreate

from sandbox.hubspot import HubSpotSandbox

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sandbox():
    with HubSpotSandbox(
        contacts=250, seed=17, now=NOW, rate_limit_10s=10_000, search_per_second=10_000, tls=True
    ) as box:
        yield box


@pytest.fixture(scope="module")
def client(sandbox):
    return hubspot.Client.create(
        access_token=sandbox.token, host=sandbox.url, ssl_ca_cert=sandbox.ca_file
    )


def test_sdk_pages_through_every_contact_over_tls(sandbox, client):
    assert sandbox.url.startswith("https://")
    ids: list[int] = []
    after = None
    while True:
        page = client.crm.contacts.basic_api.get_page(limit=100, after=after, properties=["email"])
        ids.extend(int(r.id) for r in page.results)
        assert all(r.properties["email"] for r in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    table = sandbox.store.table("contacts")
    assert ids == [i for i in table.ids if not table.rows[i].archived]


def test_sdk_search_with_filter_sort_and_offset_paging(sandbox, client):
    request = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[
                    Filter(property_name="hs_analytics_num_page_views", operator="GTE", value="5")
                ]
            )
        ],
        sorts=["-lastmodifieddate"],
        properties=["lastmodifieddate", "hs_analytics_num_page_views"],
        limit=20,
    )
    seen = []
    while True:
        page = client.crm.contacts.search_api.do_search(public_object_search_request=request)
        seen.extend(page.results)
        if page.paging is None:
            break
        request.after = page.paging.next.after
    assert len(seen) == page.total > 20
    assert all(int(r.properties["hs_analytics_num_page_views"]) >= 5 for r in seen)
    stamps = [r.properties["lastmodifieddate"] for r in seen]
    assert stamps == sorted(stamps, reverse=True)


def test_sdk_batch_read_and_update_with_partial_failures(sandbox, client):
    ids = [str(i) for i in sandbox.store.table("contacts").ids[:3]]
    read = client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in [*ids, "424242"]],
            properties=["email", "jobtitle"],
            properties_with_history=[],
        )
    )
    assert type(read).__name__ == "BatchResponseSimplePublicObjectWithErrors"
    assert read.num_errors == 1
    assert read.errors[0].category == "OBJECT_NOT_FOUND"
    assert read.errors[0].context == {"ids": ["424242"]}
    assert [r.id for r in read.results] == ids
    update = client.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=ids[0], properties={"jobtitle": "VP Sales"}),
                SimplePublicObjectBatchInput(id=ids[1], properties={"hs_email_open": "9"}),
            ]
        )
    )
    assert update.num_errors == 1
    assert update.errors[0].context["ids"] == [ids[1]]
    assert update.results[0].properties["jobtitle"] == "VP Sales"
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[SimplePublicObjectBatchInput(id=str(i), properties={}) for i in range(101)]
            )
        )
    assert raised.value.status == 400


def test_sdk_batch_read_with_property_history(sandbox, client):
    table = sandbox.store.table("contacts")
    with sandbox.store.lock:
        customer = next(
            table.rows[i]
            for i in table.ids
            if table.raw(table.rows[i], "lifecyclestage") == "customer"
        )
        converted = table.raw(customer, "hs_lifecyclestage_customer_date")
    read = client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=str(customer.id))],
            properties=["lifecyclestage"],
            properties_with_history=["lifecyclestage", "no_such_property"],
        )
    )
    [result] = read.results
    # The SDK's own model (`ValueWithTimestamp`, sourceType/value/timestamp required), newest first.
    history = result.properties_with_history
    assert list(history) == ["lifecyclestage"]
    assert [(h.value, h.source_type) for h in history["lifecyclestage"]] == [
        ("customer", "IMPORT"),
        ("lead", "IMPORT"),
    ]
    stamps = [int(h.timestamp.timestamp() * 1000) for h in history["lifecyclestage"]]
    assert stamps == [converted, customer.created]
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.batch_api.read(
            BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=str(i)) for i in table.ids[:51]],
                properties=[],
                properties_with_history=["lifecyclestage"],
            )
        )
    assert raised.value.status == 400
    assert "property histories is 50" in raised.value.body


def test_sdk_property_create_then_409(client):
    prop = PropertyCreate(
        name="leadsync_label",
        label="Priority label",
        type="enumeration",
        field_type="select",
        group_name="contactinformation",
        options=[{"label": "A1", "value": "A1", "displayOrder": 0, "hidden": False}],
    )
    created = client.crm.properties.core_api.create("contacts", prop)
    assert created.name == "leadsync_label"
    assert [o.value for o in created.options] == ["A1"]
    with pytest.raises(PropertiesApiException) as raised:
        client.crm.properties.core_api.create("contacts", prop)
    assert raised.value.status == 409
    assert '"category":"OBJECT_ALREADY_EXISTS"' in raised.value.body
    fetched = client.crm.properties.core_api.get_by_name("contacts", "leadsync_label")
    assert fetched.type == "enumeration"


def test_sdk_associations_v4(sandbox, client):
    store = sandbox.store
    contact = next(
        i for i in store.table("contacts").ids if store.associated("contacts", i, "companies")
    )
    page = client.crm.associations.v4.batch_api.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=str(contact))]
        ),
    )
    (result,) = page.results
    assert result._from.id == str(contact)  # the SDK model names the "from" field `_from`
    assert result.to[0].to_object_id == str(store.associated("contacts", contact, "companies")[0])
    assert [t.type_id for t in result.to[0].association_types] == [1, 279]


def test_sdk_events_api_page_views_and_forms(sandbox, client):
    table = sandbox.store.table("contacts")
    contact = next(
        i
        for i in table.ids
        if int(table.raw(table.rows[i], "hs_analytics_num_page_views") or 0) > 12
        and int(table.raw(table.rows[i], "num_conversion_events") or 0) > 1
    )
    row = table.rows[contact]
    views = []
    after = None
    while True:
        page = client.events.events_api.get_page(
            object_type="contact",
            object_id=contact,
            event_type="e_visited_page",
            limit=5,
            after=after,
        )
        views.extend(page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(views) == int(table.raw(row, "hs_analytics_num_page_views"))
    assert all(v.event_type == "e_visited_page" and v.object_id == str(contact) for v in views)
    assert all(
        v.properties["hs_url"].startswith("https://") and v.properties["hs_title"] for v in views
    )
    moments = [v.occurred_at for v in views]
    assert moments == sorted(moments)
    assert views[-1].occurred_at == dt.datetime.fromisoformat(
        table.text(row, "hs_analytics_last_visit_timestamp").replace("Z", "+00:00")
    )
    forms = client.events.events_api.get_page(
        object_type="contact", object_id=contact, event_type="e_submitted_form", limit=100
    ).results
    assert len(forms) == int(table.raw(row, "num_conversion_events"))
    # events name the form by id; the Forms API knows its name
    first = client.marketing.forms.forms_api.get_by_id(forms[0].properties["hs_form_id"])
    recent = client.marketing.forms.forms_api.get_by_id(forms[-1].properties["hs_form_id"])
    assert first.name == table.raw(row, "first_conversion_event_name")
    assert recent.name == table.raw(row, "recent_conversion_event_name")


def test_sdk_oauth_refresh(sandbox):
    anonymous = hubspot.Client.create(host=sandbox.url, ssl_ca_cert=sandbox.ca_file)
    tokens = anonymous.oauth.tokens_api.create(
        grant_type="refresh_token",
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        refresh_token=sandbox.refresh_token,
    )
    assert tokens.expires_in == 1800
    oauth_client = hubspot.Client.create(
        access_token=tokens.access_token, host=sandbox.url, ssl_ca_cert=sandbox.ca_file
    )
    assert len(oauth_client.crm.contacts.basic_api.get_page(limit=2).results) == 2
