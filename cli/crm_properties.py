"""The configured models checked against their CRM's property lists.

`validate --config` runs it for every connection and object; `backtest` and `calibrate` with
`--config` run `unknown_in_crm` for the model they try before reading any record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from config.errors import Problem, ProblemsError, UserError
from config.loader import load_config, load_configured
from config.model_refs import unknown_properties
from config.settings import ConnectionSettings
from connectors.base import Connector
from connectors.property_names import PropertyLister
from scoring.model import ScoringModel
from sync.connections import build_connector

#: Related-record names a connector reads, by (CRM, kind): the prefix, the related kind whose
#: property list holds the rest, and whether other dotted names are relationship paths the list
#: cannot tell about (HubSpot contacts read `company.<property>`, nothing else with a dot;
#: Salesforce Contacts `Account.<field>`, checked against the Account's describe, and other
#: relationship paths such as `Owner.Name` or `Account.Owner.Name`, left to the read).
RELATED: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("hubspot", "contact"): ("company.", "company", False),
    ("salesforce", "contact"): ("Account.", "account", True),
}


def unknown_in_crm(
    *,
    conn: ConnectionSettings,
    connector: Connector,
    kind: str,
    model: ScoringModel,
    model_path: Path,
) -> list[Problem] | None:
    """The model's properties the CRM lacks for `kind`, located in the model file (None when
    the connector cannot list properties)."""
    if not isinstance(connector, PropertyLister):
        return None
    names = connector.property_names(kind)
    available = set(names.names)
    related = RELATED.get((conn.crm, kind))
    paths = False
    prefix: str | None = None
    if related is not None:
        prefix, other, paths = related
        available |= {prefix + n for n in connector.property_names(other).names}
    where = f"among the {kind} properties of connection '{conn.name}' ({conn.crm})"
    return unknown_properties(
        model,
        model_path,
        available,
        where,
        case_sensitive=names.case_sensitive,
        related=related is not None and not paths,
        related_prefix=prefix if paths else None,
        relationships=names.relationships or None,
        max_relationships=names.max_relationships,
    )


def validate_config(config: str, secrets_dir: str | None, echo: Callable[[str], None]) -> list[str]:
    """Problems of the configuration, its models and their properties in each CRM (one
    property-list call per object); says OK per object to `echo`."""
    try:
        loaded = load_config(config, secrets_dir=secrets_dir)
        models, groups = load_configured(loaded)
    except UserError as exc:
        return [str(exc)]
    problems: list[str] = []
    for conn in loaded.settings.connections:
        connector = build_connector(conn)
        try:
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
        finally:
            connector.close()
    return problems
