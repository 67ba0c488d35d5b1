"""`ensure_schema`: leadsync's custom fields on Lead or Contact, and who may see them.

1. Find the existing `Leadsync_*__c` fields with the Tooling API (`CustomField`, visible whatever
   the field-level security) and read each one's `Metadata` to compare types. A field of another
   type is a `conflict` and is never changed; a picklist missing values of the model is
   `incomplete`, and extended (`updated`) with `apply`; a missing field is created (`created`).
2. Field-level security: custom fields are invisible to the API until a permission set grants
   them. The `Leadsync_Integration` permission set (created if needed) gets read/edit on every
   output field and is assigned to the integration user. With `sales_permission_set`, that
   existing permission set gets read-only access, so sales users see the scores.

Without `apply` nothing changes: the report says what is missing and the actions that apply
would take.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import FieldStatus, OutputField, SchemaReport
from connectors.errors import PermanentError
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.fields import (
    api_name,
    picklist_entries,
    picklist_value,
    picklist_values,
    sobject_of,
    tooling_metadata,
)
from connectors.salesforce.queries import quote
from connectors.salesforce.reader import Reader

PERMISSION_SET = "Leadsync_Integration"


class SchemaManager:
    """Checks and creates the output fields and their permissions."""

    def __init__(
        self, api: SalesforceApi, reader: Reader, *, sales_permission_set: str | None
    ) -> None:
        self.api = api
        self.reader = reader
        self.sales_permission_set = sales_permission_set

    def ensure(self, kind: str, outputs: Sequence[OutputField], *, apply: bool) -> SchemaReport:
        """Report (and with `apply`, fix) the output fields of `kind`."""
        sobject = sobject_of(kind)
        existing = self._existing_fields(sobject)
        statuses: list[FieldStatus] = []
        present: list[str] = []
        for output in outputs:
            name = api_name(output.name)
            wanted = tooling_metadata(output)
            field_id = existing.get(name.lower())
            if field_id is None:
                if apply:
                    self.api.tooling(
                        "tooling/CustomField",
                        "sobjects/CustomField",
                        method="POST",
                        data={"FullName": f"{sobject}.{name}", "Metadata": wanted},
                    )
                    statuses.append(
                        FieldStatus(output.name, name, "created", f"{wanted['type']} field")
                    )
                    present.append(name)
                else:
                    statuses.append(
                        FieldStatus(
                            output.name, name, "missing", f"would create a {wanted['type']} field"
                        )
                    )
                continue
            present.append(name)
            statuses.append(self._compare(output, name, field_id, wanted, apply=apply))
        actions = self._permissions(sobject, present, apply=apply)
        if apply:
            self.reader.describe(sobject, refresh=True)
        return SchemaReport(kind, tuple(statuses), tuple(actions))

    def _existing_fields(self, sobject: str) -> dict[str, str]:
        soql = (
            "SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = "
            f"{quote(sobject)} AND DeveloperName LIKE 'Leadsync%'"
        )
        result = self.api.tooling("tooling/query", "query", params={"q": soql})
        return {
            f"{row['DeveloperName']}__c".lower(): str(row["Id"])
            for row in (result or {}).get("records") or []
        }

    def _compare(
        self, output: OutputField, name: str, field_id: str, wanted: dict[str, Any], *, apply: bool
    ) -> FieldStatus:
        current = self.api.tooling("tooling/CustomField", f"sobjects/CustomField/{field_id}")
        metadata = dict((current or {}).get("Metadata") or {})
        kind = metadata.get("type")
        if kind != wanted["type"]:
            return FieldStatus(
                output.name,
                name,
                "conflict",
                f"is a {kind} field, leadsync needs {wanted['type']}: change or delete it in Setup",
            )
        if kind == "Text" and int(metadata.get("length") or 0) < int(wanted["length"]):
            return FieldStatus(
                output.name,
                name,
                "conflict",
                f"Text({metadata.get('length')}) is shorter than {wanted['length']}",
            )
        if kind == "Picklist":
            have = picklist_values(metadata)
            lacking = [v for v in output.options if v not in have]
            if lacking:
                if not apply:
                    return FieldStatus(
                        output.name,
                        name,
                        "incomplete",
                        f"picklist lacks {', '.join(lacking)}",
                    )
                # Existing entries go back as read (labels, colours, defaults kept).
                entries = [*picklist_entries(metadata), *map(picklist_value, lacking)]
                value_set = dict(metadata.get("valueSet") or {})
                definition = dict(value_set.get("valueSetDefinition") or {})
                value_set["valueSetDefinition"] = {**definition, "value": entries}
                metadata["valueSet"] = value_set
                self.api.tooling(
                    "tooling/CustomField",
                    f"sobjects/CustomField/{field_id}",
                    method="PATCH",
                    data={"Metadata": metadata},
                )
                return FieldStatus(output.name, name, "updated", f"added picklist values {lacking}")
        return FieldStatus(output.name, name, "ok")

    # -- permissions ----------------------------------------------------------------------------

    def _permissions(self, sobject: str, fields: list[str], *, apply: bool) -> list[str]:
        actions: list[str] = []
        if not fields:
            return actions
        integration = self._permission_set(PERMISSION_SET)
        if integration is None:
            if not apply:
                return [
                    f"would create permission set {PERMISSION_SET} with read/edit on "
                    f"{len(fields)} {sobject} fields and assign it to the integration user",
                    *self._sales_actions(sobject, fields, apply=False),
                ]
            created = self.api.rest(
                "sobjects/PermissionSet",
                "sobjects/PermissionSet",
                method="POST",
                body={
                    "Name": PERMISSION_SET,
                    "Label": "Leadsync Integration",
                    "Description": "Read and edit leadsync's score fields (integration user)",
                },
            )
            integration = str(created["id"])
            actions.append(f"created permission set {PERMISSION_SET}")
        actions += self._grant(integration, PERMISSION_SET, sobject, fields, edit=True, apply=apply)
        user = self.api.integration_user()
        assigned = self.api.query(
            f"SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = {quote(user)} "
            f"AND PermissionSetId = {quote(integration)}"
        )
        if not assigned.get("records"):
            if apply:
                self.api.rest(
                    "sobjects/PermissionSetAssignment",
                    "sobjects/PermissionSetAssignment",
                    method="POST",
                    body={"AssigneeId": user, "PermissionSetId": integration},
                )
                actions.append(f"assigned {PERMISSION_SET} to the integration user {user}")
            else:
                actions.append(f"would assign {PERMISSION_SET} to the integration user {user}")
        return actions + self._sales_actions(sobject, fields, apply=apply)

    def _sales_actions(self, sobject: str, fields: list[str], *, apply: bool) -> list[str]:
        name = self.sales_permission_set
        if not name:
            return []
        sales = self._permission_set(name)
        if sales is None:
            return [
                f"sales permission set {name!r} not found: create it in Setup (and assign it to "
                "sales users), or fix sales_permission_set; sales users cannot see the scores "
                "until then"
            ]
        return self._grant(sales, name, sobject, fields, edit=False, apply=apply)

    def _permission_set(self, name: str) -> str | None:
        result = self.api.query(f"SELECT Id FROM PermissionSet WHERE Name = {quote(name)}")
        records = result.get("records") or []
        return str(records[0]["Id"]) if records else None

    def _grant(  # noqa: PLR0913  one grant row: object, field, permission set and access
        self,
        permission_set: str,
        label: str,
        sobject: str,
        fields: list[str],
        *,
        edit: bool,
        apply: bool,
    ) -> list[str]:
        result = self.api.query(
            "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
            f"WHERE ParentId = {quote(permission_set)} AND SobjectType = {quote(sobject)}"
        )
        existing = {str(row["Field"]).lower(): row for row in result.get("records") or []}
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for name in fields:
            row = existing.get(f"{sobject}.{name}".lower())
            if row is None:
                creates.append(
                    {
                        "attributes": {"type": "FieldPermissions"},
                        "ParentId": permission_set,
                        "SobjectType": sobject,
                        "Field": f"{sobject}.{name}",
                        "PermissionsRead": True,
                        "PermissionsEdit": edit,
                    }
                )
            elif not row.get("PermissionsRead") or (edit and not row.get("PermissionsEdit")):
                updates.append(
                    {
                        "attributes": {"type": "FieldPermissions"},
                        "id": row["Id"],
                        "PermissionsRead": True,
                        "PermissionsEdit": edit or bool(row.get("PermissionsEdit")),
                    }
                )
        lacking = len(creates) + len(updates)
        if not lacking:
            return []
        access = "read/edit" if edit else "read"
        if not apply:
            return [f"would grant {access} on {lacking} {sobject} fields to {label}"]
        for method, records in (("POST", creates), ("PATCH", updates)):
            for start in range(0, len(records), 200):
                results = self.api.rest(
                    "composite/sobjects",
                    "composite/sobjects",
                    method=method,
                    body={"allOrNone": False, "records": records[start : start + 200]},
                )
                failed = [r for r in results or [] if not r.get("success")]
                if failed:
                    errors = failed[0].get("errors") or [{}]
                    raise PermanentError(
                        f"granting {access} on {sobject} fields to {label} failed: "
                        f"{errors[0].get('statusCode')}: {errors[0].get('message')}"
                    )
        return [f"granted {access} on {lacking} {sobject} fields to {label}"]
