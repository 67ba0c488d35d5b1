"""Contract: engagement fetched per page, only for the event types a model needs."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from config.crm_events import CRM_EVENT_ATTRIBUTES
from connectors.base import ReadHints
from connectors.errors import MissingPermission
from connectors.hubspot import reading
from connectors.hubspot.enrichment import HELD_GROUPS
from sandbox.hubspot.auth import ALL_SCOPES
from sandbox.hubspot.events import contact_events, form_id
from sandbox.hubspot.vocabulary import FORMS

from .conftest import TickingClock, live_ids, read_all

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


def submitted_forms(sandbox) -> set[str]:
    """Ids of the forms the sandbox's contacts submitted."""
    table = sandbox.store.table("contacts")
    return {
        event["properties"]["hs_form_id"]
        for row in table.rows.values()
        for _, event in contact_events(sandbox.store, row)
        if event["eventType"] == "e_submitted_form"
    }


def test_forms_are_named_through_the_forms_api_once_per_form(make_sandbox, make_connector):
    sandbox = make_sandbox(contacts=300)
    connector = make_connector(sandbox)
    records = read_all(connector, fields=["email"], event_types=["form_submission"])
    names = {form_id(name): name for name, _, _ in FORMS}
    forms = [e.attributes["form"] for r in records for e in r.events]
    assert set(forms) == {names[i] for i in submitted_forms(sandbox)}
    assert connector.usage.by_endpoint["forms.read"] == len(submitted_forms(sandbox))


def test_without_the_forms_scope_forms_keep_their_ids(make_sandbox, make_connector):
    sandbox = make_sandbox(contacts=300)
    token = sandbox.new_token(ALL_SCOPES - {"forms"})
    connector = make_connector(sandbox, access_token=token)
    records = read_all(connector, fields=["email"], event_types=["form_submission"])
    assert {e.attributes["form"] for r in records for e in r.events} == submitted_forms(sandbox)
    assert connector.usage.by_endpoint["forms.read"] == 1  # refused once, then not asked
    assert connector.usage.errors == 1


def test_page_views_alone_ask_only_for_page_views(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=60)
    connector = make_connector(sandbox)
    records = read_all(connector, event_types=["page_view"])
    assert {e.type for r in records for e in r.events} == {"page_view"}


def test_meetings_and_calls_are_read_at_the_api_batch_sizes(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=2500)
    connector = make_connector(sandbox)
    records = read_all(connector, event_types=["meeting", "call"])
    store = sandbox.store
    ids = live_ids(sandbox)
    meetings = {m for i in ids for m in store.associated("contacts", int(i), "meetings")}
    calls = {c for i in ids for c in store.associated("contacts", int(i), "calls")}
    usage = connector.usage.by_endpoint
    # one association call per 1,000 contacts and type, activities 100 a call across pages
    assert usage["associations.batch_read"] == 2 * math.ceil(len(ids) / 1000)
    assert usage["objects.batch_read"] == math.ceil(len(meetings) / 100) + math.ceil(
        len(calls) / 100
    )
    assert "events.list" not in usage
    for record in records:
        assert sum(e.type == "meeting" for e in record.events) == len(
            store.associated("contacts", int(record.id), "meetings")
        )
        assert sum(e.type == "call" for e in record.events) == len(
            store.associated("contacts", int(record.id), "calls")
        )
    meeting = next(e for r in records for e in r.events if e.type == "meeting")
    assert set(meeting.attributes) == {"title", "outcome"}
    calls_seen = [e for r in records for e in r.events if e.type == "call"]
    assert "Connected" in {e.attributes["outcome"] for e in calls_seen}  # labels, not ids
    assert all(isinstance(e.attributes["duration_s"], float) for e in calls_seen)


def test_pages_keep_their_order_and_cursors_when_grouped(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=1500)
    connector = make_connector(sandbox, workers=1)
    pages = list(connector.iter_pages("contact", ["email"], ["meeting"], since=None))
    ids = [r.id for p in pages for r in p.records]
    assert ids == sorted(ids, key=int)
    assert len(ids) == len(set(ids)) == len(live_ids(sandbox))
    rest = read_all(make_connector(sandbox, workers=1), resume=pages[11].cursor)
    assert [r.id for r in rest] == [r.id for p in pages[12:] for r in p.records]


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


def test_company_properties_come_from_the_primary_company_read_once(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=2500)
    connector = make_connector(sandbox)
    fields = ["email", "company.industry", "company.numberofemployees"]
    records = read_all(connector, fields=fields)
    store = sandbox.store
    companies = store.table("companies")
    ids = live_ids(sandbox)
    linked = {i: store.associated("contacts", int(i), "companies") for i in ids}
    distinct = {c[0] for c in linked.values() if c}
    usage = connector.usage.by_endpoint
    assert usage["associations.batch_read"] == math.ceil(len(ids) / 1000)
    # each company once, 100 a call, though contacts of one company span several groups
    assert usage["objects.batch_read"] == math.ceil(len(distinct) / 100)
    with_company = 0
    for record in records:
        assert set(record.properties) == set(fields)
        company = linked[record.id][0] if linked[record.id] else None
        if company is None:
            assert record.properties["company.industry"] is None
            continue
        with_company += 1
        row = companies.rows[company]
        assert record.properties["company.industry"] == companies.raw(row, "industry")
        assert str(record.properties["company.numberofemployees"]) == str(
            companies.raw(row, "numberofemployees")
        )
    assert 0 < with_company < len(records)


def test_no_company_reads_without_company_fields(make_sandbox, make_connector) -> None:
    connector = make_connector(make_sandbox(contacts=300))
    read_all(connector, fields=["email", "industry"])
    assert set(connector.usage.by_endpoint) == {"objects.list"}


def test_partial_pages_of_a_split_read_share_association_calls(
    make_sandbox, make_connector, monkeypatch
) -> None:
    # A read split into id-range chains ends each chain with a partial page, so a group of
    # pages can hold more than 1,000 contacts (here 1,050 and more). Its surplus waits for the
    # next group's contacts: one association call per 1,000 contacts and source, never a
    # second call for a group's last few.
    monkeypatch.setattr(reading, "PAGES_PER_CHAIN", 4)  # many chains, each ending part-full
    slow = TickingClock(0.5)  # every call takes 0.5 s as the connector measures it: a split read
    sandbox = make_sandbox(contacts=5_300, clock=slow)
    connector = make_connector(sandbox, clock=slow, sleep=slow.sleep)
    pages = list(
        connector.iter_pages(
            "contact", ["email", "company.industry"], ["meeting", "call"], since=None
        )
    )
    sizes = [len(page.records) for page in pages]
    assert sum(sizes) == 5_300
    assert any(size % 100 for size in sizes[:-1])  # the premise: partial pages mid-read
    usage = connector.usage.by_endpoint
    assert usage["objects.search"] == 1  # the split
    assert usage["associations.batch_read"] == 3 * math.ceil(5_300 / 1000)


def test_a_read_where_few_contacts_need_anything_never_holds_the_whole_read(
    make_sandbox, make_connector
) -> None:
    # A run after a full one re-reads records it scored already (`ReadHints.scored`): only one
    # contact in a hundred needs its meetings, ten a group, never a full association batch.
    # The oldest group then waits for associations, which go early past HELD_GROUPS groups,
    # so pages leave long before the read ends.
    sandbox = make_sandbox(contacts=9000)
    connector = make_connector(sandbox, workers=1)

    def scored(versions):
        return {i for i, _ in versions if int(i) % 100}

    pages = connector.iter_pages(
        "contact", ["email"], ["meeting"], since=None, hints=ReadHints(scored=scored)
    )
    next(pages)
    lists_before_first_page = connector.usage.by_endpoint["objects.list"]
    assert 1 + len(list(pages)) == connector.usage.by_endpoint["objects.list"] == 90
    assert (HELD_GROUPS + 1) * 10 <= lists_before_first_page <= (HELD_GROUPS + 1) * 10 + 3
    # the 90 contacts that need them, in partial calls every HELD_GROUPS + 1 groups and at the end
    assert connector.usage.by_endpoint["associations.batch_read"] == 2


def test_company_reads_trickling_in_never_hold_the_whole_read(make_sandbox, make_connector) -> None:
    # Once the first groups have read most companies, later groups add only a few new company
    # ids each, never a full batch of 100: their pages must still leave before the read ends
    # (memory stays bounded), at the cost of a partial batch every HELD_GROUPS + 1 groups.
    sandbox = make_sandbox(contacts=9000, companies=150)
    connector = make_connector(sandbox, workers=1)
    fields = ["email", "company.industry"]
    pages = connector.iter_pages("contact", fields, [], since=None)
    next(pages)
    lists_before_first_page = connector.usage.by_endpoint["objects.list"]
    rest = list(pages)
    total_pages = connector.usage.by_endpoint["objects.list"]
    assert 1 + len(rest) == total_pages == 90
    # The first group leaves once HELD_GROUPS + 1 groups (10 pages each) have been read (the
    # whole read before); the reader thread may be up to three pages ahead (its queue of two and
    # the page in hand), so this one is a bound.
    assert (HELD_GROUPS + 1) * 10 <= lists_before_first_page <= (HELD_GROUPS + 1) * 10 + 3
    # a full batch of the first group's companies, the 50 others sent as a partial batch when
    # the fifth group arrived; no company read twice
    assert connector.usage.by_endpoint["objects.batch_read"] == 2


def test_events_carry_the_attributes_the_configuration_checks_rules_against(
    make_sandbox, make_connector
) -> None:
    connector = make_connector(make_sandbox(contacts=300))
    carried = CRM_EVENT_ATTRIBUTES["hubspot"]
    records = read_all(connector, fields=["email"], event_types=list(carried))
    seen: dict[str, set[str]] = {}
    for record in records:
        for event in record.events:
            seen.setdefault(event.type, set()).update(event.attributes)
    assert seen == {t: set(attributes) for t, attributes in carried.items()}
