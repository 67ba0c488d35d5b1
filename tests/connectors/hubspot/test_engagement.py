"""Contract: engagement fetched per page, only for the event types a model needs."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from connectors.errors import MissingPermission
from sandbox.hubspot.events import contact_events

from .conftest import read_all

WEB = ["page_view", "form_submission"]


def test_web_events_come_from_the_events_api_mapped_to_canonical_events(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=200)
    connector = make_connector(sandbox)
    records = read_all(connector, fields=["email"], event_types=WEB)
    table = sandbox.store.table("contacts")
    active = {
        str(row.id)
        for row in table.rows.values()
        if int(table.raw(row, "hs_analytics_num_page_views") or 0) > 0
        or int(table.raw(row, "num_conversion_events") or 0) > 0
    }
    # Events API calls (100 events a page) only for contacts with activity.
    pages = sum(
        max(1, math.ceil(len(contact_events(sandbox.store, table.rows[int(i)])) / 100))
        for i in active
    )
    assert connector.usage.by_endpoint["events.list"] == pages
    assert 0 < len(active) < len(records)
    kinds = Counter(e.type for r in records for e in r.events)
    assert set(kinds) == {"page_view", "form_submission"}
    view = next(e for r in records for e in r.events if e.type == "page_view")
    assert set(view.attributes) == {"url", "title"}
    assert str(view.attributes["url"]).startswith("https://")
    form = next(e for r in records for e in r.events if e.type == "form_submission")
    assert isinstance(form.attributes["form"], str)
    assert form.attributes["form"]
    for record in records:
        assert [e.at for e in record.events] == sorted(e.at for e in record.events)
        assert all(e.at.tzinfo is not None for e in record.events)
        if record.id not in active:
            assert record.events == ()


def test_page_views_alone_ask_only_for_page_views(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=60)
    connector = make_connector(sandbox)
    records = read_all(connector, event_types=["page_view"])
    assert {e.type for r in records for e in r.events} == {"page_view"}


def test_meetings_and_calls_come_through_associations_in_batches(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=250)
    connector = make_connector(sandbox)
    records = read_all(connector, event_types=["meeting", "call"])
    usage = connector.usage.by_endpoint
    assert usage["associations.batch_read"] == 2 * usage["objects.list"]  # meetings + calls
    assert "events.list" not in usage
    meetings = [e for r in records for e in r.events if e.type == "meeting"]
    calls = [e for r in records for e in r.events if e.type == "call"]
    assert meetings
    assert calls
    assert set(meetings[0].attributes) == {"title", "outcome"}
    outcomes = {e.attributes["outcome"] for e in calls}
    assert "Connected" in outcomes  # disposition ids turned into their labels
    assert all(isinstance(e.attributes["duration_s"], float) for e in calls)


def test_email_events_come_from_rollup_dates(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=100)
    connector = make_connector(sandbox)
    records = read_all(connector, event_types=["email_open", "email_click"])
    assert connector.usage.by_endpoint == {"objects.list": 1}
    table = sandbox.store.table("contacts")
    for record in records:
        row = table.rows[int(record.id)]
        opened = table.raw(row, "hs_email_last_open_date")
        opens = [e for e in record.events if e.type == "email_open"]
        assert len(opens) == (opened is not None)
        if opens:
            assert int(opens[0].at.timestamp() * 1000) == opened
            assert opens[0].attributes == {"rollup": True}


def test_properties_only_models_fetch_no_engagement(make_sandbox, make_connector) -> None:
    connector = make_connector(make_sandbox(contacts=120))
    records = read_all(connector, event_types=[])
    assert connector.usage.by_endpoint == {"objects.list": 2}
    assert all(r.events == () for r in records)


def test_events_api_below_enterprise_is_a_missing_permission(make_sandbox, make_connector) -> None:
    connector = make_connector(make_sandbox(contacts=50, tier="professional"))
    with pytest.raises(MissingPermission, match="web-analytics-api-access"):
        read_all(connector, event_types=["page_view"])
