"""Property history from HubSpot batch reads (`propertiesWithHistory`), for backtests.

`POST /crm/v3/objects/{type}/batch/read` with `propertiesWithHistory` returns, per record, the
past values of each named property (`ValueWithTimestamp`: `value`, `timestamp`, `sourceType`,
...; the SDK's `SimplePublicObjectWithAssociations.properties_with_history`). With history the
endpoint takes at most `HISTORY_BATCH` (50) inputs a call instead of 100; more are refused with
"The maximum number of inputs supported in a batch request for property histories is 50".

HubSpot keeps the history of every property, but a property a record never had a value for
has none; a property without a single change in any record read counts as untracked, as on
Salesforce (`connectors.history`). Values are kept as HubSpot sends them (strings; "" when the
value was cleared), oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.history import PropertyHistories
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.enrichment import COMPANY_PREFIX
from connectors.hubspot.reading import batch_read_page
from connectors.hubspot.values import parse_time

#: Most records a batch read returns history for in one call.
HISTORY_BATCH = 50


def changes_of(entries: Sequence[Mapping[str, Any]]) -> list[tuple[datetime, object]]:
    """One property's `ValueWithTimestamp` list as (when set, value) pairs, oldest first.

    HubSpot lists the newest value first; reversing before the (stable) sort keeps that order
    for two changes stamped with the same millisecond."""
    dated = []
    for entry in reversed(entries):
        at = parse_time(entry.get("timestamp"))
        if at is not None:
            dated.append((at, entry.get("value")))
    dated.sort(key=lambda change: change[0])
    return dated


def read_history(
    api: HubSpotApi, object_type: str, ids: Sequence[str], properties: Sequence[str]
) -> PropertyHistories:
    """The history of `properties` for the records `ids` of `object_type`, 50 records a call.

    Properties read from a contact's company (`company.<name>`) are not the contact's own, so
    they are never asked for and count as untracked."""
    names = [p for p in dict.fromkeys(properties) if not p.startswith(COMPANY_PREFIX)]
    values: dict[str, dict[str, list[tuple[datetime, object]]]] = {}
    tracked: set[str] = set()
    if not names:
        return PropertyHistories(values, frozenset())
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), HISTORY_BATCH):
        chunk = unique[start : start + HISTORY_BATCH]
        for item in batch_read_page(api, object_type, chunk, ["hs_object_id"], with_history=names):
            per_property = {}
            for name, entries in (item.get("propertiesWithHistory") or {}).items():
                changes = changes_of(entries or ())
                if changes:
                    per_property[name] = changes
                    tracked.add(name)
            if per_property:
                values[str(item["id"])] = per_property
    return PropertyHistories(values, frozenset(tracked))
