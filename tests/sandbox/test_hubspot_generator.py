"""The HubSpot sandbox's data generator: reproducible, realistic, dirty, with a conversion
outcome that depends on fit and recent engagement."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from sandbox.hubspot.generator import generate
from sandbox.hubspot.schema import ANALYTICS_SOURCES, EMPLOYEE_BANDS, LIFECYCLE_STAGES
from sandbox.hubspot.store import Outcome, Store
from sandbox.hubspot.values import iso_ms, to_ms

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
NOW_MS = to_ms(NOW)


def _store(contacts: int = 2000, seed: int = 21, now_ms: int = NOW_MS) -> Store:
    store = Store.empty(seed=seed, now_ms=now_ms)
    generate(store, contacts=contacts, companies=None, seed=seed, archived=contacts // 200)
    return store


@pytest.fixture(scope="module")
def store():
    return _store()


def _snapshot(store: Store) -> list[dict[str, Any]]:
    table = store.table("contacts")
    return [table.render(table.rows[i], list(table.props)) for i in table.ids]


def test_same_seed_same_data_other_seed_other_data(store):
    assert _snapshot(_store()) == _snapshot(store)
    assert _snapshot(_store(seed=22)) != _snapshot(store)
    meetings = store.table("meetings")
    again = _store().table("meetings")
    assert [meetings.render(meetings.rows[i], list(meetings.props)) for i in meetings.ids] == [
        again.render(again.rows[i], list(again.props)) for i in again.ids
    ]


def test_timestamps_are_relative_to_now():
    later = _store(contacts=50, now_ms=NOW_MS + 86_400_000)
    base = _store(contacts=50)
    a, b = base.table("contacts"), later.table("contacts")
    for i in a.ids:
        assert b.rows[i].created - a.rows[i].created == 86_400_000
        assert b.rows[i].updated - a.rows[i].updated == 86_400_000


def test_counts_and_value_domains(store):
    contacts = store.table("contacts")
    assert len(contacts.rows) == 2010
    assert sum(row.archived for row in contacts.rows.values()) == 10
    assert len(store.table("companies").rows) == 250
    values: Counter[str] = Counter()
    for row in contacts.rows.values():
        assert row.created <= row.updated <= NOW_MS
        props = contacts.render(row, list(contacts.props))["properties"]
        assert all(v is None or isinstance(v, str) for v in props.values())
        assert props["lifecyclestage"] in LIFECYCLE_STAGES
        assert props["numemployees"] in (*EMPLOYEE_BANDS, None)
        assert props["hs_analytics_source"] in ANALYTICS_SOURCES
        for name in (
            "hs_analytics_last_visit_timestamp",
            "hs_email_last_open_date",
            "notes_last_contacted",
        ):
            if props[name] is not None:
                assert props[name] <= iso_ms(NOW_MS)
        values["title:" + str(props["jobtitle"])] += 1
        values["country:" + str(props["country"])] += 1
        values["has_events"] += props["hs_analytics_num_page_views"] is not None
    assert values["title:"] > 40  # blank titles
    assert values["title:N/A"] > 10
    assert values["country:USA"] + values["country:US"] + values["country:U.S."] > 5
    assert values["country:United States"] > 400
    assert 0.3 < values["has_events"] / 2010 < 0.95


def test_dirty_values_unicode_names_odd_casing_and_duplicates(store):
    contacts = store.table("contacts")
    rows = [contacts.rows[i] for i in contacts.ids]
    names = [contacts.raw(r, "firstname") + " " + contacts.raw(r, "lastname") for r in rows]
    assert sum(1 for n in names if not n.isascii()) > 100
    titles = [contacts.raw(r, "jobtitle") or "" for r in rows]
    assert any(t.isupper() and len(t) > 4 for t in titles)
    assert any(t.islower() and len(t) > 4 for t in titles)
    people = Counter(n.casefold() for n in names)
    emails = [contacts.raw(r, "email").casefold().replace("+crm@", "@") for r in rows]
    assert len(set(emails)) < len(emails)  # the same person twice, email case or alias differs
    assert max(people.values()) >= 2


def test_engagement_objects_and_associations(store):
    meetings, calls = store.table("meetings"), store.table("calls")
    assert len(meetings.rows) > 100
    assert len(calls.rows) > 100
    for table, kind in ((meetings, "meetings"), (calls, "calls")):
        for id_ in table.ids[:50]:
            (contact,) = store.associated(kind, id_, "contacts")
            assert id_ in store.associated("contacts", contact, kind)


def test_conversion_depends_on_fit_and_recent_engagement(store):
    outcomes = list(store.outcomes.values())
    assert len(outcomes) == 2010
    rate = sum(o.converted for o in outcomes) / len(outcomes)
    assert 0.03 < rate < 0.4

    def conversion(selected: list[Outcome]) -> float:
        return sum(o.converted for o in selected) / max(1, len(selected))

    by_fit = sorted(outcomes, key=lambda o: o.fit)
    by_engagement = sorted(outcomes, key=lambda o: o.engagement)
    quarter = len(outcomes) // 4
    assert conversion(by_fit[-quarter:]) > 2 * conversion(by_fit[:quarter])
    assert conversion(by_engagement[-quarter:]) > 2 * conversion(by_engagement[:quarter])


def test_past_conversions_show_on_the_record_future_ones_stay_hidden(store):
    contacts = store.table("contacts")
    past = future = 0
    for id_, outcome in store.outcomes.items():
        row = contacts.rows[id_]
        stage = contacts.raw(row, "lifecyclestage")
        date = contacts.raw(row, "hs_lifecyclestage_customer_date")
        if outcome.converted and outcome.converted_at_ms <= NOW_MS:
            past += 1
            assert stage == "customer"
            assert date == outcome.converted_at_ms
        else:
            future += outcome.converted
            assert stage != "customer"
            assert date is None
    assert past > 10
    assert future > 10


def test_every_activity_lies_between_creation_and_now():
    store = _store(contacts=3000, seed=5)
    contacts = store.table("contacts")
    dated = (
        "hs_analytics_last_visit_timestamp",
        "recent_conversion_date",
        "first_conversion_date",
        "hs_email_last_open_date",
        "hs_email_last_click_date",
        "hs_sales_email_last_replied",
        "notes_last_contacted",
    )
    for row in contacts.rows.values():
        for name in dated:
            value = contacts.raw(row, name)
            assert value is None or row.created <= value <= NOW_MS, (row.id, name)
