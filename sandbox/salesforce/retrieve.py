"""sObject Collections retrieve: `POST composite/sobjects/{SObject}` and its `GET` form.

`POST` takes `{"ids": [...], "fields": [...]}` (up to 2,000 ids), `GET` the same as `?ids=a,b`
and `&fields=x,y`. The answer is a list with one entry per id, in order: the record with
`attributes` and the fields asked (matched case-insensitively, answered under their own names),
or `null` for an id that is malformed, of another object, unknown or deleted. A field that does
not exist or that the user may not read refuses the whole request with 400 `INVALID_FIELD`.
"""

from __future__ import annotations

from typing import Any

from sandbox.httpserver import Request, Response
from sandbox.salesforce.ids import normalise, object_of
from sandbox.salesforce.rest import Call, api_error, json_object, readable_fields, record_body
from sandbox.salesforce.store import Store

MAX_RETRIEVE_IDS = 2000


def retrieve(store: Store, request: Request, call: Call, *, name: str) -> Response:
    """Records of one object by id with the fields asked (`null` for ids not found)."""
    obj = store.sobject(name)
    if obj is None:
        return api_error(404, "NOT_FOUND", "The requested resource does not exist")
    asked = _arguments(request)
    if isinstance(asked, Response):
        return asked
    ids, names = asked
    if len(ids) > MAX_RETRIEVE_IDS:
        return api_error(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_RETRIEVE_IDS} records into "
            "this call",
        )
    with store.lock:
        fields = readable_fields(store, obj, names, call.user)
        if isinstance(fields, Response):
            return fields
        table = store.table(obj.name)
        answer: list[dict[str, Any] | None] = []
        for record_id in ids:
            full = normalise(record_id)
            record = table.get(full) if full and object_of(full) == obj.name else None
            if record is None or record.get("IsDeleted"):
                answer.append(None)
            else:
                answer.append(record_body(obj.name, full or "", record, fields, call.version))
    return Response(200, answer)


def _arguments(request: Request) -> tuple[list[str], list[str]] | Response:
    """(ids, field names) from a POST body or the GET query string."""
    ids: Any
    names: Any
    if request.method == "GET":
        ids = _split(request.query.get("ids"))
        names = _split(request.query.get("fields"))
    else:
        body = json_object(request)
        if isinstance(body, Response):
            return body
        ids, names = body.get("ids"), body.get("fields")
    for label, values in (("ids", ids), ("fields", names)):
        if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
            return api_error(
                400, "JSON_PARSER_ERROR", f"{label}: expected a list of one or more strings"
            )
    return ids, names


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for v in values or [] for part in v.split(",") if part.strip()]
