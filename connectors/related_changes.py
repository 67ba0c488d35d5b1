"""The people a related record's change (a HubSpot company's, a Salesforce Account's) must send
to scoring again: those whose stored scoring did not see the related record's current values.

Both connectors find the people of the changed companies or Accounts by id first, then ask the
engine for the inputs the current model last scored them with (`ReadHints.stored`), a chunk of
ids at a time, and read again only the people whose snapshot misses one of those values (or who
have none): a change to something the model does not read reads and scores no one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from scoring.types import Record

__all__ = ["STORED_CHUNK", "Stored", "holds", "not_holding"]

#: People whose stored inputs are asked for at a time (one query of their ids).
STORED_CHUNK = 1000
#: `ReadHints.stored`: record ids in, the inputs the current model last scored them with out.
Stored = Callable[[Sequence[str]], Mapping[str, Record]]
#: What a snapshot without a property holds: never equal to a related record's value, None
#: included.
_ABSENT = object()


def not_holding(
    people: Sequence[str], stored: Stored, holds: Callable[[str, Record], bool]
) -> list[str]:
    """`people` in order, except those whose stored inputs `holds(person, snapshot)` accepts."""
    kept: list[str] = []
    for start in range(0, len(people), STORED_CHUNK):
        chunk = people[start : start + STORED_CHUNK]
        snapshots = stored(chunk)
        for person in chunk:
            snapshot = snapshots.get(person)
            if snapshot is None or not holds(person, snapshot):
                kept.append(person)
    return kept


def holds(snapshot: Record, expected: Iterable[tuple[str, object]]) -> bool:
    """Whether `snapshot` (a person's stored inputs) holds every `(property, value)` of
    `expected`: values as the CRM sent them, compared as they are; a property the snapshot
    lacks holds nothing."""
    values = snapshot.properties
    return all(values.get(name, _ABSENT) == value for name, value in expected)
