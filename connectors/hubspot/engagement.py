"""Where HubSpot keeps each kind of engagement, and how it becomes canonical `Event`s.

Sources (HubSpot keeps no single activity feed):

* `page_view`, `form_submission`: the Events API, `GET /events/v3/events/` with `objectType=
  contact&objectId=...` (`e_visited_page`: hs_url, hs_title; `e_submitted_form`: the form's
  name from `FORM_NAME_PROPERTIES`, else its `hs_form_id` resolved by the Forms API,
  `connectors.hubspot.forms`). It takes one object per call and serves Enterprise hubs only, so
  contacts whose rollups say they never viewed a page (`hs_analytics_num_page_views`) or
  converted (`num_conversion_events`) are skipped, `occurredAfter` limits the answer to what the
  model can still score, and a 403 becomes `SourceUnavailable`.
* `meeting`, `call`: associated meetings / calls (`connectors.hubspot.enrichment` reads the
  associations and the records in batches). Call outcomes are HubSpot disposition ids, named
  with the calls property definition (read once).
* `email_open`, `email_click`, `email_reply`: the CRM keeps only the latest date of each
  (`hs_email_last_open_date`, `hs_email_last_click_date`, `hs_sales_email_last_replied`); each
  becomes one event at that date with `attributes["rollup"] = True`. Marketing email events
  proper live in the legacy email events API, which leadsync does not use.
* `campaign_response` has no HubSpot source; companies carry no events.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from connectors.errors import MissingPermission, SourceUnavailable
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.forms import FormNames
from connectors.hubspot.values import parse_time
from scoring.types import Event, Record, new_event

__all__ = [
    "ACTIVITY_TYPES",
    "EVENTS_API",
    "WEB_TYPES",
    "Engagement",
    "gates",
    "helper_properties",
]

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
ACTIVITY_TYPES = ("meeting", "call")
EVENTS_API = "the HubSpot Events API (GET /events/v3/events)"
EVENTS_FIX = (
    "set the connection's tier to the account's real tier (leadsync then refuses such rules "
    "when the config loads), replace those rules with the rollup properties "
    "(hs_analytics_num_page_views, num_conversion_events), or restore the scopes or the "
    "Enterprise subscription"
)
EVENTS_LIMIT = 100
#: Properties of an `e_submitted_form` event that may carry the form's name, most telling first;
#: without them, `hs_form_id` goes through the Forms API.
FORM_NAME_PROPERTIES = ("hs_form_title", "hs_form_name")
ACTIVITY_PROPERTIES = {
    "meetings": ["hs_timestamp", "hs_meeting_title", "hs_meeting_outcome"],
    "calls": ["hs_timestamp", "hs_call_title", "hs_call_disposition", "hs_call_duration"],
}


def helper_properties(kind: str, event_types: Collection[str]) -> set[str]:
    """Contact properties the engagement fetch reads to skip calls or synthesise events."""
    if kind != "contact":
        return set()
    names = {ROLLUP_GATES[t] for t in event_types if t in ROLLUP_GATES}
    names |= {EMAIL_ROLLUPS[t] for t in event_types if t in EMAIL_ROLLUPS}
    return names


def gates(kind: str, event_types: Collection[str]) -> frozenset[str]:
    """The rollup properties that move whenever a contact's Events API activity of the
    wanted types grows (`connectors.engagement_gates`)."""
    if kind != "contact":
        return frozenset()
    return frozenset(ROLLUP_GATES[t] for t in event_types if t in ROLLUP_GATES)


def _count(value: object) -> int | None:
    try:
        return int(float(str(value)))
    except ValueError:
        return None


class Engagement:
    """The engagement sources of one connector; thread-safe."""

    def __init__(self, api: HubSpotApi) -> None:
        self.api = api
        self._dispositions: dict[str, str] | None = None
        self._lock = threading.Lock()

    # -- web activity (Events API) ----------------------------------------------------------

    @staticmethod
    def web_types(event_types: Collection[str]) -> tuple[str, ...]:
        """The wanted canonical types the Events API serves."""
        return tuple(t for t in WEB_TYPES if t in event_types)

    @staticmethod
    def needs_web(record: Mapping[str, Any], web: Iterable[str]) -> bool:
        """Whether a contact's rollups say it has web activity of a wanted type."""
        properties = record.get("properties") or {}
        for event_type in web:
            value = properties.get(ROLLUP_GATES[event_type])
            if value in (None, ""):
                continue  # HubSpot leaves the rollup empty until it records activity
            count = _count(value)
            if count is None or count > 0:
                return True
        return False

    @staticmethod
    def unchanged(record: Mapping[str, Any], stored: Record, web: Iterable[str]) -> bool:
        """Whether a contact's rollup gates hold the values they had when `stored` was
        scored (then no page view or form submission of the `web` types happened since)."""
        now = record.get("properties") or {}
        for event_type in web:
            gate = ROLLUP_GATES[event_type]
            if gate not in stored.properties:
                return False
            if str(now.get(gate) or "") != str(stored.properties[gate] or ""):
                return False
        return True

    def web_events(
        self,
        record_id: str,
        web: tuple[str, ...],
        since: datetime | None,
        forms: FormNames | None = None,
    ) -> tuple[str, list[Event]]:
        """One contact's web events of the `web` types, occurred after `since` when given;
        `forms` names the forms that events give only by id."""
        wanted = {WEB_TYPES[t]: t for t in web}
        params: dict[str, Any] = {
            "object_type": "contact",
            "object_id": int(record_id),
            "limit": EVENTS_LIMIT,
        }
        if len(wanted) == 1:
            params["event_type"] = next(iter(wanted))
        if since is not None:
            params["occurred_after"] = since
        events: list[Event] = []
        after: str | None = None
        while True:
            if after is not None:
                params["after"] = after
            try:
                data = self.api.call("events.list", self.api.events_api.get_page, **params).data
            except MissingPermission as exc:
                raise SourceUnavailable(
                    f"{EVENTS_API} refused access ({exc}); it serves Enterprise hubs with the "
                    "analytics read scope",
                    source=EVENTS_API,
                    fix=EVENTS_FIX,
                    event_types=web,
                ) from None
            for item in data.get("results") or []:
                event = _web_event(item, wanted, forms)
                if event is not None:
                    events.append(event)
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return record_id, events

    # -- meetings and calls ---------------------------------------------------------------

    @staticmethod
    def activity_properties(object_type: str) -> list[str]:
        """The properties read from `meetings` or `calls`."""
        return ACTIVITY_PROPERTIES[object_type]

    def activity_event(self, object_type: str, props: Mapping[str, Any]) -> Event | None:
        """A meeting or call record as a canonical event (None without a timestamp)."""
        at = parse_time(props.get("hs_timestamp"))
        if at is None:
            return None
        if object_type == "meetings":
            return new_event(
                "meeting",
                at,
                {
                    "title": props.get("hs_meeting_title"),
                    "outcome": props.get("hs_meeting_outcome"),
                },
            )
        disposition = props.get("hs_call_disposition")
        duration_ms = _count(props.get("hs_call_duration"))
        labels = self._disposition_labels() if disposition else {}
        return new_event(
            "call",
            at,
            {
                "outcome": labels.get(str(disposition), disposition) if disposition else None,
                "duration_s": None if duration_ms is None else duration_ms / 1000,
                "title": props.get("hs_call_title"),
            },
        )

    def _disposition_labels(self) -> dict[str, str]:
        with self._lock:
            if self._dispositions is None:
                data = self.api.call(
                    "properties.read",
                    self.api.properties_core.get_by_name,
                    "calls",
                    "hs_call_disposition",
                ).data
                self._dispositions = {
                    str(o.get("value")): str(o.get("label"))
                    for o in data.get("options") or []
                    if isinstance(o, dict)
                }
            return self._dispositions

    # -- email rollups --------------------------------------------------------------------

    @staticmethod
    def email_types(event_types: Collection[str]) -> tuple[str, ...]:
        """The wanted canonical types kept as rollup dates."""
        return tuple(t for t in EMAIL_ROLLUPS if t in event_types)

    @staticmethod
    def email_events(record: Mapping[str, Any], types: Iterable[str]) -> list[Event]:
        """One event per wanted email rollup date the contact has."""
        properties = record.get("properties") or {}
        events = []
        for event_type in types:
            at = parse_time(properties.get(EMAIL_ROLLUPS[event_type]))
            if at is not None:
                events.append(new_event(event_type, at, {"rollup": True}))
        return events


def _web_event(
    item: Mapping[str, Any], wanted: Mapping[str, str], forms: FormNames | None
) -> Event | None:
    event_type = wanted.get(str(item.get("eventType")))
    at = parse_time(item.get("occurredAt"))
    if event_type is None or at is None:
        return None
    props = item.get("properties") or {}
    if event_type == "page_view":
        attributes = {"url": props.get("hs_url"), "title": props.get("hs_title")}
        if attributes["title"] is None:
            attributes["title"] = props.get("hs_page_title")
    else:
        form = next((props[n] for n in FORM_NAME_PROPERTIES if props.get(n)), None)
        form_id = props.get("hs_form_id")
        if form is None and form_id:
            form = forms.name(str(form_id)) if forms is not None else form_id
        attributes = {"form": form, "url": props.get("hs_url")}
    return Event(event_type, at, attributes)
