"""Associations v4 batch reads and batch reads of the associated records, at the API's sizes.

* `read_associations(api, from_type, to_type, ids)`:
  `POST /crm/v4/associations/{from}/{to}/batch/read` with up to `ASSOCIATION_BATCH` (1,000) ids a
  call (HubSpot changelog "Bug Fix: Batch Read Limit for HubSpot Associations API", 2025). Each
  result lists one record's links and, when it has more, its own `paging.next.after`; the id is
  sent again with that `after` (`PublicFetchAssociationsBatchRequest {id, after}` in the OpenAPI
  spec) in a later call, packed with other ids still to read. A 207 whose errors are
  `crm.associations.NO_ASSOCIATIONS_FOUND` means those records have no links; any other error of
  a 207 raises `PermanentError` naming it.
* `read_records(api, object_type, ids, properties)`: `POST /crm/v3/objects/{type}/batch/read`
  with `BATCH_READ` (100) ids a call; ids HubSpot no longer has are left out.

Both directions work (contact -> company, company -> contact, contact -> meeting ...); nothing
here knows what the links are used for.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from connectors.errors import PermanentError, TransientError
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.reading import batch_read_page

__all__ = [
    "ASSOCIATION_BATCH",
    "BATCH_READ",
    "NO_ASSOCIATIONS",
    "PRIMARY_COMPANY_TYPE",
    "Link",
    "check_associations",
    "primary",
    "read_associations",
    "read_records",
]

ASSOCIATION_BATCH = 1000
BATCH_READ = 100
NO_ASSOCIATIONS = "crm.associations.NO_ASSOCIATIONS_FOUND"
#: HubSpot-defined association type id "contact with primary company".
PRIMARY_COMPANY_TYPE = 1


@dataclass(frozen=True, slots=True)
class Link:
    """One associated record: its id and the association type ids that link it."""

    to_id: str
    type_ids: frozenset[int]


def check_associations(data: Any) -> None:
    """Raise `TransientError` (retried) unless `data` is an associations batch reply."""
    results = data.get("results") if isinstance(data, dict) else None
    if isinstance(results, list):
        # exact types (orjson makes nothing else), checked the cheap way: one per contact
        for result in results:
            if result.__class__ is not dict or result.get("from").__class__ is not dict:
                break
        else:
            return
    raise TransientError("HubSpot associations reply has no results list (malformed payload)")


def _batches(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for record_id in ids:
        batch.append(record_id)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _failures(data: Mapping[str, Any], from_type: str, to_type: str) -> None:
    for error in data.get("errors") or []:
        if not isinstance(error, dict) or error.get("subCategory") == NO_ASSOCIATIONS:
            continue
        ids = ", ".join((error.get("context") or {}).get("fromObjectId") or []) or "?"
        raise PermanentError(
            f"HubSpot associations {from_type} -> {to_type} refused {ids}: "
            f"{error.get('category')} {error.get('message') or ''}".rstrip()
        )


def _type_ids(
    item: Mapping[str, Any], seen: dict[tuple[object, ...], frozenset[int]]
) -> frozenset[int]:
    """The association type ids of one link; `seen` keeps one set per distinct list of type ids
    (a reply repeats the same few lists on every link: built once, shared)."""
    kinds = item.get("associationTypes") or ()
    key = tuple([t.get("typeId") if isinstance(t, dict) else None for t in kinds])
    types = seen.get(key)
    if types is None:
        types = seen[key] = frozenset(i for i in key if isinstance(i, int))
    return types


def read_associations(
    api: HubSpotApi, from_type: str, to_type: str, ids: Collection[str]
) -> dict[str, list[Link]]:
    """Every link from each of `ids` to `to_type` records, in HubSpot's order; absent = none.

    Calls: `ceil(len(ids) / 1000)`, plus one per 1,000 further pages of records with more links
    than one result holds.
    """
    links: dict[str, list[Link]] = {}
    seen_types: dict[tuple[object, ...], frozenset[int]] = {}
    pending: list[dict[str, str]] = [{"id": str(i)} for i in dict.fromkeys(ids)]
    while pending:
        more: list[dict[str, str]] = []
        for start in range(0, len(pending), ASSOCIATION_BATCH):
            inputs = pending[start : start + ASSOCIATION_BATCH]
            data = api.call(
                "associations.batch_read",
                api.post_json,
                f"/crm/v4/associations/{quote(from_type, safe='')}/{quote(to_type, safe='')}"
                "/batch/read",
                orjson.dumps({"inputs": inputs}),
                exempt=True,
                check=check_associations,
            ).data
            _failures(data, from_type, to_type)
            for result in data["results"]:
                source = str(result["from"].get("id"))
                found = links.setdefault(source, [])
                for item in result.get("to") or []:
                    found.append(Link(str(item.get("toObjectId")), _type_ids(item, seen_types)))
                paging = result.get("paging")
                after = ((paging or {}).get("next") or {}).get("after")
                if after:
                    more.append({"id": source, "after": str(after)})
        pending = more
    return links


def primary(links: Sequence[Link], type_id: int = PRIMARY_COMPANY_TYPE) -> str | None:
    """The id of the link marked with `type_id` (the primary company), else of the first link."""
    for link in links:
        if type_id in link.type_ids:
            return link.to_id
    return links[0].to_id if links else None


def read_records(
    api: HubSpotApi, object_type: str, ids: Collection[str], properties: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Properties of each of `ids` by id, `BATCH_READ` a call; unknown ids are absent."""
    found: dict[str, dict[str, Any]] = {}
    for chunk in _batches(dict.fromkeys(ids), BATCH_READ):
        for item in batch_read_page(api, object_type, chunk, properties):
            found[str(item["id"])] = item.get("properties") or {}
    return found
