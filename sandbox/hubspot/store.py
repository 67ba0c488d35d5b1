"""The sandbox's in-memory CRM: object tables, property schemas, associations and ground truth.

Rows keep values in a list aligned with the table's columns (no per-record dict), datetimes as
epoch milliseconds, and the record id, create and modify times as row fields. Each table keeps
its ids in ascending order (the list endpoint pages by id) and a `(modified, id)` index kept
sorted on every write, so searches on the modification date bisect instead of scanning.
Everything here is guarded by `Store.lock`; callers hold it while they read or write.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sandbox.hubspot.schema import (
    CREATED_PROPERTY,
    DEFAULT_GROUPS,
    DEFAULT_PROPERTIES,
    MODIFIED_PROPERTY,
    OBJECT_TYPES,
    PropertyDef,
)
from sandbox.hubspot.values import iso_ms, number_text, parse_datetime_ms, parse_number

#: HubSpot-defined association type ids (https://developers.hubspot.com/docs/api/crm/associations/v4,
#: "Association type ID values"): (from, to) -> (unlabeled type id, primary type id or None).
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[int, int | None]] = {
    ("contacts", "companies"): (279, 1),
    ("companies", "contacts"): (280, 2),
    ("companies", "deals"): (342, 6),
    ("deals", "companies"): (341, 5),
    ("contacts", "meetings"): (199, None),
    ("meetings", "contacts"): (200, None),
    ("contacts", "calls"): (193, None),
    ("calls", "contacts"): (194, None),
}
#: v3 association type names shown by `?associations=` on the objects endpoints.
ASSOCIATION_NAMES: dict[tuple[str, str], str] = {
    ("contacts", "companies"): "contact_to_company",
    ("companies", "contacts"): "company_to_contact",
    ("companies", "deals"): "company_to_deal",
    ("deals", "companies"): "deal_to_company",
    ("contacts", "meetings"): "contact_to_meeting_event",
    ("meetings", "contacts"): "meeting_event_to_contact",
    ("contacts", "calls"): "contact_to_call",
    ("calls", "contacts"): "call_to_contact",
}


def _nothing(values: list[Any]) -> tuple[Any, ...]:
    return ()


class Row:
    """One record: id, create/modify time (epoch ms), archived flag and column values."""

    __slots__ = ("archived", "created", "id", "updated", "values")

    def __init__(self, id_: int, created: int, updated: int, values: list[Any]) -> None:
        self.id = id_
        self.created = created
        self.updated = updated
        self.archived = False
        self.values = values


@dataclass
class ValueProblem:
    """Why one property value of a write was refused, in HubSpot's terms."""

    name: str
    code: str
    message: str


class Table:
    """The records and property definitions of one object type."""

    def __init__(self, object_type: str) -> None:
        self.object_type = object_type
        self.singular = OBJECT_TYPES[object_type][0]
        self.props: dict[str, PropertyDef] = {p.name: p for p in DEFAULT_PROPERTIES[object_type]()}
        self.groups: dict[str, dict[str, Any]] = {
            name: {"name": name, "label": label, "displayOrder": -1, "archived": False}
            for name, label in DEFAULT_GROUPS[object_type]
        }
        self.created_prop = CREATED_PROPERTY[object_type]
        self.modified_props = frozenset({MODIFIED_PROPERTY[object_type], "hs_lastmodifieddate"})
        derived = {"hs_object_id", self.created_prop, *self.modified_props}
        self.columns: dict[str, int] = {}
        for name in self.props:
            if name not in derived:
                self.columns[name] = len(self.columns)
        self.rows: dict[int, Row] = {}
        self.ids: list[int] = []
        self._by_modified: list[tuple[int, int]] = []
        self._modified_stale = False
        self.version = 0
        #: Writes applied per row id (benches count writes repeated after a crash).
        self.updates: Counter[int] = Counter()
        #: Values changed after generation, per row id: (epoch ms or None for the generated
        #: value it replaced, property, value, source); see `sandbox.hubspot.history`.
        self.changes: dict[int, list[tuple[int | None, str, Any, str]]] = {}
        #: The properties in each row's `changes` (a write looks them up, not the whole log).
        self._changed: dict[int, set[str]] = {}

    # -- schema ---------------------------------------------------------------------------

    def add_property(self, prop: PropertyDef) -> None:
        """Register a new (custom) property and give it a column (every row grows by one slot,
        so rows always have one value per column)."""
        self.props[prop.name] = prop
        if prop.name not in self.columns:
            self.columns[prop.name] = len(self.columns)
            for row in self.rows.values():
                row.values.append(None)
        self.version += 1

    # -- rows -----------------------------------------------------------------------------

    def insert(self, row: Row) -> None:
        """Add a row whose id is larger than every existing id."""
        self.rows[row.id] = row
        self.ids.append(row.id)
        if not self._modified_stale:
            bisect.insort(self._by_modified, (row.updated, row.id))
        self.version += 1

    def bulk_load(self, rows: Iterable[Row]) -> None:
        """Add many rows at once (ids ascending) and build the indexes once."""
        for row in rows:
            self.rows[row.id] = row
            self.ids.append(row.id)
        self.ids.sort()
        self._modified_stale = True
        self.version += 1

    @property
    def by_modified(self) -> list[tuple[int, int]]:
        """`(modification ms, id)` of every row, sorted (searches on the modification time
        cut ranges from it). Rebuilt when a search needs it after rows moved: keeping the list
        sorted through each write moved a 20,000-row list's tail per record written."""
        if self._modified_stale:
            self._by_modified = sorted((row.updated, row.id) for row in self.rows.values())
            self._modified_stale = False
        return self._by_modified

    def touch(self, row: Row, updated: int) -> None:
        """Move a row's modification time (`by_modified` is sorted again when next read)."""
        if updated != row.updated:
            row.updated = updated
            self._modified_stale = True

    def raw(self, row: Row, name: str) -> Any:
        """A property's stored value (str, int epoch ms for dates, or None)."""
        if name == "hs_object_id":
            return row.id
        if name == self.created_prop:
            return row.created
        if name in self.modified_props:
            return row.updated
        index = self.columns.get(name)
        if index is None or index >= len(row.values):
            return None
        return row.values[index]

    def set_raw(self, row: Row, name: str, value: Any) -> None:
        """Store a property value (already validated and normalized)."""
        index = self.columns[name]
        values = row.values
        if index >= len(values):
            values.extend([None] * (index + 1 - len(values)))
        values[index] = value

    def record_change(self, row: Row, name: str, value: Any, at_ms: int, source: str) -> None:
        """Set a property after generation and keep the change for its history; the first time,
        the generated value it replaces is kept too (undated: `history` dates it)."""
        log = self.changes.setdefault(row.id, [])
        changed = self._changed.setdefault(row.id, set())
        if name not in changed:
            changed.add(name)
            old = self.raw(row, name)
            if old is not None:
                log.append((None, name, old, ""))
        log.append((at_ms, name, value, source))
        self.set_raw(row, name, value)

    def text(self, row: Row, name: str) -> str | None:
        """A property's value as HubSpot returns it (always a string, or None)."""
        value = self.raw(row, name)
        return None if value is None else self.format(name, value)

    def format(self, name: str, value: Any) -> str:
        """A stored value of property `name` as HubSpot returns it (a string)."""
        prop = self.props.get(name)
        if prop is not None and isinstance(value, int):
            if prop.type == "datetime":
                return iso_ms(value)
            if prop.type == "date":
                return iso_ms(value)[:10]
        return value if isinstance(value, str) else str(value)

    def render(
        self, row: Row, names: Iterable[str], associations: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A record as the CRM objects API returns it; unknown property names are skipped."""
        body = self.renderer(names)(row)
        if associations:
            body["associations"] = associations
        return body

    def renderer(self, names: Iterable[str]) -> Callable[[Row], dict[str, Any]]:
        """A function rendering rows with these properties, as `render` does but compiled once
        per request: stored values are fetched with one `itemgetter` call per row."""
        wanted = [name for name in dict.fromkeys(names) if name in self.props]
        stored = [name for name in wanted if name in self.columns]
        datetimes = [name for name in stored if self.props[name].type == "datetime"]
        dates = [name for name in stored if self.props[name].type == "date"]
        want_id = "hs_object_id" in wanted
        want_created = self.created_prop in wanted
        modified = [name for name in wanted if name in self.modified_props]
        created_prop = self.created_prop
        indexes = [self.columns[name] for name in stored]
        fetch: Callable[[list[Any]], Any] = _nothing
        if len(indexes) == 1:
            only = indexes[0]

            def fetch(values: list[Any]) -> Any:
                return (values[only],)

        elif indexes:
            fetch = itemgetter(*indexes)

        def render(row: Row) -> dict[str, Any]:
            props = dict(zip(stored, fetch(row.values), strict=True))
            for name in datetimes:
                value = props[name]
                if value is not None:
                    props[name] = iso_ms(value)
            for name in dates:
                value = props[name]
                if value is not None:
                    props[name] = iso_ms(value)[:10]
            created, updated = iso_ms(row.created), iso_ms(row.updated)
            if want_id:
                props["hs_object_id"] = str(row.id)
            if want_created:
                props[created_prop] = created
            for name in modified:
                props[name] = updated
            body = {
                "id": str(row.id),
                "properties": props,
                "createdAt": created,
                "updatedAt": updated,
                "archived": row.archived,
            }
            if row.archived:
                body["archivedAt"] = updated
            return body

        return render

    def live(self, *, archived: bool = False) -> Iterator[Row]:
        """Rows in id order, archived or not."""
        rows = self.rows
        for id_ in self.ids:
            row = rows[id_]
            if row.archived == archived:
                yield row

    # -- writes ---------------------------------------------------------------------------

    def coerce(self, name: str, value: Any) -> tuple[Any, ValueProblem | None]:  # noqa: PLR0912  one branch per HubSpot property type
        """Validate and normalize a value written to a property, as HubSpot does."""
        prop = self.props.get(name)
        if prop is None:
            return None, ValueProblem(
                name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
            )
        if prop.read_only:
            return None, ValueProblem(
                name,
                "READ_ONLY_VALUE",
                f'"{name}" is a read only property; its value cannot be set.',
            )
        if value is None or value == "":
            return None, None
        kind = prop.type
        if kind == "number":
            number = parse_number(value)
            if number is None:
                return None, ValueProblem(
                    name, "INVALID_INTEGER", f"{value} was not a valid number."
                )
            return (value.strip() if isinstance(value, str) else number_text(number)), None
        if kind == "bool":
            text = str(value).lower()
            if text not in ("true", "false"):
                return None, ValueProblem(
                    name, "INVALID_BOOLEAN", f"{value} was not a valid boolean."
                )
            return text, None
        if kind in ("datetime", "date"):
            ms = parse_datetime_ms(value)
            if ms is None:
                return None, ValueProblem(
                    name,
                    "INVALID_DATE",
                    f"{value} was not a valid long. Use a UNIX timestamp in milliseconds or "
                    "an ISO-8601 date.",
                )
            if kind == "date" and ms % 86_400_000:
                return None, ValueProblem(
                    name,
                    "INVALID_DATE",
                    f"{value} is at {iso_ms(ms)}, which isn't midnight UTC!",
                )
            return ms, None
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = value if isinstance(value, str) else str(value)
        if kind == "enumeration":
            chosen = text.split(";") if prop.field_type == "checkbox" else [text]
            bad = [option for option in chosen if option not in prop.option_values]
            if bad:
                allowed = ", ".join(sorted(prop.option_values))
                return None, ValueProblem(
                    name,
                    "INVALID_OPTION",
                    f"{bad[0]} was not one of the allowed options: [{allowed}]",
                )
        if len(text) > 65_536:
            return None, ValueProblem(
                name, "INVALID_STRING_LENGTH", f"{name} is longer than 65536 characters."
            )
        return text, None


@dataclass(slots=True)
class Outcome:
    """The hidden conversion outcome of one contact (ground truth for backtests)."""

    converted: bool
    converted_at_ms: int | None
    fit: float
    engagement: float


@dataclass
class Store:
    """Everything the sandbox serves, plus the generator's ground truth."""

    tables: dict[str, Table] = field(default_factory=dict)
    #: (from type, to type) -> from id -> list of to ids (the first one is primary).
    associations: dict[tuple[str, str], dict[int, list[int]]] = field(default_factory=dict)
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    #: Hidden account outcomes by company id (`committees.AccountOutcome`), when generated.
    account_outcomes: dict[int, Any] = field(default_factory=dict)
    #: Web events added after generation (by `mutate`), per contact id.
    extra_events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: Engagement rollups as generated, for contacts changed since (events derive from them).
    event_basis: dict[int, dict[str, Any]] = field(default_factory=dict)
    seed: int = 7
    now_ms: int = 0
    next_id: int = 1
    lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def empty(cls, *, seed: int, now_ms: int) -> Store:
        """A store with every table and no records."""
        store = cls(seed=seed, now_ms=now_ms)
        for object_type in OBJECT_TYPES:
            store.tables[object_type] = Table(object_type)
        for pair in ASSOCIATION_TYPES:
            store.associations[pair] = {}
        return store

    def table(self, object_type: str) -> Table:
        """The table of an object type (`contacts`, `companies`, `deals`, `meetings`, `calls`)."""
        return self.tables[object_type]

    def allocate_id(self) -> int:
        """A fresh record id, unique across object types as in HubSpot."""
        value = self.next_id
        self.next_id += 1
        return value

    def associate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """Link two records both ways."""
        self.associations[(from_type, to_type)].setdefault(from_id, []).append(to_id)
        self.associations[(to_type, from_type)].setdefault(to_id, []).append(from_id)

    def dissociate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """Remove the link between two records both ways (none: nothing to do)."""
        for (a, a_id), (b, b_id) in (((from_type, from_id), (to_type, to_id)),
                                     ((to_type, to_id), (from_type, from_id))):  # fmt: skip
            links = self.associations[(a, b)].get(a_id)
            if links and b_id in links:
                links.remove(b_id)

    def associated(self, from_type: str, from_id: int, to_type: str) -> list[int]:
        """Ids of the `to_type` records linked to one record (primary first)."""
        return self.associations.get((from_type, to_type), {}).get(from_id, [])

    def linked_to_contacts(self, object_type: str) -> set[int]:
        """Ids of the `object_type` records linked to live contacts (for companies, only each
        contact's primary one): what a full read of the contacts' associations reaches."""
        table = self.tables["contacts"]
        found: set[int] = set()
        with self.lock:
            for contact in table.ids:
                if table.rows[contact].archived:
                    continue
                ids = self.associated("contacts", contact, object_type)
                found.update(ids[:1] if object_type == "companies" else ids)
        return found

    def ground_truth(self) -> dict[str, Outcome]:
        """The hidden conversion outcome of every generated contact, keyed by record id."""
        return {str(key): value for key, value in self.outcomes.items()}
