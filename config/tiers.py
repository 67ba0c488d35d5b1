"""Which HubSpot subscription tier serves each engagement source a model can use.

HubSpot serves event-level web activity (page views, form submissions) only through the Events
API, `GET /events/v3/events`, which needs an Enterprise hub (HubSpot's Events API guide); on
lower tiers it answers 403. A model with `page_view` or `form_submission` rules on a connection
whose `tier` is below Enterprise would call it for every active contact and fail, so loading
the config refuses the pair, located at the connection's `tier` and at each rule.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from config.errors import Problem
from scoring.model import ScoringModel

__all__ = [
    "ENTERPRISE_EVENTS",
    "ROLLUP_ALTERNATIVES",
    "enterprise_rules",
    "located_at_rule",
    "rule_places",
    "rule_problems",
]

#: Canonical event types only the Enterprise Events API serves.
ENTERPRISE_EVENTS = ("page_view", "form_submission")
#: Contact rollup properties that score the same activity on every tier.
ROLLUP_ALTERNATIVES = {
    "page_view": "hs_analytics_num_page_views, hs_analytics_last_visit_timestamp",
    "form_submission": "num_conversion_events, recent_conversion_event_name",
}


def enterprise_rules(model: ScoringModel) -> list[tuple[str, str]]:
    """(rule name, event type) of every rule of `model` that needs the Events API."""
    return [
        (rule.name, rule.event) for rule in model.spec.every_rule if rule.event in ENTERPRISE_EVENTS
    ]


def rule_problems(path: Path, rules: list[tuple[str, str]], where: str) -> list[Problem]:
    """One problem per rule, located at the rule in its model file; `where` names the
    connection's tier (`tier professional`)."""
    places = rule_places(path)
    problems = []
    for name, event in rules:
        problems.append(
            located_at_rule(
                path,
                places,
                name,
                f"rule {name!r} reads {event} events, which HubSpot serves only through the "
                f"Events API of Enterprise hubs, not on {where}; score the rollup "
                f"properties instead ({ROLLUP_ALTERNATIVES[event]}) or use a connection with "
                "tier: enterprise",
            )
        )
    return problems


def located_at_rule(
    path: Path, places: dict[str, tuple[int, int, str]], name: str, message: str
) -> Problem:
    """`message` located at the rule `name` of the model file at `path` (`rule_places`)."""
    line, column, key = places.get(name, (None, None, ""))
    return Problem(str(path), line, column, key, message)


def rule_places(path: Path) -> dict[str, tuple[int, int, str]]:
    """Rule name -> (line, column, key path) of each rule (and account roll-up) in a model
    file."""
    try:
        tree = YAML(typ="rt").load(StringIO(path.read_text(encoding="utf-8")))
    except Exception:  # the model already loaded once; a failure here only loses positions
        return {}
    places: dict[str, tuple[int, int, str]] = {}
    if not isinstance(tree, CommentedMap):
        return places
    lists: list[tuple[str, object]] = []
    for dimension in ("fit", "interest"):
        section = tree.get(dimension)
        if not isinstance(section, CommentedMap):
            continue
        lists.append((f"{dimension}.rules", section.get("rules")))
        groups = section.get("groups")
        if isinstance(groups, CommentedSeq):
            lists += [
                (f"{dimension}.groups[{g}].rules", group.get("rules"))
                for g, group in enumerate(groups)
                if isinstance(group, CommentedMap)
            ]
    # roll-ups add to interest, but a model may have them without an `interest` section
    members = tree.get("members")
    if isinstance(members, CommentedMap):
        lists.append(("members.rollup", members.get("rollup")))
    for prefix, rules in lists:
        if not isinstance(rules, CommentedSeq):
            continue
        for index, rule in enumerate(rules):
            if isinstance(rule, CommentedMap) and isinstance(rule.get("name"), str):
                row, col = rules.lc.item(index)
                places[rule["name"]] = (row + 1, col + 1, f"{prefix}[{index}]")
    return places
