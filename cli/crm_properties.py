"""The configured models checked against their CRM's property lists.

`validate --config` runs it for every connection and object; `backtest` and `calibrate` with
`--config` run `unknown_in_crm` for the model they try before reading any record. The property
lists are API calls like any other: recorded in the state store under the command's name and
counted against the connection's daily cap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from cli.commands.runs import open_store
from config.account_links import ACCOUNT_MEMBERS
from config.errors import Problem, ProblemsError, UserError
from config.loader import load_config, load_configured
from config.model_group import ModelGroup
from config.model_refs import Walk, unknown_properties
from config.settings import ConnectionSettings
from connectors.base import Connector
from connectors.property_names import PropertyLister, RelationshipWalker
from scoring.model import ScoringModel
from sync.account_day import daily_window
from sync.connections import metered_connector
from sync.run import utc_now

#: Related-record names a connector reads where the CRM has no relationship paths, by (CRM,
#: kind): the prefix and the related kind whose property list holds the rest (HubSpot contacts
#: read `company.<property>`, nothing else with a dot). Salesforce's dotted names are
#: relationship paths, followed through the describes (`RelationshipWalker`).
RELATED: dict[tuple[str, str], tuple[str, str]] = {
    ("hubspot", "contact"): ("company.", "company"),
}


def unknown_in_crm(
    *,
    conn: ConnectionSettings,
    connector: Connector,
    kind: str,
    model: ScoringModel,
    model_path: Path,
) -> list[Problem] | None:
    """The model's properties the CRM lacks for `kind`, and, for an account model, the
    properties of its people that no member kind has, located in the model file (None when
    the connector cannot list properties)."""
    if not isinstance(connector, PropertyLister):
        return None
    names = connector.property_names(kind)
    available = set(names.names)
    related = RELATED.get((conn.crm, kind))
    if related is not None:
        prefix, other = related
        available |= {prefix + n for n in connector.property_names(other).names}
    where = f"among the {kind} properties of connection '{conn.name}' ({conn.crm})"
    problems = unknown_properties(
        model,
        model_path,
        available,
        where,
        case_sensitive=names.case_sensitive,
        related=related is not None,
        walk=_walk(connector, kind),
        max_relationships=names.max_relationships,
    )
    members = ACCOUNT_MEMBERS.get((conn.crm, kind), ())
    if members and model.rollup is not None:
        problems += _unknown_of_members(conn, connector, members, model, model_path)
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def _walk(connector: object, kind: str) -> Walk | None:
    if not isinstance(connector, RelationshipWalker):
        return None
    return lambda steps: connector.related_names(kind, steps)


def _unknown_of_members(
    conn: ConnectionSettings,
    connector: PropertyLister,
    members: tuple[str, ...],
    model: ScoringModel,
    model_path: Path,
) -> list[Problem]:
    """The properties an account model reads of its people (`members`) that no member kind
    has: a name one kind lacks is read where the other has it (a Salesforce Account's Leads
    and Contacts), so only a name every member kind lacks is reported."""
    found: list[list[Problem]] = []
    for person in members:
        names = connector.property_names(person)
        where = (
            f"among the {' or '.join(members)} properties of connection '{conn.name}' "
            f"({conn.crm}) (the members section reads them)"
        )
        found.append(
            unknown_properties(
                model,
                model_path,
                names.names,
                where,
                case_sensitive=names.case_sensitive,
                related=False,
                walk=_walk(connector, person),
                max_relationships=names.max_relationships,
                members=True,
            )
        )
    lacking = set.intersection(*({_named(p) for p in each} for each in found))
    return [p for p in found[0] if _named(p) in lacking]


def _named(problem: Problem) -> tuple[int | None, int | None, str]:
    # the same name is located at the same first mention whatever the member kind
    return problem.line, problem.column, problem.message.split("' ", 1)[0]


def validate_config(config: str, secrets_dir: str | None, echo: Callable[[str], None]) -> list[str]:
    """Problems of the configuration, its models and their properties in each CRM (one
    property-list call per object); says OK per object to `echo`."""
    try:
        loaded = load_config(config, secrets_dir=secrets_dir)
        models, groups = load_configured(loaded)
    except UserError as exc:
        return [str(exc)]
    problems: list[str] = []
    store = open_store(loaded.settings)
    try:
        for conn in loaded.settings.connections:
            day = daily_window(store, conn, utc_now())
            with metered_connector(store, conn, command="validate", day=day) as (connector, _):
                problems += _validate_connection(conn, connector, models, groups, echo)
    finally:
        store.close()
    return problems


def _validate_connection(
    conn: ConnectionSettings,
    connector: Connector,
    models: Mapping[tuple[str, str], ScoringModel],
    groups: Mapping[tuple[str, str], ModelGroup],
    echo: Callable[[str], None],
) -> list[str]:
    problems: list[str] = []
    for obj in conn.objects:
        group = groups.get((conn.name, obj.kind))
        model = (
            models[(conn.name, obj.kind)]
            if group is None
            else next(s.model for s in group.slots if s.namespace == obj.namespace)
        )
        found = unknown_in_crm(
            conn=conn, connector=connector, kind=obj.kind, model=model, model_path=obj.model
        )
        if found:
            problems.append(str(ProblemsError(found)))
            continue
        checked = "not checked (no property list)" if found is None else "all found"
        echo(
            f"OK {conn.name} {obj.kind}: model '{model.name}' ({model.version}), "
            f"properties {checked}"
        )
    return problems
