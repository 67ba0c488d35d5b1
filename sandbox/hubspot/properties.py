"""Properties API v3: list, read, create and update properties; list, read and create groups.

https://developers.hubspot.com/docs/api/crm/properties: `GET/POST /crm/v3/properties/{object}`,
`GET/PATCH /crm/v3/properties/{object}/{name}`, `GET/POST /crm/v3/properties/{object}/groups`,
`GET /crm/v3/properties/{object}/groups/{name}`. Creating an existing name is a 409
`OBJECT_ALREADY_EXISTS`; `type`/`fieldType` pairs are validated; enumeration and bool properties
need options.

PATCH is a partial update: the fields sent replace the stored ones (`options` as a whole list,
so adding an option means sending every option). As in HubSpot, a HubSpot-defined property
(`modificationMetadata.readOnlyDefinition`) refuses changes to its definition (label, type,
fieldType, group, description, order, hidden, formField), though the options of its editable
dropdowns (lifecycle stage, lead status) may change; calculated properties
(`readOnlyOptions`) refuse option changes too. The sandbox refuses a `type` change while any
record holds a value of the property (it does not convert stored values).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sandbox.httpserver import Request, Response
from sandbox.hubspot import errors
from sandbox.hubspot.crm import table_and_body, table_of
from sandbox.hubspot.schema import BOOL_OPTIONS, FIELD_TYPES, PropertyDef
from sandbox.hubspot.store import Store, Table
from sandbox.hubspot.values import iso_ms

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: The longest internal property name HubSpot takes.
NAME_LENGTH = 100
#: Fields a PATCH may send; all but `name` and `options` are the property's definition.
_UPDATABLE = frozenset(
    {
        "name",
        "label",
        "type",
        "fieldType",
        "groupName",
        "description",
        "options",
        "displayOrder",
        "hidden",
        "formField",
    }
)
_DEFINITION = _UPDATABLE - {"name", "options"}


def _type_problem(kind: str, field_type: str) -> Response | None:
    """HubSpot's 400 for an unknown `type` or a `fieldType` that does not go with it."""
    if kind not in FIELD_TYPES:
        return errors.validation(f"Invalid type '{kind}'; valid: {sorted(FIELD_TYPES)}")
    if field_type not in FIELD_TYPES[kind]:
        return errors.validation(
            f"Property type {kind} is not valid with fieldType {field_type}; valid "
            f"fieldTypes for {kind}: {sorted(FIELD_TYPES[kind])}"
        )
    return None


def _options(kind: str, raw: Any) -> list[dict[str, Any]] | Response:
    """Normalized options of a `kind` property (bool ones default to Yes/No), or HubSpot's 400."""
    options = raw or []
    if kind == "bool" and not options:
        options = BOOL_OPTIONS
    if kind == "enumeration" and not options:
        return errors.validation("Enumeration properties require at least one option")
    if not isinstance(options, list) or not all(
        isinstance(o, dict) and "value" in o and "label" in o for o in options
    ):
        return errors.validation("options must be a list of {label, value} objects")
    return [
        {
            "label": str(o["label"]),
            "value": str(o["value"]),
            "description": str(o.get("description", "")),
            "displayOrder": int(o.get("displayOrder", i)),
            "hidden": bool(o.get("hidden", False)),
        }
        for i, o in enumerate(options)
    ]


def read_scope(name: str) -> str:
    """Scope for reading an object type's schema."""
    return f"crm.schemas.{'companies' if name == 'companies' else 'contacts'}.read"


def write_scope(name: str) -> str:
    """Scope for changing an object type's schema."""
    return f"crm.schemas.{'companies' if name == 'companies' else 'contacts'}.write"


class PropertiesApi:
    """Property and property-group endpoints over a store."""

    def __init__(self, store: Store, *, clock_ms: Any) -> None:
        self.store = store
        self.clock_ms = clock_ms

    def list_properties(self, request: Request) -> Response:
        """Every property of an object type."""
        table = table_of(self.store, request)
        if isinstance(table, Response):
            return table
        with self.store.lock:
            return Response(200, {"results": [p.to_json() for p in table.props.values()]})

    def get_property(self, request: Request) -> Response:
        """One property by name."""
        table = table_of(self.store, request)
        if isinstance(table, Response):
            return table
        with self.store.lock:
            prop = table.props.get(request.params["name"])
            if prop is None:
                return errors.not_found(
                    f"Unable to find property {request.params['name']} "
                    f"for object type {table.object_type}"
                )
            return Response(200, prop.to_json())

    def create_property(self, request: Request) -> Response:
        """Create a custom property (201), 409 if the name exists."""
        parsed = table_and_body(self.store, request)
        if isinstance(parsed, Response):
            return parsed
        table, body = parsed
        if not isinstance(body, dict):
            return errors.validation("Invalid input JSON: expected an object")
        missing = [
            k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)
        ]
        if missing:
            return errors.validation(f"Missing required field(s): {', '.join(missing)}")
        name, kind, field_type = str(body["name"]), str(body["type"]), str(body["fieldType"])
        if not _NAME.match(name):
            return errors.validation(
                f"Property name '{name}' is invalid: use lowercase letters, digits and "
                "underscores, starting with a letter."
            )
        if len(name) > NAME_LENGTH:
            return errors.validation(
                f"Property name '{name}' is {len(name)} characters long; internal names may "
                f"have at most {NAME_LENGTH}."
            )
        problem = _type_problem(kind, field_type)
        if problem:
            return problem
        options = _options(kind, body.get("options"))
        if isinstance(options, Response):
            return options
        with self.store.lock:
            if name in table.props:
                return errors.error(
                    409, "OBJECT_ALREADY_EXISTS", f"Property named '{name}' already exists."
                )
            group = str(body["groupName"])
            if group not in table.groups:
                return errors.validation(f"Property group '{group}' does not exist.")
            now = iso_ms(self.clock_ms())
            prop = PropertyDef(
                name,
                str(body["label"]),
                kind,
                field_type,
                group,
                options,
                hubspot_defined=False,
                description=str(body.get("description", "")),
                display_order=int(body.get("displayOrder", -1)),
                has_unique_value=bool(body.get("hasUniqueValue", False)),
                hidden=bool(body.get("hidden", False)),
                form_field=bool(body.get("formField", False)),
                created_at=now,
                updated_at=now,
            )
            table.add_property(prop)
            return Response(201, prop.to_json())

    def update_property(self, request: Request) -> Response:
        """Partially update a property (200 with the whole property)."""
        parsed = table_and_body(self.store, request)
        if isinstance(parsed, Response):
            return parsed
        table, body = parsed
        if not isinstance(body, dict) or not body:
            return errors.validation("Invalid input JSON: expected an object of fields to update")
        unknown = sorted(set(body) - _UPDATABLE)
        if unknown:
            return errors.validation(f'Invalid input JSON: Unrecognized field "{unknown[0]}"')
        name = request.params["name"]
        with self.store.lock:
            prop = table.props.get(name)
            if prop is None:
                return errors.not_found(
                    f"Unable to find property {name} for object type {table.object_type}"
                )
            refusal = self._refuse_update(table, prop, body)
            if refusal:
                return refusal
            kind = str(body.get("type", prop.type))
            field_type = str(body.get("fieldType", prop.field_type))
            options = _options(kind, body.get("options", prop.options))
            if isinstance(options, Response):
                return options
            updated = dataclasses.replace(
                prop,
                label=str(body.get("label", prop.label)),
                type=kind,
                field_type=field_type,
                group=str(body.get("groupName", prop.group)),
                options=options if kind in ("enumeration", "bool") else [],
                description=str(body.get("description", prop.description)),
                display_order=int(body.get("displayOrder", prop.display_order)),
                hidden=bool(body.get("hidden", prop.hidden)),
                form_field=bool(body.get("formField", prop.form_field)),
                updated_at=iso_ms(self.clock_ms()),
            )
            table.add_property(updated)
            return Response(200, updated.to_json())

    @staticmethod
    def _refuse_update(table: Table, prop: PropertyDef, body: dict[str, Any]) -> Response | None:
        """HubSpot's 400 for an update this property cannot take. Caller holds the lock."""
        name = prop.name
        if str(body.get("name", name)) != name:
            return errors.validation(f"The name of property {name} cannot be changed")
        changed = sorted(key for key in _DEFINITION if key in body)
        if prop.hubspot_defined and changed:
            return errors.validation(
                f"{name} is a HubSpot-defined property: its definition is read only "
                f"(readOnlyDefinition) and cannot be updated ({', '.join(changed)})"
            )
        if "options" in body and prop.read_only:
            return errors.validation(
                f"Can't update options for {name}: its options are read only (readOnlyOptions)"
            )
        kind = str(body.get("type", prop.type))
        field_type = str(body.get("fieldType", prop.field_type))
        problem = _type_problem(kind, field_type)
        if problem:
            return problem
        if "options" in body and body["options"] and kind not in ("enumeration", "bool"):
            return errors.validation(
                f"Options are only valid on enumeration and bool properties, not {kind}"
            )
        if kind != prop.type and any(
            table.raw(row, name) is not None for row in table.rows.values()
        ):
            return errors.validation(
                f"Property {name} has values; its type cannot change from {prop.type} to {kind}"
            )
        group = str(body.get("groupName", prop.group))
        if group not in table.groups:
            return errors.validation(f"Property group '{group}' does not exist.")
        return None

    def list_groups(self, request: Request) -> Response:
        """Every property group of an object type."""
        table = table_of(self.store, request)
        if isinstance(table, Response):
            return table
        with self.store.lock:
            return Response(200, {"results": list(table.groups.values())})

    def get_group(self, request: Request) -> Response:
        """One property group."""
        table = table_of(self.store, request)
        if isinstance(table, Response):
            return table
        with self.store.lock:
            group = table.groups.get(request.params["name"])
        if group is None:
            return errors.not_found(f"Unable to find property group {request.params['name']}")
        return Response(200, group)

    def create_group(self, request: Request) -> Response:
        """Create a property group (201), 409 if it exists."""
        parsed = table_and_body(self.store, request)
        if isinstance(parsed, Response):
            return parsed
        table, body = parsed
        if not isinstance(body, dict) or not body.get("name") or not body.get("label"):
            return errors.validation("name and label are required")
        name = str(body["name"])
        if not _NAME.match(name):
            return errors.validation(f"Property group name '{name}' is invalid")
        with self.store.lock:
            if name in table.groups:
                return errors.error(
                    409, "OBJECT_ALREADY_EXISTS", f"Property group named '{name}' already exists."
                )
            group = {
                "name": name,
                "label": str(body["label"]),
                "displayOrder": int(body.get("displayOrder", -1)),
                "archived": False,
            }
            table.groups[name] = group
            return Response(201, group)
