"""Which event types each CRM provides, and the model rules that read one their CRM lacks.

The event language is shared (`scoring.types.EVENT_TYPES`), but the connectors do not read
every type from every CRM: Salesforce keeps no page views or form submissions (the table under
"Where Salesforce events come from" in docs/model-language.md), so a `page_view` rule in a
Salesforce lead model would silently score nothing. A model file alone does not say its CRM;
the configuration does, so loading it (and the model tools trying a candidate on a
connection) refuses such rules, located at each rule.

A HubSpot company's member events are fewer still: the connector makes them from the dates a
contact record keeps (`connectors.hubspot.members`), one event each, without attributes. A
roll-up rule no such event can match (`event: meeting`, or a `where` on a URL) is refused too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from config.errors import Problem
from config.tiers import ENTERPRISE_EVENTS, located_at_rule, rule_places
from scoring.model import ScoringModel
from scoring.rollup import Member, member_facts
from scoring.types import EVENT_TYPES, Event

__all__ = ["CRM_EVENT_TYPES", "HUBSPOT_MEMBER_EVENTS", "unprovided_event_problems"]

#: CRM -> the event types its connector reads (for the people kinds; account kinds read their
#: people's).
CRM_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "hubspot": EVENT_TYPES,
    # Salesforce keeps no web activity: the events of its activity objects only
    "salesforce": tuple(e for e in EVENT_TYPES if e not in ENTERPRISE_EVENTS),
}
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
    return problems


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
