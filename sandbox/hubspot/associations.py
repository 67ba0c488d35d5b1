"""Associations v4 batch read: `POST /crm/v4/associations/{from}/{to}/batch/read`.

https://developers.hubspot.com/docs/api/crm/associations/v4: up to 1,000 inputs
`{"id": "..."}`; each result is `{"from": {"id"}, "to": [{"toObjectId": <number>,
"associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId", "label"}]}]}`. Inputs without
associations are reported in `errors[]` with a 207 and subCategory
`crm.associations.NO_ASSOCIATIONS_FOUND`. A record with more than `PAGE_SIZE` links gets a
`paging.next.after` on its own result; sending `{"id", "after"}` returns the next links (the
OpenAPI spec's `PublicFetchAssociationsBatchRequest`; the page size is assumed from v3's 100).
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.httpserver import Request, Response
from sandbox.hubspot import errors
from sandbox.hubspot.crm import batch_response, object_type, parse_json, read_scope
from sandbox.hubspot.store import ASSOCIATION_TYPES, Store

BATCH_MAX = 1000
PAGE_SIZE = 100


def scopes(params: dict[str, str]) -> list[str]:
    """Reading associations needs read access to both sides."""
    kinds = [object_type(params["from"]) or "", object_type(params["to"]) or ""]
    return sorted({read_scope(kind) for kind in kinds})


class AssociationsApi:
    """Batch reads of association links."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def batch_read(self, request: Request) -> Response:
        """The associated ids and type ids of up to 1,000 records."""
        started = int(time.time() * 1000)
        source = object_type(request.params["from"])
        target = object_type(request.params["to"])
        if source is None or target is None or (source, target) not in ASSOCIATION_TYPES:
            return errors.validation(
                f"Unknown association: {request.params['from']} to {request.params['to']}"
            )
        body, problem = parse_json(request)
        if problem:
            return problem
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not all(
            isinstance(i, dict) and "id" in i for i in inputs
        ):
            return errors.validation("inputs must be a list of {id}")
        if len(inputs) > BATCH_MAX:
            return errors.validation(
                f"Batch input size exceeded: {len(inputs)} inputs, the maximum is {BATCH_MAX}"
            )
        unlabeled, primary = ASSOCIATION_TYPES[(source, target)]
        results: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        table = self.store.table(source)
        to_singular = self.store.table(target).singular
        with self.store.lock:
            for item in inputs:
                id_text = str(item["id"])
                linked = (
                    self.store.associated(source, int(id_text), target) if id_text.isdigit() else []
                )
                if not linked or int(id_text) not in table.rows:
                    failures.append(_no_associations(id_text, table.singular, to_singular))
                    continue
                offset = _offset(item.get("after"))
                if offset is None:
                    return errors.validation(f"Invalid after token for {id_text}")
                to = []
                for index, other in enumerate(linked[offset : offset + PAGE_SIZE], start=offset):
                    types = []
                    if index == 0 and primary is not None:
                        types.append(
                            {"category": "HUBSPOT_DEFINED", "typeId": primary, "label": "Primary"}
                        )
                    types.append(
                        {"category": "HUBSPOT_DEFINED", "typeId": unlabeled, "label": None}
                    )
                    to.append({"toObjectId": other, "associationTypes": types})
                result: dict[str, Any] = {"from": {"id": id_text}, "to": to}
                if offset + PAGE_SIZE < len(linked):
                    token = str(offset + PAGE_SIZE)
                    result["paging"] = {"next": {"after": token}}
                results.append(result)
        return batch_response(results, failures, started)


def _no_associations(id_text: str, singular: str, to_singular: str) -> dict[str, Any]:
    """One input without links, as HubSpot reports it in a 207's `errors[]`."""
    source, target = singular.lower(), to_singular.lower()
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No {target} is associated with {source} {id_text}.",
        "context": {
            "fromObjectId": [id_text],
            "fromObjectType": [source],
            "toObjectType": [target],
        },
    }


def _offset(after: object) -> int | None:
    if after is None:
        return 0
    text = str(after)
    return int(text) if text.isdigit() else None
