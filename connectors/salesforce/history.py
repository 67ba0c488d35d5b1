"""Field history of leads, contacts and Accounts, for point-in-time backtests.

Salesforce keeps a field's changes only while field history tracking is on for it (at most 20
fields an object), in the object's history object (`LeadHistory`, `ContactHistory`,
`AccountHistory`: `<Object>Id`, `Field` (the field's API name: `Type`, `Custom__c`), `OldValue`,
`NewValue`, `CreatedDate`). One SOQL query walks the rows of the model's fields (2,000 a page),
so the history of a whole backtest costs `ceil(rows / 2000)` calls. A field with no row was not
tracked, or never changed: its current value is the only one known, and it is left out of
`tracked` so the report says so.

Changes are returned oldest first; the value before the first change (`OldValue` of the first
row) is dated at the start of time, so the value at any earlier cutoff is known.

A change of a lookup field (a Contact's `AccountId`) adds two rows: one with the names the
screens show, one with the record ids, "only returned to and visible from the API"
(EntityHistory's documentation). Only the id rows are kept for such a field, so its history holds
ids as the field does. A standard lookup's rows may name the relationship rather than the field
(`Account` for `AccountId`; assumed, the object reference does not list the picklist's values):
both names are asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.errors import PermanentError
from connectors.history import PropertyHistories
from connectors.salesforce.activity import parse_datetime
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.queries import quote

#: Per object kind, its history object and the field naming the record.
HISTORY_OBJECTS = {
    "lead": ("LeadHistory", "LeadId"),
    "contact": ("ContactHistory", "ContactId"),
    "account": ("AccountHistory", "AccountId"),
}
_BEGINNING = datetime.min.replace(tzinfo=UTC)
#: A record id as the API returns it (15 characters, or 18 with the case-safe suffix).
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def _field_values(fields: Sequence[str]) -> dict[str, str]:
    """The `Field` values whose rows hold `fields`' changes -> the field: each field, and for a
    lookup (`AccountId`) its relationship name too (`Account`)."""
    names = {field: field for field in fields}
    for field in fields:
        if _is_lookup(field):
            names.setdefault(field[:-2], field)
    return names


def _is_lookup(field: str) -> bool:
    return len(field) > 2 and field.endswith("Id")


def _ids_only(row: dict[str, Any]) -> bool:
    return all(
        value is None or (isinstance(value, str) and _RECORD_ID.fullmatch(value) is not None)
        for value in (row.get("OldValue"), row.get("NewValue"))
    )


def history_query(kind: str, fields: Sequence[str]) -> str:
    """The SOQL reading every change of `fields` for records of `kind`."""
    sobject, parent = HISTORY_OBJECTS[kind]
    names = ", ".join(quote(f) for f in sorted(_field_values(fields)))
    return (
        f"SELECT {parent}, Field, OldValue, NewValue, CreatedDate FROM {sobject} "
        f"WHERE Field IN ({names}) ORDER BY {parent}, CreatedDate"
    )


def _rows(api: SalesforceApi, soql: str, batch_size: int) -> Iterator[dict[str, Any]]:
    result = api.query(soql, batch_size=batch_size)
    seen: set[str] = set()
    while True:
        yield from result.get("records") or []
        next_url = result.get("nextRecordsUrl")
        if result.get("done", True) or not next_url:
            return
        if next_url in seen:
            raise PermanentError(f"Salesforce repeated the query page {next_url}; stopping")
        seen.add(next_url)
        result = api.query_more(next_url, batch_size=batch_size)


def read_history(
    api: SalesforceApi, kind: str, ids: Sequence[str], fields: Sequence[str], batch_size: int
) -> PropertyHistories:
    """The tracked history of `fields` for the records `ids` of `kind`.

    Kinds without a history object, or no fields, give an empty result (nothing tracked).
    """
    if kind not in HISTORY_OBJECTS or not fields:
        return PropertyHistories({}, frozenset())
    _, parent = HISTORY_OBJECTS[kind]
    wanted = set(ids)
    by_name = {value.lower(): field for value, field in _field_values(fields).items()}
    kept: list[tuple[str, str, datetime, dict[str, Any]]] = []
    # of the two rows of one lookup change, the ids' row: where each change's row is in `kept`
    lookup_change: dict[tuple[str, str, datetime], int] = {}
    tracked: set[str] = set()
    for row in _rows(api, history_query(kind, fields), batch_size):
        name = by_name.get(str(row.get("Field") or "").lower())
        at = parse_datetime(row.get("CreatedDate"))
        if name is None or at is None:
            continue
        tracked.add(name)
        record_id = str(row.get(parent))
        if record_id not in wanted:
            continue
        if _is_lookup(name):
            index = lookup_change.get((record_id, name, at))
            if index is not None:
                if _ids_only(row):
                    kept[index] = (record_id, name, at, row)
                continue
            lookup_change[(record_id, name, at)] = len(kept)
        kept.append((record_id, name, at, row))
    values: dict[str, dict[str, list[tuple[datetime, object]]]] = {}
    for record_id, name, at, row in kept:
        changes = values.setdefault(record_id, {}).setdefault(name, [])
        if not changes:
            changes.append((_BEGINNING, row.get("OldValue")))
        changes.append((at, row.get("NewValue")))
    return PropertyHistories(values, frozenset(tracked))
