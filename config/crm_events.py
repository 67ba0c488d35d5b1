"""Which event types each CRM provides, and the model rules that read one their CRM lacks.

The event language is shared (`scoring.types.EVENT_TYPES`), but the connectors do not read
every type from every CRM: Salesforce keeps no page views or form submissions (the table under
"Where Salesforce events come from" in docs/model-language.md), so a `page_view` rule in a
Salesforce lead model would silently score nothing. A model file alone does not say its CRM;
the configuration does, so loading it (and the model tools trying a candidate on a
connection) refuses such rules, located at each rule.
"""

from __future__ import annotations

from pathlib import Path

from config.errors import Problem
from config.tiers import ENTERPRISE_EVENTS, located_at_rule, rule_places
from scoring.model import ScoringModel
from scoring.types import EVENT_TYPES

__all__ = ["CRM_EVENT_TYPES", "unprovided_event_problems"]

#: CRM -> the event types its connector reads (for the people kinds; account kinds read their
#: people's).
CRM_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "hubspot": EVENT_TYPES,
    # Salesforce keeps no web activity: the events of its activity objects only
    "salesforce": tuple(e for e in EVENT_TYPES if e not in ENTERPRISE_EVENTS),
}


def unprovided_event_problems(crm: str, path: Path, model: ScoringModel) -> list[Problem]:
    """One problem per rule (and account roll-up) of `model` reading an event type `crm` does
    not provide, located at the rule in the model file at `path`."""
    provided = CRM_EVENT_TYPES.get(crm, EVENT_TYPES)
    spec = model.spec
    wanted: list[tuple[str, tuple[str, ...]]] = [
        (rule.name, (rule.event,))
        for dimension in (spec.fit, spec.interest)
        for rule in (*dimension.rules, *(r for g in dimension.groups for r in g.rules))
        if rule.event is not None
    ]
    if spec.members is not None:
        wanted += [(r.name, (r.event,) if r.event else r.events) for r in spec.members.rollups]
    places = rule_places(path)
    problems = []
    for name, events in wanted:
        lacking = [e for e in events if e not in provided]
        if not lacking:
            continue
        problems.append(
            located_at_rule(
                path,
                places,
                name,
                f"rule {name!r} reads {' and '.join(lacking)} events, which {crm} does not "
                f"provide, so it never fires; {crm} provides {', '.join(provided)}",
            )
        )
    return problems
