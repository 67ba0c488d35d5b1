"""`ensure_schema` for HubSpot: the `leadsync` property group and typed output properties.

Reads the object's properties once (one call), compares each output with what exists and
reports per field: `ok`, `missing`, `conflict` (a property of that name with another type, or one
HubSpot defines itself), `incomplete` (an enumeration lacking options) or, with `apply=True`,
`created` / `updated` (options added). Nothing changes without `apply`. Creation tolerates a
concurrent creator: a 409 on the group or a property re-reads what is there and judges it like
any existing property.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import FieldStatus, OutputField, SchemaReport
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.errors import HubSpotRejected
from connectors.hubspot.values import (
    GROUP_LABEL,
    GROUP_NAME,
    crm_name,
    hubspot_type,
    options,
    property_definition,
)

__all__ = ["ensure_schema"]


def _judge(field: OutputField, existing: Mapping[str, Any]) -> FieldStatus:
    """Compare an existing HubSpot property with the output it should hold."""
    name = crm_name(field.name)
    kind, field_type = hubspot_type(field.type)
    found_kind = existing.get("type")
    if existing.get("hubspotDefined"):
        return FieldStatus(field.name, name, "conflict", "a HubSpot-defined property has this name")
    if found_kind != kind:
        return FieldStatus(
            field.name,
            name,
            "conflict",
            f"type is {found_kind!r}, expected {kind!r}; delete or rename the property in "
            "HubSpot, then run again",
        )
    notes = []
    if existing.get("fieldType") != field_type:
        notes.append(f"fieldType {existing.get('fieldType')!r} (leadsync creates {field_type!r})")
    if existing.get("groupName") != GROUP_NAME:
        notes.append(f"in group {existing.get('groupName')!r}")
    if field.type == "enumeration":
        have = {str(o.get("value")) for o in existing.get("options") or [] if isinstance(o, dict)}
        lacking = [value for value in field.options if value not in have]
        if lacking:
            return FieldStatus(
                field.name, name, "incomplete", f"options missing: {', '.join(lacking)}"
            )
    return FieldStatus(field.name, name, "ok", "; ".join(notes))


def list_properties(api: HubSpotApi, object_type: str) -> dict[str, dict[str, Any]]:
    """Every (unarchived) property definition of `object_type` by name: one call."""
    reply = api.call("properties.list", api.properties_core.get_all, object_type, archived=False)
    return {str(p.get("name")): p for p in (reply.data.get("results") or []) if isinstance(p, dict)}


def ensure_schema(
    api: HubSpotApi, object_type: str, outputs: Sequence[OutputField], *, apply: bool
) -> SchemaReport:
    """Verify (and with `apply`, create or extend) the output properties of `object_type`."""
    existing = list_properties(api, object_type)
    statuses: list[FieldStatus] = []
    actions: list[str] = []
    group_ready = False
    for order, field in enumerate(outputs):
        name = crm_name(field.name)
        if name in existing:
            status = _judge(field, existing[name])
            if apply and status.state == "incomplete":
                status = _add_options(api, object_type, field, existing[name])
            statuses.append(status)
            continue
        if not apply:
            statuses.append(
                FieldStatus(field.name, name, "missing", "`leadsync setup --apply` creates it")
            )
            continue
        if not group_ready:
            actions += _ensure_group(api, object_type)
            group_ready = True
        statuses.append(_create(api, object_type, field, order))
    actions += [
        f"{s.state} {object_type} property {s.crm_name}"
        for s in statuses
        if s.state in ("created", "updated")
    ]
    return SchemaReport(kind=object_type, fields=tuple(statuses), actions=tuple(actions))


def _ensure_group(api: HubSpotApi, object_type: str) -> list[str]:
    body = {"name": GROUP_NAME, "label": GROUP_LABEL, "displayOrder": -1}
    try:
        api.call("groups.create", api.properties_groups.create, object_type, body)
    except HubSpotRejected as exc:
        if exc.status != 409:
            raise
        return []
    return [f"created {object_type} property group {GROUP_NAME}"]


def _create(api: HubSpotApi, object_type: str, field: OutputField, order: int) -> FieldStatus:
    name = crm_name(field.name)
    try:
        api.call(
            "properties.create",
            api.properties_core.create,
            object_type,
            property_definition(field, order),
        )
    except HubSpotRejected as exc:
        if exc.status != 409:
            raise
        # Someone created it between our read and our create: judge what is there now.
        reply = api.call("properties.read", api.properties_core.get_by_name, object_type, name)
        return _judge(field, reply.data)
    return FieldStatus(field.name, name, "created")


def _add_options(
    api: HubSpotApi, object_type: str, field: OutputField, existing: Mapping[str, Any]
) -> FieldStatus:
    """Append the missing enumeration options, keeping the existing ones and their order."""
    name = crm_name(field.name)
    kept = [o for o in existing.get("options") or [] if isinstance(o, dict)]
    have = {str(o.get("value")) for o in kept}
    added = [o for o in options(field.options) if o["value"] not in have]
    for i, option in enumerate(added):
        option["displayOrder"] = len(kept) + i
    api.call(
        "properties.update",
        api.properties_core.update,
        object_type,
        name,
        {"options": kept + added},
    )
    return FieldStatus(
        field.name, name, "updated", f"added options {', '.join(o['value'] for o in added)}"
    )
