"""Tooling API `CustomField` resources: create, read (with `Metadata`) and update fields.

A new custom field joins its object's definition at once but, as in Salesforce, stays invisible
to queries, writes and describe until field-level security grants it (see `Store.access`).
"""

from __future__ import annotations

import re

from sandbox.httpserver import Request, Response
from sandbox.salesforce.ids import normalise
from sandbox.salesforce.rest import Call, api_error, json_object
from sandbox.salesforce.schema import (
    CUSTOM_FIELD_TYPES,
    custom_field,
    picklist_problem,
    tooling_form,
)
from sandbox.salesforce.store import Store

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__c$")


class ToolingApi:
    """The org's Tooling `CustomField` resources."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create_custom_field(self, request: Request, call: Call) -> Response:
        """`POST tooling/sobjects/CustomField` with `FullName` and `Metadata`."""
        body = json_object(request)
        if isinstance(body, Response):
            return body
        full_name = str(body.get("FullName") or "")
        metadata = body.get("Metadata")
        object_name, _, api_name = full_name.partition(".")
        obj = self.store.sobject(object_name)
        if obj is None or obj.name not in ("Lead", "Contact", "Account", "Opportunity"):
            return api_error(
                400, "FIELD_INTEGRITY_EXCEPTION", f"Invalid FullName: {full_name}", ["FullName"]
            )
        if not _API_NAME.match(api_name) or len(api_name) > 43:
            return api_error(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Field name: The Field Name must begin with a letter, end with __c, and use only "
                "alphanumeric characters and single underscores.",
                ["FullName"],
            )
        if not isinstance(metadata, dict) or metadata.get("type") not in CUSTOM_FIELD_TYPES:
            return api_error(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                f"Metadata.type: bad value; use one of {sorted(CUSTOM_FIELD_TYPES)}",
                ["Metadata"],
            )
        if not metadata.get("label"):
            return api_error(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Label]", ["Label"]
            )
        problem = picklist_problem(metadata)
        if problem:
            return api_error(400, "FIELD_INTEGRITY_EXCEPTION", problem, ["Metadata"])
        with self.store.lock:
            if obj.field(api_name) is not None:
                return api_error(
                    400,
                    "DUPLICATE_DEVELOPER_NAME",
                    "duplicate value found: <unknown> duplicates value on record with id: "
                    "<unknown>",
                )
            obj.add(custom_field(obj.name, api_name, metadata))
            now = self.store.now()
            new_id = self.store.load(
                "CustomField",
                {
                    "DeveloperName": api_name[:-3],
                    "TableEnumOrId": obj.name,
                    "NamespacePrefix": None,
                    "CreatedDate": now,
                    "CreatedById": call.user,
                    "LastModifiedDate": now,
                    "LastModifiedById": call.user,
                    "SystemModstamp": now,
                },
            )
            self.store.custom_metadata[new_id] = tooling_form(metadata)
        return Response(
            201, {"id": new_id, "success": True, "errors": [], "warnings": [], "infos": []}
        )

    def get_custom_field(self, request: Request, call: Call, *, record_id: str) -> Response:
        """`GET tooling/sobjects/CustomField/{id}` with `FullName` and `Metadata`."""
        full = normalise(record_id) or ""
        with self.store.lock:
            row = self.store.table("CustomField").get(full)
            if row is None:
                return api_error(404, "NOT_FOUND", "The requested resource does not exist")
            return Response(
                200,
                {
                    "attributes": {
                        "type": "CustomField",
                        "url": f"/services/data/v{call.version}/tooling/sobjects/"
                        f"CustomField/{full}",
                    },
                    "Id": full,
                    "DeveloperName": row["DeveloperName"],
                    "TableEnumOrId": row["TableEnumOrId"],
                    "NamespacePrefix": None,
                    "FullName": f"{row['TableEnumOrId']}.{row['DeveloperName']}__c",
                    "Metadata": self.store.custom_metadata[full],
                },
            )

    def update_custom_field(self, request: Request, call: Call, *, record_id: str) -> Response:
        """`PATCH tooling/sobjects/CustomField/{id}` with new `Metadata` (picklist values...)."""
        body = json_object(request)
        if isinstance(body, Response):
            return body
        full = normalise(record_id) or ""
        metadata = body.get("Metadata")
        if not isinstance(metadata, dict) or metadata.get("type") not in CUSTOM_FIELD_TYPES:
            return api_error(
                400, "FIELD_INTEGRITY_EXCEPTION", "Metadata.type: bad value", ["Metadata"]
            )
        problem = picklist_problem(metadata)
        if problem:
            return api_error(400, "FIELD_INTEGRITY_EXCEPTION", problem, ["Metadata"])
        with self.store.lock:
            row = self.store.table("CustomField").get(full)
            if row is None:
                return api_error(404, "NOT_FOUND", "The requested resource does not exist")
            obj = self.store.sobject(row["TableEnumOrId"])
            assert obj is not None
            api_name = row["DeveloperName"] + "__c"
            obj.add(custom_field(obj.name, api_name, metadata))
            self.store.custom_metadata[full] = tooling_form(metadata)
            row["LastModifiedDate"] = row["SystemModstamp"] = self.store.now()
        return Response(204)
