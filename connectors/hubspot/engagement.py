"""Engagement as canonical `Event`s, fetched per page and only for the event types a model needs.

Sources (HubSpot keeps no single activity feed):

* `page_view`, `form_submission`: the Events API, `GET /events/v3/events/` with `objectType=
  contact&objectId=...` (`e_visited_page`: hs_url, hs_title; `e_submitted_form`: hs_form_title,
  hs_url). It takes one object per call and needs an Enterprise hub, so contacts whose rollups
  say they never viewed a page (`hs_analytics_num_page_views`) or converted
  (`num_conversion_events`) are skipped, and the calls run concurrently under the budget.
* `meeting`, `call`: associations v4 batch read (up to 1,000 contacts a call), then batch reads
  of the meetings / calls (100 a call). Call outcomes are HubSpot disposition ids, turned into
  their labels with the calls property definition (read once).
* `email_open`, `email_click`, `email_reply`: the CRM keeps only the latest date of each
  (`hs_email_last_open_date`, `hs_email_last_click_date`, `hs_sales_email_last_replied`); each
  becomes one event at that date with `attributes["rollup"] = True`. Marketing email events
  proper live in the legacy email events API, which leadsync does not use.
* `campaign_response` has no HubSpot source; companies carry no events.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.associations import read_associations, read_records
from connectors.hubspot.values import from_ms, parse_ms
from scoring.types import Event

__all__ = ["Engagement", "helper_properties"]

WEB_TYPES = {"page_view": "e_visited_page", "form_submission": "e_submitted_form"}
ROLLUP_GATES = {
    "page_view": "hs_analytics_num_page_views",
    "form_submission": "num_conversion_events",
}
EMAIL_ROLLUPS = {
    "email_open": "hs_email_last_open_date",
    "email_click": "hs_email_last_click_date",
    "email_reply": "hs_sales_email_last_replied",
}
EVENTS_LIMIT = 100
MEETING_PROPERTIES = ["hs_timestamp", "hs_meeting_title", "hs_meeting_outcome"]
CALL_PROPERTIES = ["hs_timestamp", "hs_call_title", "hs_call_disposition", "hs_call_duration"]


def helper_properties(kind: str, event_types: Collection[str]) -> set[str]:
    """Contact properties the engagement fetch reads to skip calls or synthesise events."""
    if kind != "contact":
        return set()
    names = {ROLLUP_GATES[t] for t in event_types if t in ROLLUP_GATES}
    names |= {EMAIL_ROLLUPS[t] for t in event_types if t in EMAIL_ROLLUPS}
    return names


def _count(value: object) -> int | None:
    try:
        return int(float(str(value)))
    except ValueError:
        return None


class Engagement:
    """Fetches events for pages of contacts; one per connector, thread-safe."""

    def __init__(self, api: HubSpotApi, pool: Executor) -> None:
        self._api = api
        self._pool = pool
        self._dispositions: dict[str, str] | None = None
        self._lock = threading.Lock()

    def events(
        self, kind: str, records: Sequence[Mapping[str, Any]], event_types: Collection[str]
    ) -> dict[str, list[Event]]:
        """Events per record id (oldest first) for the wanted canonical `event_types`."""
        found: dict[str, list[Event]] = {str(r["id"]): [] for r in records}
        if kind != "contact" or not event_types or not records:
            return found
        web = [t for t in event_types if t in WEB_TYPES]
        futures = []
        if web:
            for record in records:
                if self._needs_web(record, web):
                    futures.append(
                        self._pool.submit(self._web_events, str(record["id"]), tuple(web))
                    )
        activity = [t for t in ("meeting", "call") if t in event_types]
        for kind_name in activity:
            for event_id, event in self._activities(kind_name, list(found)):
                found[event_id].append(event)
        for future in futures:
            record_id, events = future.result()
            found[record_id].extend(events)
        for record in records:
            properties = record.get("properties") or {}
            for event_type, name in EMAIL_ROLLUPS.items():
                if event_type in event_types:
                    ms = parse_ms(properties.get(name))
                    if ms is not None:
                        found[str(record["id"])].append(
                            Event(event_type, from_ms(ms), {"rollup": True})
                        )
        for events in found.values():
            events.sort(key=lambda e: e.at)
        return found

    @staticmethod
    def _needs_web(record: Mapping[str, Any], web: Iterable[str]) -> bool:
        properties = record.get("properties") or {}
        for event_type in web:
            value = properties.get(ROLLUP_GATES[event_type])
            if value in (None, ""):
                continue  # HubSpot leaves the rollup empty until it records activity
            count = _count(value)
            if count is None or count > 0:
                return True
        return False

    def _web_events(self, record_id: str, web: tuple[str, ...]) -> tuple[str, list[Event]]:
        wanted = {WEB_TYPES[t]: t for t in web}
        params: dict[str, Any] = {
            "object_type": "contact",
            "object_id": int(record_id),
            "limit": EVENTS_LIMIT,
        }
        if len(wanted) == 1:
            params["event_type"] = next(iter(wanted))
        events: list[Event] = []
        after: str | None = None
        while True:
            if after is not None:
                params["after"] = after
            data = self._api.call("events.list", self._api.events_api.get_page, **params).data
            for item in data.get("results") or []:
                event = _web_event(item, wanted)
                if event is not None:
                    events.append(event)
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return record_id, events

    def _activities(self, kind_name: str, ids: list[str]) -> Iterable[tuple[str, Event]]:
        object_type = "meetings" if kind_name == "meeting" else "calls"
        owners: dict[str, list[str]] = {}
        for source, links in read_associations(self._api, "contacts", object_type, ids).items():
            for link in links:
                owners.setdefault(link.to_id, []).append(source)
        if not owners:
            return
        names = MEETING_PROPERTIES if kind_name == "meeting" else CALL_PROPERTIES
        labels = self._disposition_labels() if kind_name == "call" else {}
        for activity_id, props in read_records(self._api, object_type, owners, names).items():
            event = _activity_event(kind_name, props, labels)
            if event is not None:
                for owner in owners[activity_id]:
                    yield owner, event

    def _disposition_labels(self) -> dict[str, str]:
        with self._lock:
            if self._dispositions is None:
                data = self._api.call(
                    "properties.read",
                    self._api.properties_core.get_by_name,
                    "calls",
                    "hs_call_disposition",
                ).data
                self._dispositions = {
                    str(o.get("value")): str(o.get("label"))
                    for o in data.get("options") or []
                    if isinstance(o, dict)
                }
            return self._dispositions


def _web_event(item: Mapping[str, Any], wanted: Mapping[str, str]) -> Event | None:
    event_type = wanted.get(str(item.get("eventType")))
    ms = parse_ms(item.get("occurredAt"))
    if event_type is None or ms is None:
        return None
    props = item.get("properties") or {}
    if event_type == "page_view":
        attributes = {"url": props.get("hs_url"), "title": props.get("hs_title")}
        if attributes["title"] is None:
            attributes["title"] = props.get("hs_page_title")
    else:
        form = props.get("hs_form_title") or props.get("hs_form_name") or props.get("hs_form_id")
        attributes = {"form": form, "url": props.get("hs_url")}
    return Event(event_type, from_ms(ms), attributes)


def _activity_event(
    kind_name: str, props: Mapping[str, Any], labels: Mapping[str, str]
) -> Event | None:
    ms = parse_ms(props.get("hs_timestamp"))
    if ms is None:
        return None
    if kind_name == "meeting":
        return Event(
            "meeting",
            from_ms(ms),
            {"title": props.get("hs_meeting_title"), "outcome": props.get("hs_meeting_outcome")},
        )
    disposition = props.get("hs_call_disposition")
    duration_ms = _count(props.get("hs_call_duration"))
    return Event(
        "call",
        from_ms(ms),
        {
            "outcome": labels.get(str(disposition), disposition) if disposition else None,
            "duration_s": None if duration_ms is None else duration_ms / 1000,
            "title": props.get("hs_call_title"),
        },
    )
