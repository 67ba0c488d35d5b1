"""Where a SOQL relationship path leads, from the describes of the objects it climbs.

A model may read a related record's field through a child-to-parent path (`Owner.Name` on a
Lead, `Account.Owner.Email` on a Contact). Each step is a reference field's `relationshipName`;
its `referenceTo` names the parent object, whose describe lists the fields the next step may
name. A polymorphic relationship (a Lead's `Owner`: a User or a Group (queue); `Who`, `What`)
leads to the `Name` object: SOQL without TYPEOF reads only its fields there, whatever the
record's real type (the Name object reference, "Understanding Relationship Fields and
Polymorphic Fields").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.property_names import RelatedNames
from connectors.salesforce.reader import Reader

#: The fields of Salesforce's `Name` object, what a path may read past a polymorphic
#: relationship (Salesforce Field Reference, "Name").
NAME_FIELDS = frozenset(
    {
        "Alias",
        "Email",
        "FirstName",
        "Id",
        "IsActive",
        "LastName",
        "LastReferencedDate",
        "LastViewedDate",
        "Name",
        "NameOrAlias",
        "Phone",
        "ProfileId",
        "RecordTypeId",
        "Title",
        "Type",
        "UserRoleId",
        "Username",
    }
)


def related_names(reader: Reader, sobject: str, path: Sequence[str]) -> RelatedNames | None:
    """What `path` leads to from `sobject` (one describe per object climbed, cached by the
    reader), or None when a step is no relationship of the object before it. Past a
    polymorphic step nothing more is known (`relationships` None)."""
    fields = reader.visible_fields(sobject)
    found = RelatedNames(sobject, _names(fields), _relationships(fields))
    for step in path:
        if found.relationships is None:
            return found
        reference = _reference(fields, step)
        if reference is None:
            return None
        targets = [str(t) for t in reference.get("referenceTo") or []]
        if len(targets) != 1 or reference.get("polymorphicForeignKey"):
            found = RelatedNames(" or ".join(targets), NAME_FIELDS, None, polymorphic=True)
            continue
        fields = reader.visible_fields(targets[0])
        found = RelatedNames(targets[0], _names(fields), _relationships(fields))
    return found


def _names(fields: dict[str, dict[str, Any]]) -> frozenset[str]:
    return frozenset(str(f["name"]) for f in fields.values())


def _relationships(fields: dict[str, dict[str, Any]]) -> frozenset[str]:
    return frozenset(
        str(f["relationshipName"]) for f in fields.values() if f.get("relationshipName")
    )


def _reference(fields: dict[str, dict[str, Any]], step: str) -> dict[str, Any] | None:
    lower = step.lower()
    return next(
        (f for f in fields.values() if str(f.get("relationshipName") or "").lower() == lower),
        None,
    )
