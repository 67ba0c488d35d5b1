"""The Events API of the HubSpot sandbox over HTTP: tiers, filters, cursor paging, new activity;
and the search endpoint's 10,000-result cap."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from sandbox.hubspot import HubSpotSandbox

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
EVENTS = "/events/v3/events/"


@pytest.fixture(scope="module")
def sandbox():
    with HubSpotSandbox(contacts=120, seed=2, now=NOW, rate_limit_10s=10_000) as box:
        yield box


def _get(box: HubSpotSandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(
        f"{box.url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {box.token}"},
        timeout=5,
    )


@pytest.mark.parametrize("tier", ["starter", "professional"])
def test_events_api_needs_enterprise(tier):
    with HubSpotSandbox(contacts=3, seed=1, now=NOW, tier=tier) as box:
        response = _get(box, EVENTS, objectType="contact", objectId="1")
        assert response.status_code == 403
        assert response.json()["category"] == "MISSING_SCOPES"
        assert "web-analytics-api-access" in response.json()["message"]
        assert _get(box, "/crm/v3/objects/contacts").status_code == 200


def test_event_types(sandbox):
    body = _get(sandbox, "/events/v3/events/event-types").json()
    assert body == {"eventTypes": ["e_visited_page", "e_submitted_form"]}


def test_all_contacts_events_page_without_loss_or_repeat(sandbox):
    table = sandbox.store.table("contacts")
    expected_views = sum(
        int(table.raw(r, "hs_analytics_num_page_views") or 0)
        for r in table.rows.values()
        if not r.archived
    )
    seen, after = [], None
    while True:
        params = {"objectType": "contact", "eventType": "e_visited_page", "limit": 100}
        if after:
            params["after"] = after
        body = _get(sandbox, EVENTS, **params).json()
        seen.extend(body["results"])
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert len(seen) == expected_views > 200
    assert len({e["id"] for e in seen}) == len(seen)
    event = seen[0]
    assert sorted(event) == [
        "eventType",
        "id",
        "objectId",
        "objectType",
        "occurredAt",
        "properties",
    ]
    assert event["objectType"] == "CONTACT"
    assert {"hs_url", "hs_title", "hs_session_id"} <= set(event["properties"])


def test_occurred_after_and_sort(sandbox):
    table = sandbox.store.table("contacts")
    contact = max(
        table.ids, key=lambda i: int(table.raw(table.rows[i], "hs_analytics_num_page_views") or 0)
    )
    everything = _get(
        sandbox, EVENTS, objectType="contact", objectId=str(contact), limit=100
    ).json()["results"]
    cut = everything[len(everything) // 2]["occurredAt"]
    later = _get(
        sandbox, EVENTS, objectType="contact", objectId=str(contact), occurredAfter=cut, limit=100
    ).json()["results"]
    assert later == [e for e in everything if e["occurredAt"] >= cut]
    newest_first = _get(
        sandbox, EVENTS, objectType="contact", objectId=str(contact), sort="DESCENDING", limit=100
    ).json()["results"]
    assert newest_first == list(reversed(everything))


def test_new_activity_appears_as_events(sandbox):
    (contact,) = sandbox.mutate(1, at=dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC))
    events = _get(
        sandbox,
        EVENTS,
        objectType="contact",
        objectId=contact,
        occurredAfter="2026-11-21T00:00:00Z",
    ).json()["results"]
    assert events
    assert events[-1]["occurredAt"] == "2026-11-21T09:00:00.000Z"


def test_search_refuses_to_page_past_10000_results():
    with HubSpotSandbox(
        contacts=10_050, companies=10, seed=3, now=NOW, search_per_second=10_000
    ) as box:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {box.token}"
        body = {"limit": 200, "after": 9_800, "properties": ["email"]}
        page = http.post(f"{box.url}/crm/v3/objects/contacts/search", json=body).json()
        table = box.store.table("contacts")
        assert page["total"] == sum(1 for r in table.rows.values() if not r.archived) == 10_050
        assert len(page["results"]) == 200
        assert page["paging"]["next"]["after"] == "10000"
        body["after"] = 10_000
        refused = http.post(f"{box.url}/crm/v3/objects/contacts/search", json=body)
        assert refused.status_code == 400
        assert refused.json()["category"] == "VALIDATION_ERROR"
        assert "10000" in refused.json()["message"]
        http.close()
