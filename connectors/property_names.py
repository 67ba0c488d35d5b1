"""The property names a CRM has for a kind of record, for checking models against them.

A model naming a property the CRM does not have never fires: HubSpot ignores unknown names in a
read, so every record reads "no data" there. `validate --config`, `backtest --config` and
`calibrate --config` ask a connector that is a `PropertyLister` for the names and report the
model's unknown ones (with a suggestion) before reading any record.

Salesforce models may also name fields of related records through relationship paths
(`Owner.Name`, `Account.Owner.Email`); a `RelationshipWalker` says what each step leads to, so
the field at the end of a path is checked against the related object's fields too.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class RelatedNames:
    """What a relationship path leads to: `target` the object (`User`; `User or Group` for a
    polymorphic relationship), `names` the fields a path may end with there, `relationships`
    the relationship names it may climb on (None: the CRM's describe cannot tell, so a longer
    path is left to the read), `polymorphic` whether the last step may lead to several
    objects."""

    target: str
    names: frozenset[str]
    relationships: frozenset[str] | None
    polymorphic: bool = False


@runtime_checkable
class RelationshipWalker(Protocol):
    """A connector that can follow a record kind's relationships (Salesforce's describe)."""

    def related_names(self, kind: str, path: Sequence[str]) -> RelatedNames | None:
        """What the relationship path `path` (`("Account", "Owner")`) leads to from `kind`, or
        None when its last step is no relationship of the object before it."""
        ...
