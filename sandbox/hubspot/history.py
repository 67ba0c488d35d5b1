"""Property history for batch reads with `propertiesWithHistory`.

`POST /crm/v3/objects/{object}/batch/read` may name properties in `propertiesWithHistory`; each
result then carries `propertiesWithHistory: {name: [ValueWithTimestamp, ...]}` (`value`,
`timestamp`, `sourceType`, `sourceId`; newest first), and the call takes at most
`HISTORY_BATCH_MAX` (50) inputs. Unknown names are ignored, as HubSpot ignores them.

The sandbox keeps no row per change of its generated data, so it dates generated values by
what the generator did:

- `lifecyclestage`: one change per stage up to the current one whose
  `hs_lifecyclestage_<stage>_date` is set, at that date (a converted contact: `lead` at creation,
  `customer` at the conversion), and the current stage at creation when its date is not set;
- `hs_lead_status` `OPEN_DEAL` of a customer: at the customer date (the conversion set it);
- every other generated value: at the record's creation.

Values changed after generation (API writes, `activity.mutate`) are recorded by
`Table.record_change` with their time and source; the generated value they replaced keeps its
dating above.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.hubspot.schema import LIFECYCLE_STAGES
from sandbox.hubspot.store import Row, Table
from sandbox.hubspot.values import iso_ms

#: Most inputs of a batch read that asks for property history.
HISTORY_BATCH_MAX = 50
#: HubSpot's refusal of a larger batch read with history.
TOO_MANY = (
    "The maximum number of inputs supported in a batch request for property histories is 50. "
    "Please reduce the number of items and try again."
)
#: Lifecycle stages in HubSpot's order (`other` stands outside the ladder).
STAGES = LIFECYCLE_STAGES[: LIFECYCLE_STAGES.index("other")]
GENERATED = "IMPORT"

Change = tuple[int, Any, str]


def _generated(table: Table, row: Row, name: str, value: Any) -> list[Change]:
    """When the generator set `value` of `name`, as (epoch ms, value, source) oldest first."""
    if name == "lifecyclestage" and value in STAGES:
        reached = STAGES[: STAGES.index(value) + 1]
        dated = [
            (at, stage, GENERATED)
            for stage in reached
            if isinstance(at := table.raw(row, f"hs_lifecyclestage_{stage}_date"), int)
        ]
        if not dated or dated[-1][1] != value:
            dated.append((max([row.created, *(d[0] for d in dated)]), value, GENERATED))
        return sorted(dated, key=lambda change: change[0])
    if name == "hs_lead_status" and value == "OPEN_DEAL":
        converted = table.raw(row, "hs_lifecyclestage_customer_date")
        if isinstance(converted, int):
            return [(converted, value, GENERATED)]
    return [(row.created, value, GENERATED)]


def changes(table: Table, row: Row, name: str) -> list[Change]:
    """Every value `name` had on `row`, oldest first."""
    recorded = [c for c in table.changes.get(row.id, ()) if c[1] == name]
    if not recorded:
        value = table.raw(row, name)
        return [] if value is None else _generated(table, row, name, value)
    out: list[Change] = []
    for at, _, value, source in recorded:
        if at is None:
            out.extend(_generated(table, row, name, value))
        else:
            out.append((at, value, source))
    return out


def render(table: Table, row: Row, names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """`propertiesWithHistory` of one record: per known name, its values newest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        if name not in table.props:
            continue
        entries = []
        for at, value, source in reversed(changes(table, row, name)):
            entry: dict[str, Any] = {
                "value": "" if value is None else table.format(name, value),
                "timestamp": iso_ms(at),
                "sourceType": source,
            }
            if source == "INTEGRATION":
                entry["sourceId"] = "sandbox-private-app"
            entries.append(entry)
        out[name] = entries
    return out
