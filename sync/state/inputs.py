"""The model inputs kept beside each latest score, so a candidate model can be previewed on the
stored population without reading the CRM (`leadsync preview --from-state`).

A snapshot holds only what the live model reads: the properties it references that the record
has (and the connector's engagement gates, `connectors.engagement_gates`, which tell the next
read whether the stored events still hold), and the events of the types its rules use, as
compact JSON `{"p": {property: value}, "e": [[type, iso_time, {attributes}], ...]}` (`"e"` only
for models with event rules). Keys are written in a fixed order, so the same inputs always give
the same text and the engine can tell an unchanged snapshot by comparing strings instead of
writing it again.

Size, measured on 500 sandbox contacts with the bundled example models (10 properties each):
`hubspot-professional.yaml` (no events) about 310 bytes per record, less than the stored result
(about 740); `hubspot-contacts.yaml` (page views, forms, clicks, meetings) about 1.5 KB on
average and up to about 38 KB for the most active records, since every event of a used type is
kept with its attributes. So the scores table roughly doubles; 100,000 contacts with event rules
add about 150 MB.

Long text is cut to `MAX_STORED_CHARS` characters (a 1 MB CRM value is not copied whole into the
state database; a preview from state sees the first characters of such a value, and a snapshot
that differs only past them counts as unchanged).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from scoring.types import Event, Record
from sync.state.records import dumps

#: Text values longer than this are stored cut to this many characters.
MAX_STORED_CHARS = 4096


def _short(value: object) -> object:
    if type(value) is str and len(value) > MAX_STORED_CHARS:
        return value[:MAX_STORED_CHARS]
    return value


def _short_attributes(attributes: Mapping[str, object]) -> Mapping[str, object]:
    for value in attributes.values():
        if type(value) is str and len(value) > MAX_STORED_CHARS:
            return {k: _short(v) for k, v in attributes.items()}
    return attributes


class InputsEncoder:
    """Encodes the part of a record one model reads (build once per run, not per record)."""

    __slots__ = ("event_types", "properties")

    def __init__(self, properties: Iterable[str], event_types: Iterable[str]) -> None:
        self.properties = tuple(sorted(properties))
        self.event_types = frozenset(event_types)

    def encode(self, record: Record) -> str:
        """The snapshot text of `record`."""
        text = self._encode(record, cut=False)
        # A text this short holds no value longer than it: nothing to cut (the common case).
        return text if len(text) <= MAX_STORED_CHARS else self._encode(record, cut=True)

    def _encode(self, record: Record, *, cut: bool) -> str:
        props = record.properties
        if cut:
            own = {k: _short(props[k]) for k in self.properties if k in props}
        else:
            own = {k: props[k] for k in self.properties if k in props}
        data: dict[str, object] = {"p": own}
        if self.event_types:
            types = self.event_types
            data["e"] = [
                [e.type, e.at.isoformat(), _short_attributes(e.attributes) if cut else e.attributes]
                for e in record.events
                if e.type in types
            ]
        return dumps(data)


def decode_inputs(record_id: str, kind: str, text: str) -> Record:
    """The record a snapshot was taken of, as far as the model that took it reads it."""
    data = json.loads(text)
    events = tuple(
        Event(str(etype), datetime.fromisoformat(at), attributes)
        for etype, at, attributes in data.get("e", ())
    )
    return Record(record_id, kind, data["p"], events)
