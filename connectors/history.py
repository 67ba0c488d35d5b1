"""Property history: the values a record's properties had over time, where the CRM keeps them.

Backtests score each record as it was before its outcome (`revops.point_in_time`), so they ask
a connector that can for the history of the model's properties:

- HubSpot keeps every property's history; batch reads return it for the names listed in
  `propertiesWithHistory` (at most 50 records per call then, instead of 100).
- Salesforce keeps history only for fields with field history tracking on, in the object's
  history object (`LeadHistory`: `LeadId`, `Field`, `OldValue`, `NewValue`, `CreatedDate`;
  `ContactHistory` and `AccountHistory` alike).

`tracked` names the properties whose history was available; for the others the caller keeps the
current value and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

#: Per record id, per property, its changes oldest first: (when set, value set).
HistoryValues = Mapping[str, Mapping[str, Sequence[tuple[datetime, object]]]]


@dataclass(frozen=True, slots=True)
class PropertyHistories:
    """The history read for some records and the properties it covers."""

    values: HistoryValues
    tracked: frozenset[str]


@runtime_checkable
class HistoryReader(Protocol):
    """A connector that can read property history."""

    def property_history(
        self, kind: str, ids: Sequence[str], properties: Sequence[str]
    ) -> PropertyHistories:
        """The history of `properties` for the records `ids` of `kind`."""
        ...
