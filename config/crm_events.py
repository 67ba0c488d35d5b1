"""Which event types each CRM provides, and the model rules that read one their CRM lacks.

The event language is shared (`scoring.types.EVENT_TYPES`), but the connectors do not read
every type from every CRM: Salesforce keeps no page views or form submissions (the table under
"Where Salesforce events come from" in docs/model-language.md), so a `page_view` rule in a
Salesforce lead model would silently score nothing. A model file alone does not say its CRM;
the configuration does, so loading it (and the model tools trying a candidate on a
connection) refuses such rules, located at each rule.

The attributes differ too: each connector gives an event type its own (`CRM_EVENT_ATTRIBUTES`;
a Salesforce call has `subject`, a HubSpot call `title`; HubSpot's email events are the latest
dates a contact keeps, with none), so a `where` testing an attribute the CRM's events of that
type never carry (a typo such as `duration` for `duration_s`, or a URL on a HubSpot email click)
never holds, and is refused at the rule with the attributes there are.

A HubSpot company's member events are fewer still: the connector makes them from the dates a
contact record keeps (`connectors.hubspot.members`), one event each, without attributes. A
roll-up rule no such event can match (`event: meeting`, or a `where` on a URL) is refused too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from config.errors import Problem
from config.tiers import located_at_rule, rule_places
from scoring.conditions import cond_properties
from scoring.model import ScoringModel
from scoring.rollup import Member, member_facts
from scoring.spec import Cond
from scoring.types import EVENT_TYPES, Event

__all__ = [
    "CRM_EVENT_ATTRIBUTES",
    "CRM_EVENT_TYPES",
    "HUBSPOT_MEMBER_EVENTS",
    "unprovided_event_problems",
]

#: CRM -> event type -> the attributes its connector's events of that type carry (people
#: kinds; account kinds read their people's). A type missing is one the CRM does not provide.
CRM_EVENT_ATTRIBUTES: dict[str, dict[str, frozenset[str]]] = {
    # `connectors.hubspot.engagement`: web events from the Events API (Enterprise), meetings and
    # calls from their objects, email events at the latest dates the contact keeps
    # (`hs_email_last_open_date`, ...) marked `rollup`; no campaign responses
    "hubspot": {
        "page_view": frozenset({"url", "title"}),
        "form_submission": frozenset({"form", "url"}),
        "email_open": frozenset({"rollup"}),
        "email_click": frozenset({"rollup"}),
        "email_reply": frozenset({"rollup"}),
        "meeting": frozenset({"title", "outcome"}),
        "call": frozenset({"outcome", "duration_s", "title"}),
    },
    # `connectors.salesforce.activity`: no web activity. Email clicks carry `url` always empty
    # (Salesforce does not say which link), so it is not one to test.
    "salesforce": {
        "email_open": frozenset({"email", "source", "times_opened"}),
        "email_click": frozenset({"email", "source"}),
        "email_reply": frozenset({"email", "source"}),
        "meeting": frozenset({"title", "outcome", "duration_min", "start"}),
        "call": frozenset({"outcome", "duration_s", "subject"}),
        "campaign_response": frozenset({"campaign", "status"}),
    },
}
#: CRM -> the event types its connector reads, in the language's order.
CRM_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    crm: tuple(t for t in EVENT_TYPES if t in carried)
    for crm, carried in CRM_EVENT_ATTRIBUTES.items()
}
#: Attributes only leadsync sets, never worth a rule's test.
_MARKERS = frozenset({"rollup"})
#: The event types of a HubSpot company's members (`connectors.hubspot.members.MEMBER_DATES`)
#: and the attributes each such event carries.
HUBSPOT_MEMBER_EVENTS = ("page_view", "form_submission", "email_open", "email_click", "email_reply")
HUBSPOT_MEMBER_ATTRIBUTES = {"rollup": True}


def unprovided_event_problems(crm: str, path: Path, model: ScoringModel) -> list[Problem]:
    """One problem per rule (and account roll-up) of `model` reading an event type `crm` does
    not provide, located at the rule in the model file at `path`."""
    provided = CRM_EVENT_TYPES.get(crm, EVENT_TYPES)
    spec = model.spec
    wanted: list[tuple[str, tuple[str, ...]]] = [
        (rule.name, (rule.event,)) for rule in spec.every_rule if rule.event is not None
    ]
    if spec.members is not None:
        wanted += [(r.name, (r.event,) if r.event else r.events) for r in spec.members.rollups]
    places = rule_places(path)
    problems = []
    for name, events in wanted:
        lacking = [e for e in events if e not in provided]
        if not lacking:
            continue
        if len(lacking) == len(events):
            why = f"which {crm} does not provide, so it never fires"
        else:
            # the rule's other types do fire: the lacking ones would only mislead its reader
            why = f"which {crm} does not provide: remove them from its list"
        problems.append(
            located_at_rule(
                path,
                places,
                name,
                f"rule {name!r} reads {' and '.join(lacking)} events, {why}; {crm} provides "
                f"{', '.join(provided)}",
            )
        )
    if crm == "hubspot" and model.object == "company":
        problems += [located_at_rule(path, places, n, m) for n, m in _dead_member_rules(model)]
    tested: list[tuple[str, str | None, Cond | None]] = [
        (rule.name, rule.event, rule.where) for rule in spec.every_rule
    ]
    if spec.members is not None and not (crm == "hubspot" and model.object == "company"):
        tested += [(r.name, r.event, r.where) for r in spec.members.rollups]
    for name, event, where in tested:
        message = _uncarried_attributes(crm, name, event, where)
        if message is not None:
            problems.append(located_at_rule(path, places, name, message))
    return problems


def _uncarried_attributes(crm: str, name: str, event: str | None, where: Cond | None) -> str | None:
    """Why the `where` of rule `name` on `event` events never holds on `crm`: it tests
    attributes those events never carry (None when it tests none, or the CRM does not provide
    the type at all, which is reported as such)."""
    carried = CRM_EVENT_ATTRIBUTES.get(crm, {}).get(event or "")
    if carried is None or where is None:
        return None
    uncarried = sorted(cond_properties(where) - carried)
    if not uncarried:
        return None
    offered = sorted(carried - _MARKERS)
    there = (
        f"they carry {', '.join(offered)}"
        if offered
        else "they carry none: they are the latest dates the contact keeps"
    )
    return (
        f"rule {name!r} tests {' and '.join(uncarried)}, which {crm}'s {event} events never "
        f"carry: such a test never holds (a 'missing' one always does); {there}"
    )


def _dead_member_rules(model: ScoringModel) -> list[tuple[str, str]]:
    """(rule name, why) of each event or breadth roll-up of a HubSpot company model that no
    member event HubSpot yields can match (each rule is tried on one fresh event of every type
    it reads, with the attributes those events carry), or that lists a type no member event has
    beside types that match."""
    plan = model.rollup
    if plan is None:
        return []
    now = datetime(2000, 1, 1, tzinfo=UTC)
    dead = []
    for slot, rule in enumerate(plan.rules):
        if rule.kind == "score":
            continue
        wanted = (rule.event,) if rule.event else (rule.events or EVENT_TYPES)
        served = [t for t in wanted if t in HUBSPOT_MEMBER_EVENTS]
        probes = tuple(Event(t, now, HUBSPOT_MEMBER_ATTRIBUTES) for t in served)
        if member_facts(Member("probe", {}, probes), plan, now).counts[slot]:
            lacking = [t for t in (rule.events or ()) if t not in HUBSPOT_MEMBER_EVENTS]
            if lacking:
                # the rule fires on its other types: the lacking ones would only mislead
                dead.append(
                    (
                        rule.name,
                        f"rule {rule.name!r} lists {' and '.join(lacking)}, which a HubSpot "
                        "company's members never have (their events are the dates a contact "
                        "keeps): remove them from its list; member events on HubSpot: "
                        f"{', '.join(HUBSPOT_MEMBER_EVENTS)}",
                    )
                )
            continue
        if served:
            why = (
                "HubSpot member events are the dates a contact keeps, without attributes, "
                "so its 'where' never holds and the rule never fires on a company"
            )
        else:
            why = (
                f"HubSpot keeps no {' or '.join(wanted)} date on a contact, so a company's "
                f"members have no such events and the rule never fires"
            )
        dead.append(
            (
                rule.name,
                f"rule {rule.name!r}: {why}; member events on HubSpot: "
                f"{', '.join(HUBSPOT_MEMBER_EVENTS)}",
            )
        )
    return dead
