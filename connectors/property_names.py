"""The property names a CRM has for a kind of record, for checking models against them.

A model naming a property the CRM does not have never fires: HubSpot ignores unknown names in a
read, so every record reads "no data" there. `validate --config`, `backtest --config` and
`calibrate --config` ask a connector that is a `PropertyLister` for the names and report the
model's unknown ones (with a suggestion) before reading any record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class PropertyNames:
    """The names of one record kind's properties; `case_sensitive` False where the CRM
    matches names in any case (Salesforce); `relationships` the names a dotted property may
    start with (Salesforce's relationship names, `Owner` in `Owner.Name`; none on HubSpot,
    whose only dotted names are `company.<property>`); `max_relationships` the most parent
    relationships a dotted name may climb (None: no limit the CRM states)."""

    kind: str
    names: frozenset[str]
    case_sensitive: bool
    relationships: frozenset[str] = frozenset()
    max_relationships: int | None = None


@runtime_checkable
class PropertyLister(Protocol):
    """A connector that can list the properties of a record kind."""

    def property_names(self, kind: str) -> PropertyNames:
        """The properties of `kind` the integration can read (one schema call)."""
        ...
