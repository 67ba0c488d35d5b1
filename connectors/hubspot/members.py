"""A company's people, read for account models (`connectors.base.MemberRequest`).

* `attach_members(api, companies, request)`: the contacts associated with each company, primary
  or not (associations v4 batch read, `companies -> contacts`, 1,000 companies a call), then one
  batch read of those contacts (100 a call, each contact once per page however many companies
  it belongs to) with the properties the roll-ups read, leadsync's own outputs (the member
  scores the contact model wrote; a prefixed contact model's scores and `scored_at` only when
  a roll-up reads them, from `MemberRequest.outputs`) and the activity dates below.
* `changed_companies(api, since_ms)`: the companies with a contact modified at or after
  `since_ms` (a search walk over contacts, then `contacts -> companies` associations), so an
  incremental account run recomputes an account when any of its people changed, reading only
  those accounts' people.

Member events come from the dates the contact record keeps, one event each at that date with
`attributes["rollup"] = True` (the Events API takes one contact a call; a roll-up over hundreds of
people cannot afford it): `page_view` at `hs_analytics_last_visit_timestamp`, `form_submission`
at `recent_conversion_date`, `email_open` / `email_click` / `email_reply` at the email rollup
dates. `meeting`, `call` and `campaign_response` have no such date and yield no member events;
`where` tests on attributes (a URL, a form) do not hold for these events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from connectors.base import MemberRequest
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.associations import read_associations, read_records
from connectors.hubspot.cursor import IncrementalState
from connectors.hubspot.engagement import EMAIL_ROLLUPS
from connectors.hubspot.reading import ObjectSpec, read_incremental
from connectors.hubspot.values import OUTPUT_TYPES, crm_name, from_ms, parse_ms
from scoring.types import Event, Record

__all__ = ["MEMBER_DATES", "attach_members", "changed_companies", "member_properties"]

#: Canonical event type -> the contact date property a member event is made from.
MEMBER_DATES: Mapping[str, str] = {
    "page_view": "hs_analytics_last_visit_timestamp",
    "form_submission": "recent_conversion_date",
    **EMAIL_ROLLUPS,
}
_OUTPUTS = tuple((crm_name(name), name) for name in OUTPUT_TYPES)
_CONTACTS = ObjectSpec("contact", "contacts", "lastmodifieddate")


def member_properties(request: MemberRequest) -> list[str]:
    """The contact properties read for each member."""
    names = set(request.properties) | {name for name, _ in _OUTPUTS}
    names |= {crm_name(key) for key in request.outputs}
    names |= {MEMBER_DATES[t] for t in request.event_types if t in MEMBER_DATES}
    return sorted(names)


def _member(contact_id: str, props: Mapping[str, Any], request: MemberRequest) -> Record:
    events = []
    for event_type in request.event_types:
        name = MEMBER_DATES.get(event_type)
        ms = parse_ms(props.get(name)) if name is not None else None
        if ms is not None:
            events.append(Event(event_type, from_ms(ms), {"rollup": True}))
    events.sort(key=lambda e: e.at)
    outputs = {
        canonical: value
        for name, canonical in (*_OUTPUTS, *((crm_name(k), k) for k in sorted(request.outputs)))
        if (value := props.get(name)) is not None and value != ""
    }
    properties = {name: props.get(name) for name in request.properties}
    return Record(contact_id, "contact", properties, tuple(events), None, outputs)


def attach_members(
    api: HubSpotApi, companies: Sequence[Record], request: MemberRequest
) -> list[Record]:
    """`companies` with their associated contacts as `Record.members`, in HubSpot's order.

    Calls: one association batch read per 1,000 companies (plus HubSpot's per-result pages of
    companies with very many contacts) and one batch read per 100 distinct contacts.
    """
    if not companies:
        return []
    links = read_associations(api, "companies", "contacts", [c.id for c in companies])
    people = dict.fromkeys(link.to_id for found in links.values() for link in found)
    read = read_records(api, "contacts", people, member_properties(request))
    members = {cid: _member(cid, props, request) for cid, props in read.items()}
    return [
        dataclasses.replace(
            company,
            members=tuple(
                members[link.to_id] for link in links.get(company.id, ()) if link.to_id in members
            ),
        )
        for company in companies
    ]


def changed_companies(api: HubSpotApi, since_ms: int) -> Iterator[list[str]]:
    """Ids of companies with a contact modified at or after `since_ms`, a search page's worth
    at a time (each company once)."""
    seen: set[str] = set()
    state = IncrementalState(_CONTACTS.object_type, since_ms, 0)
    for results, _ in read_incremental(api, _CONTACTS, [_CONTACTS.modified], state):
        ids = [str(item["id"]) for item in results]
        links = read_associations(api, "contacts", "companies", ids) if ids else {}
        fresh = _new(links.values(), seen)
        if fresh:
            yield fresh


def _new(found: Collection[Sequence[Any]], seen: set[str]) -> list[str]:
    fresh = []
    for links in found:
        for link in links:
            if link.to_id not in seen:
                seen.add(link.to_id)
                fresh.append(link.to_id)
    return fresh
