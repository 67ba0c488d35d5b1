"""REST API resources of the sandbox org (everything under `/services/data/vXX.X/`).

Handlers get the parsed request and a `Call` (user, API version, assignment-rule header) and
return a `Response`. Errors are JSON arrays `[{"message", "errorCode"}]` with the status
Salesforce uses; sObject Collections answer 200 with one SaveResult per record even when every
record fails. `composite` runs its subrequests through the same handlers, in one transaction
when `allOrNone` is true, and counts as one API call (the server counts before dispatching).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.httpserver import DropConnection, Request, Response
from sandbox.salesforce.faults import Faults
from sandbox.salesforce.ids import normalise, object_of
from sandbox.salesforce.query_engine import DEFAULT_BATCH, MIN_BATCH, QueryEngine, render_value
from sandbox.salesforce.schema import FieldDef, SObjectDef
from sandbox.salesforce.soql import SoqlError
from sandbox.salesforce.store import SaveError, Store, save_error

MAX_COLLECTION = 200
MAX_SUBREQUESTS = 25
MAX_COLLECTION_OR_QUERY_SUBREQUESTS = 5
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_.\[\]]+)\}")


@dataclass(frozen=True)
class Call:
    """Who calls and how: the session's user, the URL's API version, the header options."""

    user: str
    version: str
    auto_assign: bool
    batch_size: int


def api_error(status: int, code: str, message: str, fields: list[str] | None = None) -> Response:
    """An error response as the REST API sends it: a JSON array of one error."""
    body: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        body["fields"] = fields
    return Response(status, [body])


def auto_assign_of(value: str) -> bool:
    """The `Sforce-Auto-Assign` header: absent or TRUE (or a rule id) runs assignment rules."""
    return value.strip().upper() != "FALSE"


def batch_size_of(value: str) -> int:
    """`Sforce-Query-Options: batchSize=N`, clamped to Salesforce's 200..2000 (default 2000)."""
    match = re.search(r"batchSize\s*=\s*(\d+)", value)
    if not match:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(match.group(1))))


class RestApi:
    """The org's REST resources."""

    def __init__(self, store: Store, faults: Faults) -> None:
        self.store = store
        self.faults = faults
        self.engine = QueryEngine(store)
        self.tooling_engine = QueryEngine(store, tooling=True)

    # -- query ------------------------------------------------------------------------------------

    def query(
        self, request: Request, call: Call, *, include_deleted: bool = False, tooling: bool = False
    ) -> Response:
        """`GET query?q=` (and `queryAll`, `tooling/query`)."""
        text = (request.query.get("q") or [""])[0]
        engine = self.tooling_engine if tooling else self.engine
        try:
            body = engine.run(
                text,
                call.user,
                batch_size=call.batch_size,
                version=call.version,
                include_deleted=include_deleted,
            )
        except SoqlError as error:
            return api_error(400, error.code, error.message)
        if tooling:
            body.setdefault("entityTypeName", text.split()[-1] if text else None)
        return Response(200, body)

    def query_more(
        self, request: Request, call: Call, *, locator: str, tooling: bool = False
    ) -> Response:
        """`GET query/01g...-2000`."""
        engine = self.tooling_engine if tooling else self.engine
        try:
            return Response(
                200,
                engine.more(locator, call.user, batch_size=call.batch_size, version=call.version),
            )
        except SoqlError as error:
            return api_error(400, error.code, error.message)

    # -- describe and records -------------------------------------------------------------------

    def describe_global(self, request: Request, call: Call) -> Response:
        """`GET sobjects`."""
        return Response(
            200,
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [
                    {
                        "name": obj.name,
                        "label": obj.label,
                        "keyPrefix": obj.key_prefix,
                        "custom": False,
                        "queryable": obj.queryable,
                        "updateable": True,
                        "urls": {"sobject": f"/services/data/v{call.version}/sobjects/{obj.name}"},
                    }
                    for obj in self.store.objects.values()
                    if obj.served_at(call.version)
                ],
            },
        )

    def describe(self, request: Request, call: Call, *, name: str) -> Response:
        """`GET sobjects/{name}/describe`: invisible fields are left out."""
        obj = self.store.sobject(name)
        if obj is None or not obj.served_at(call.version):
            return api_error(404, "NOT_FOUND", "The requested resource does not exist")
        children = [
            rel
            for rel in obj.children.values()
            if (child := self.store.sobject(rel.child)) is None or child.served_at(call.version)
        ]
        with self.store.lock:
            body = obj.describe(self.store.visible_fields(obj, call.user), children)
        body["urls"] = {k: v.replace("{version}", call.version) for k, v in body["urls"].items()}
        return Response(200, body)

    def get_record(self, request: Request, call: Call, *, name: str, record_id: str) -> Response:
        """`GET sobjects/{name}/{id}[?fields=...]`."""
        obj = self.store.sobject(name)
        full = normalise(record_id)
        if obj is None:
            return api_error(404, "NOT_FOUND", "The requested resource does not exist")
        with self.store.lock:
            record = self.store.table(obj.name).get(full or "")
            if record is None or object_of(full or "") != obj.name:
                return api_error(404, "NOT_FOUND", "The requested resource does not exist")
            wanted = (request.query.get("fields") or [""])[0]
            fields: list[FieldDef] | Response = self.store.visible_fields(obj, call.user)
            if wanted:
                names = [n.strip() for n in wanted.split(",") if n.strip()]
                fields = readable_fields(self.store, obj, names, call.user)
            if isinstance(fields, Response):
                return fields
            body = record_body(obj.name, full or "", record, fields, call.version)
        return Response(200, body)

    def update_record(self, request: Request, call: Call, *, name: str, record_id: str) -> Response:
        """`PATCH sobjects/{name}/{id}`: 204, or 400 with the record's errors."""
        obj = self.store.sobject(name)
        if obj is None:
            return api_error(404, "NOT_FOUND", "The requested resource does not exist")
        values = json_object(request)
        if isinstance(values, Response):
            return values
        with self.store.lock:
            if self.faults.lock_roll():
                self._lock_once(record_id)
            errors = self.store.update(
                obj.name,
                record_id,
                values,
                user=call.user,
                auto_assign=call.auto_assign,
                stamp=self.store.now(),
            )
        if errors:
            status = 404 if errors[0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY" else 400
            return Response(status, [_as_api_error(e) for e in errors])
        return Response(204)

    def create_record(self, request: Request, call: Call, *, name: str) -> Response:
        """`POST sobjects/{name}`: 201 `{"id", "success", "errors"}` or 400."""
        obj = self.store.sobject(name)
        if obj is None:
            return api_error(404, "NOT_FOUND", "The requested resource does not exist")
        values = json_object(request)
        if isinstance(values, Response):
            return values
        with self.store.lock:
            new_id, errors = self._insert(obj.name, values, call)
        if errors:
            return Response(400, [_as_api_error(e) for e in errors])
        return Response(201, {"id": new_id, "success": True, "errors": []})

    def _insert(
        self, name: str, values: dict[str, Any], call: Call
    ) -> tuple[str | None, list[SaveError]]:
        problem = self._setup_rules(name, values)
        if problem:
            return None, [problem]
        return self.store.insert(name, values, user=call.user)

    def _setup_rules(self, name: str, values: dict[str, Any]) -> SaveError | None:
        """Uniqueness and integrity rules of the permission objects."""
        store = self.store
        if name == "PermissionSet":
            wanted = str(values.get("Name") or "")
            if any(
                str(r["Name"]).lower() == wanted.lower()
                for r in store.table("PermissionSet").values()
            ):
                return save_error(
                    "DUPLICATE_DEVELOPER_NAME",
                    "The API Name you entered is already in use.",
                    ["Name"],
                )
        if name == "FieldPermissions":
            qualified = str(values.get("Field") or "")
            object_name, _, field_name = qualified.partition(".")
            obj = store.sobject(object_name)
            definition = obj.field(field_name) if obj else None
            if (
                obj is None
                or definition is None
                or not definition.custom
                or str(values.get("SobjectType")) != obj.name
            ):
                return save_error(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"Field Name: bad value for restricted picklist field: {qualified}",
                    ["Field"],
                )
            parent = normalise(str(values.get("ParentId") or ""))
            if parent is None or parent not in store.table("PermissionSet"):
                return save_error(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "Parent ID: id value of incorrect type",
                    ["ParentId"],
                )
            for row in store.table("FieldPermissions").values():
                if row["ParentId"] == parent and str(row["Field"]).lower() == qualified.lower():
                    return save_error(
                        "DUPLICATE_VALUE",
                        "duplicate value found: Field duplicates value on record with id: "
                        + str(row["Id"]),
                    )
        if name == "PermissionSetAssignment":
            assignee = normalise(str(values.get("AssigneeId") or ""))
            permission_set = normalise(str(values.get("PermissionSetId") or ""))
            if permission_set is None or permission_set not in store.table("PermissionSet"):
                return save_error(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "Permission Set ID: id value of incorrect type",
                    ["PermissionSetId"],
                )
            for row in store.table("PermissionSetAssignment").values():
                if row["AssigneeId"] == assignee and row["PermissionSetId"] == permission_set:
                    return save_error(
                        "DUPLICATE_VALUE",
                        f"Duplicate PermissionSetAssignment. Assignee: {assignee}; "
                        f"Permission Set: {permission_set}",
                    )
        return None

    # -- limits ----------------------------------------------------------------------------------

    def limits(self, request: Request, call: Call, *, used: int, limit: int) -> Response:
        """`GET limits`."""
        return Response(
            200,
            {
                "DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
                "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            },
        )

    # -- sObject Collections and composite -----------------------------------------------------

    def collections(self, request: Request, call: Call, *, create: bool) -> Response:
        """`PATCH composite/sobjects` (update) and `POST composite/sobjects` (create)."""
        body = json_object(request)
        if isinstance(body, Response):
            return body
        records = body.get("records")
        if not isinstance(records, list):
            return api_error(400, "JSON_PARSER_ERROR", "records: expected a list of sObjects")
        if len(records) > MAX_COLLECTION:
            return api_error(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            )
        all_or_none = bool(body.get("allOrNone", False))
        results: list[dict[str, Any]] = []
        with self.store.lock, self.store.transaction() as journal:
            stamp = self.store.now()
            for record in records:
                results.append(self._save_one(record, call, stamp=stamp, create=create))
            if all_or_none and any(not r["success"] for r in results):
                self.store.rollback(journal)
                results = [
                    r
                    if not r["success"]
                    else {
                        "id": r.get("id"),
                        "success": False,
                        "errors": [
                            save_error(
                                "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                "Record rolled back because not all records were valid and the "
                                "request was using AllOrNone header",
                            )
                        ],
                    }
                    for r in results
                ]
        return Response(200, results)

    def _save_one(self, record: Any, call: Call, *, stamp: int, create: bool) -> dict[str, Any]:
        if not isinstance(record, dict):
            return {
                "success": False,
                "errors": [save_error("JSON_PARSER_ERROR", "expected an sObject")],
            }
        attributes = record.get("attributes") or {}
        obj = self.store.sobject(str(attributes.get("type") or ""))
        if obj is None:
            return {
                "success": False,
                "errors": [save_error("INVALID_TYPE", "Must send a concrete entity type.")],
            }
        values = {k: v for k, v in record.items() if k not in ("attributes", "id", "Id")}
        if create:
            new_id, errors = self._insert(obj.name, values, call)
            return (
                {"id": new_id, "success": not errors, "errors": errors}
                if new_id
                else {"success": False, "errors": errors}
            )
        record_id = str(record.get("id") or record.get("Id") or "")
        if self.faults.lock_roll():
            self._lock_once(record_id)
        errors = self.store.update(
            obj.name, record_id, values, user=call.user, auto_assign=call.auto_assign, stamp=stamp
        )
        result: dict[str, Any] = {
            "id": normalise(record_id) or record_id,
            "success": not errors,
            "errors": errors,
        }
        if errors and errors[0]["statusCode"] == "MALFORMED_ID":
            result.pop("id")
        return result

    def _lock_once(self, record_id: str) -> None:
        full = normalise(record_id)
        if full:
            self.store.locked[full] = self.store.locked.get(full, 0) + 1

    def composite(self, request: Request, call: Call, *, dispatch: Any) -> Response:
        """`POST composite`: up to 25 subrequests, at most 5 of them collections or queries."""
        body = json_object(request)
        if isinstance(body, Response):
            return body
        subrequests = body.get("compositeRequest")
        if not isinstance(subrequests, list) or not subrequests:
            return api_error(
                400, "JSON_PARSER_ERROR", "compositeRequest: expected a list of subrequests"
            )
        if len(subrequests) > MAX_SUBREQUESTS:
            return api_error(400, "LIMIT_EXCEEDED", "Maximum number of subrequests exceeded: 25")
        heavy = sum(
            1
            for sub in subrequests
            if isinstance(sub, dict)
            and re.search(r"/(composite/sobjects|query|queryAll)(/|\?|$)", str(sub.get("url", "")))
        )
        if heavy > MAX_COLLECTION_OR_QUERY_SUBREQUESTS:
            return api_error(
                400,
                "LIMIT_EXCEEDED",
                "A composite request can contain at most 5 sObject Collections or query "
                "subrequests",
            )
        all_or_none = bool(body.get("allOrNone", False))
        results: list[dict[str, Any]] = []
        outputs: dict[str, Any] = {}
        cut = self.faults.composite_cut()
        with self.store.lock, self.store.transaction() as journal:
            failed = False
            for index, sub in enumerate(subrequests):
                if index == cut:
                    if all_or_none:
                        self.store.rollback(journal)
                    raise DropConnection  # without allOrNone, what was applied stays applied
                reference = str(sub.get("referenceId") or "") if isinstance(sub, dict) else ""
                if failed and all_or_none:
                    results.append(_halted(reference))
                    continue
                response = self._subrequest(sub, call, outputs, dispatch)
                status = response.status
                results.append(
                    {
                        "body": response.body,
                        "httpHeaders": {},
                        "httpStatusCode": status,
                        "referenceId": reference,
                    }
                )
                outputs[reference] = response.body
                if status >= 400:
                    failed = True
            if failed and all_or_none:
                self.store.rollback(journal)
                results = [
                    r if r["httpStatusCode"] >= 400 else _halted(r["referenceId"]) for r in results
                ]
        return Response(200, {"compositeResponse": results})

    def _subrequest(self, sub: Any, call: Call, outputs: dict[str, Any], dispatch: Any) -> Response:
        if (
            not isinstance(sub, dict)
            or not sub.get("url")
            or not sub.get("method")
            or not sub.get("referenceId")
        ):
            return api_error(
                400, "JSON_PARSER_ERROR", "a subrequest needs method, url and referenceId"
            )
        try:
            url = _substitute(str(sub["url"]), outputs)
            payload = (
                json.loads(_substitute(json.dumps(sub.get("body")), outputs))
                if "body" in sub
                else None
            )
        except KeyError as missing:
            return api_error(
                400,
                "INVALID_REFERENCE",
                f"Invalid reference specified. No value for {missing} found.",
            )
        headers = {str(k): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
        parts = urlsplit(url)
        inner = Request(
            method=str(sub["method"]).upper(),
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=json.dumps(payload).encode("utf-8") if payload is not None else b"",
        )
        header = inner.header("Sforce-Auto-Assign")
        # a query subrequest's page size is its own `Sforce-Query-Options` (a header the Query
        # resource supports, so the subrequest may carry it), else the Query resource's default
        options = inner.header("Sforce-Query-Options")
        sub_call = replace(
            call,
            auto_assign=auto_assign_of(header) if header else call.auto_assign,
            batch_size=batch_size_of(options),
        )
        if parts.path.rstrip("/").endswith("/composite"):
            return api_error(400, "INVALID_API_INPUT", "composite requests cannot be nested")
        response: Response = dispatch(inner, sub_call)
        return response


def readable_fields(
    store: Store, obj: SObjectDef, names: list[str], user: str
) -> list[FieldDef] | Response:
    """The fields `names` ask for (any case), or the 400 `INVALID_FIELD` Salesforce answers for
    one that does not exist or that `user` may not read."""
    fields = []
    for field_name in names:
        definition = store.visible_field(obj, field_name, user)
        if definition is None:
            return api_error(
                400, "INVALID_FIELD", f"No such column '{field_name}' on sobject of type {obj.name}"
            )
        fields.append(definition)
    return fields


def record_body(
    name: str, record_id: str, record: dict[str, Any], fields: list[FieldDef], version: str
) -> dict[str, Any]:
    """A record as the REST API returns it: `attributes`, then `fields` under their names."""
    body: dict[str, Any] = {
        "attributes": {
            "type": name,
            "url": f"/services/data/v{version}/sobjects/{name}/{record_id}",
        }
    }
    for definition in fields:
        body[definition.name] = render_value(definition.type, record.get(definition.name))
    return body


def _halted(reference: str) -> dict[str, Any]:
    return {
        "body": [
            {
                "errorCode": "PROCESSING_HALTED",
                "message": "The transaction was rolled back since another operation in the same "
                "transaction failed.",
            }
        ],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }


def _substitute(text: str, outputs: dict[str, Any]) -> str:
    """Replace `@{ref.path}` references with values from earlier subrequest bodies."""

    def value(match: re.Match[str]) -> str:
        current: Any = outputs[match.group(1)]
        for part in re.findall(r"[A-Za-z0-9_]+", match.group(2)):
            current = current[int(part)] if isinstance(current, list) else current[part]
        return str(current)

    return _REFERENCE.sub(value, text)


def _as_api_error(error: SaveError) -> dict[str, Any]:
    return {
        "message": error["message"],
        "errorCode": error["statusCode"],
        "fields": error["fields"],
    }


def json_object(request: Request) -> dict[str, Any] | Response:
    """The request body as a JSON object, or the 400 Salesforce answers for anything else."""
    try:
        body = request.json()
    except (ValueError, UnicodeDecodeError) as error:
        return api_error(400, "JSON_PARSER_ERROR", f"Unexpected character in request body: {error}")
    if not isinstance(body, dict):
        return api_error(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object"
        )
    return body
