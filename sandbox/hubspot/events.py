"""Event-level web activity through HubSpot's Events API: `GET /events/v3/events/`.

Why this API: HubSpot exposes individual page views and form submissions of a contact only
through the Events API (https://developers.hubspot.com/docs/api/events/event-analytics), which
requires an Enterprise subscription (Marketing, Sales, Service, Content or Data Hub). On lower
tiers HubSpot answers 403 naming missing analytics access; there, only the rollup properties on
the contact (`hs_analytics_num_page_views`, `recent_conversion_event_name`, ...) are available,
and the sandbox does the same. Event types served: `e_visited_page` (properties `hs_url`,
`hs_title`, `hs_referrer`, `hs_session_id`, `hs_session_source`, `hs_city`, `hs_country`) and
`e_submitted_form` (`hs_form_id`, `hs_form_type`, `hs_url`, `hs_title`: the form by id, its name
from the Forms API, `sandbox.hubspot.forms`).

Events are derived on request from each contact's engagement rollups and a per-contact seed,
so 100,000 contacts cost no memory for events; events added by `mutate` are stored. Results
for one object are in time order (`sort`); without `objectId`, results are grouped by contact
(ascending id) and the `after` cursor is opaque.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from sandbox.httpserver import Request, Response
from sandbox.hubspot import errors
from sandbox.hubspot import vocabulary as v
from sandbox.hubspot.store import Row, Store, Table
from sandbox.hubspot.values import iso_ms, parse_datetime_ms

SITE = "https://www.leadsync-demo.example"
EVENT_TYPES = ("e_visited_page", "e_submitted_form")
LIMIT_MAX = 100
_FORM_PAGES = {
    "Demo request": ("/demo", "Book a demo"),
    "Pricing inquiry": ("/pricing", "Pricing"),
    "Free trial signup": ("/trial", "Start your free trial"),
    "Contact us": ("/contact", "Contact us"),
}
_NAMESPACE = uuid.UUID("6f1c2a40-57b5-4a7e-9a51-2f0d3c1e8b11")


def basis(table: Table, row: Row) -> dict[str, Any]:
    """The engagement rollups a contact's generated events derive from."""
    raw = table.raw
    return {
        "created": row.created,
        "page_views": int(raw(row, "hs_analytics_num_page_views") or 0),
        "visits": int(raw(row, "hs_analytics_num_visits") or 0),
        "last_visit": raw(row, "hs_analytics_last_visit_timestamp"),
        "forms": int(raw(row, "num_conversion_events") or 0),
        "first_form": raw(row, "first_conversion_event_name"),
        "first_form_at": raw(row, "first_conversion_date"),
        "recent_form": raw(row, "recent_conversion_event_name"),
        "recent_form_at": raw(row, "recent_conversion_date"),
        "source": raw(row, "hs_analytics_source") or "DIRECT_TRAFFIC",
        "city": raw(row, "city") or "",
        "country": raw(row, "country") or "",
    }


def page_view(
    contact_id: int, at: int, path: str, title: str, *, serial: str, **extra: str
) -> dict[str, Any]:
    """One `e_visited_page` event; `serial` makes its id unique within the contact."""
    props = {"hs_url": f"{SITE}{path}", "hs_title": title, **extra}
    return _event("e_visited_page", contact_id, at, props, serial)


def form_id(form: str) -> str:
    """The id of the form named `form` (the same in events and the Forms API)."""
    return str(uuid.uuid5(_NAMESPACE, form))


def form_submission(contact_id: int, at: int, form: str, *, serial: str) -> dict[str, Any]:
    """One `e_submitted_form` event: the form by id only (its name is the Forms API's)."""
    path, title = _FORM_PAGES.get(form, ("/resources", form))
    props = {
        "hs_form_id": form_id(form),
        "hs_form_type": "HUBSPOT",
        "hs_url": f"{SITE}{path}",
        "hs_title": title,
    }
    return _event("e_submitted_form", contact_id, at, props, serial)


def _event(
    kind: str, contact_id: int, at: int, props: dict[str, str], serial: str
) -> dict[str, Any]:
    return {
        "objectType": "CONTACT",
        "objectId": str(contact_id),
        "eventType": kind,
        "occurredAt": iso_ms(at),
        "id": str(uuid.uuid5(_NAMESPACE, f"{kind}:{contact_id}:{serial}")),
        "properties": props,
    }


def contact_events(store: Store, row: Row) -> list[tuple[int, dict[str, Any]]]:
    """Every web event of one contact as (epoch ms, event), oldest first."""
    table = store.table("contacts")
    spec = store.event_basis.get(row.id) or basis(table, row)
    rng = random.Random(f"{store.seed}:{row.id}")
    found: list[tuple[int, dict[str, Any]]] = []
    last = spec["last_visit"]
    if spec["page_views"] and last is not None:
        visits = max(1, min(spec["visits"], spec["page_views"]))
        first = min(spec["created"], last)
        starts = sorted(rng.randint(first, last) for _ in range(visits - 1))
        starts.append(last)
        weights = [p[2] for p in v.PAGES]
        counts = [1] * visits
        for _ in range(spec["page_views"] - visits):
            counts[rng.randrange(visits)] += 1
        for session, (start, count) in enumerate(zip(starts, counts, strict=True)):
            pages = rng.choices(v.PAGES, weights, k=count)
            at = start - 45_000 * (count - 1)
            session_id = f"{row.id}-{session}"
            source = spec["source"] if session == 0 else "DIRECT_TRAFFIC"
            for path, title, _, _ in pages:
                event = page_view(
                    row.id,
                    at,
                    path,
                    title,
                    serial=str(len(found)),
                    hs_referrer="https://www.google.com/" if source == "ORGANIC_SEARCH" else "",
                    hs_session_id=session_id,
                    hs_session_source=source,
                    hs_city=spec["city"],
                    hs_country=spec["country"],
                )
                found.append((at, event))
                at += 45_000
    if spec["forms"] and spec["first_form_at"] is not None:
        first, recent = spec["first_form_at"], spec["recent_form_at"] or spec["first_form_at"]
        names = [spec["first_form"]]
        moments = [first]
        for _ in range(spec["forms"] - 2):
            names.append(rng.choice(v.FORMS)[0])
            moments.append(rng.randint(min(first, recent), max(first, recent)))
        if spec["forms"] > 1:
            names.append(spec["recent_form"])
            moments.append(recent)
        found.extend(
            (at, form_submission(row.id, at, name or "Contact us", serial=f"f{n}"))
            for n, (at, name) in enumerate(zip(sorted(moments), names, strict=True))
        )
    found.extend(
        (parse_datetime_ms(e["occurredAt"]) or 0, e) for e in store.extra_events.get(row.id, [])
    )
    found.sort(key=lambda pair: pair[0])
    return found


class EventsApi:
    """`GET /events/v3/events/` and `/events/v3/events/event-types`."""

    def __init__(self, store: Store, *, tier: str, base_url: Any) -> None:
        self.store = store
        self.tier = tier
        self.base_url = base_url

    def _tier_refusal(self) -> Response | None:
        if self.tier == "enterprise":
            return None
        # What HubSpot answers on accounts without Enterprise analytics access, word for word
        # ("doesn't the have" is HubSpot's own; see docs/sandbox-fidelity.md).
        return errors.error(
            403,
            "MISSING_SCOPES",
            "Your app doesn't the have scopes needed to make this call. Do you have access to "
            "the 'business-intelligence' scope?  Missing auth details: event-detail-read,"
            "web-analytics-api-access",
        )

    def event_types(self, request: Request) -> Response:
        """The event type names."""
        refusal = self._tier_refusal()
        return refusal or Response(200, {"eventTypes": list(EVENT_TYPES)})

    def list_events(self, request: Request) -> Response:  # noqa: PLR0912, PLR0915  one branch per Events API query parameter
        """Event occurrences of contacts, filtered and paged."""
        refusal = self._tier_refusal()
        if refusal:
            return refusal
        query = {k: values[0] for k, values in request.query.items()}
        kind = query.get("objectType", "").lower()
        if kind not in ("contact", "contacts", "0-1"):
            if not kind:
                return errors.validation("objectType is required")
            return Response(200, {"results": []})
        try:
            limit = int(query.get("limit", "100"))
        except ValueError:
            return errors.validation("limit must be an integer")
        if limit < 1 or limit > LIMIT_MAX:
            return errors.validation(f"limit must be between 1 and {LIMIT_MAX}")
        event_type = query.get("eventType")
        low = parse_datetime_ms(query["occurredAfter"]) if "occurredAfter" in query else None
        high = parse_datetime_ms(query["occurredBefore"]) if "occurredBefore" in query else None
        descending = query.get("sort", "ASCENDING").upper().startswith("DESC")
        cursor = query.get("after", "")
        start_id, skip = 0, 0
        if cursor:
            try:
                start_text, skip_text = cursor.split("-", 1)
                start_id, skip = int(start_text, 16), int(skip_text)
            except ValueError:
                return errors.validation(f"Invalid after cursor: {cursor}")
        table = self.store.table("contacts")
        results: list[dict[str, Any]] = []
        next_cursor: str | None = None
        with self.store.lock:
            if "objectId" in query:
                object_id = query["objectId"]
                row = table.rows.get(int(object_id)) if object_id.isdigit() else None
                candidates: Iterable[Row] = [row] if row is not None and row.id >= start_id else []
            else:
                candidates = (table.rows[i] for i in table.ids if i >= start_id)
            for row in candidates:
                if row is None or row.archived:
                    continue
                events = [
                    e
                    for at, e in contact_events(self.store, row)
                    if (event_type is None or e["eventType"] == event_type)
                    and (low is None or at >= low)
                    and (high is None or at <= high)
                ]
                if descending:
                    events.reverse()
                offset = skip if row.id == start_id else 0
                room = limit - len(results)
                results.extend(events[offset : offset + room])
                if offset + room < len(events):
                    next_cursor = f"{row.id:x}-{offset + room}"
                    break
                if len(results) == limit and "objectId" not in query:
                    next_cursor = f"{row.id + 1:x}-0"
                    break
        body: dict[str, Any] = {"results": results}
        if next_cursor is not None:
            params = [(k, x) for k, xs in request.query.items() if k != "after" for x in xs]
            params.append(("after", next_cursor))
            body["paging"] = {
                "next": {
                    "after": next_cursor,
                    "link": f"{self.base_url()}{request.path}?{urlencode(params)}",
                }
            }
        return Response(200, body)
