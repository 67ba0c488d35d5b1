"""The sandbox org's data: tables of records, users, field-level security and record writes.

Records are plain dicts keyed by canonical field names; datetimes are epoch seconds and dates
`YYYY-MM-DD` strings (see `values`). Each table keeps insertion order, which is ascending id
order because ids come from a counter. Child records are indexed by their parent reference
(`(Task, WhoId) -> lead id -> [task ids]`) for subqueries.

Field-level security follows Salesforce: standard fields are visible to the integration user;
custom fields are invisible (to queries, writes and describe) until a `FieldPermissions` row of a
permission set assigned to the user grants read (and edit). Everything is guarded by `lock`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sandbox.salesforce.ids import KEY_PREFIXES, IdFactory, normalise, object_of
from sandbox.salesforce.schema import (
    TRACKED_FIELDS,
    FieldDef,
    SObjectDef,
    standard_objects,
    tooling_objects,
)
from sandbox.salesforce.values import parse_iso

#: Error codes of a record-level save failure that name no field.
SaveError = dict[str, Any]


@dataclass
class Outcome:
    """The hidden conversion outcome of one lead (ground truth for backtests)."""

    converted: bool
    converted_at_ms: int | None
    fit: float
    engagement: float


def save_error(code: str, message: str, fields: list[str] | None = None) -> SaveError:
    """One entry of a SaveResult's `errors`."""
    return {"statusCode": code, "message": message, "fields": fields or []}


@dataclass
class Store:
    """Everything the sandbox org holds."""

    now_epoch: int
    seed: int = 7
    objects: dict[str, SObjectDef] = field(default_factory=standard_objects)
    tooling: dict[str, SObjectDef] = field(default_factory=tooling_objects)
    #: Tooling `CustomField` id -> its `Metadata` (FullName is `TableEnumOrId.DeveloperName__c`).
    custom_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    children: dict[tuple[str, str], dict[str, list[str]]] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    #: Hidden Account outcomes by id (`committees.AccountOutcome`), when generated.
    account_outcomes: dict[str, Any] = field(default_factory=dict)
    ids: IdFactory = field(default_factory=IdFactory)
    lock: threading.RLock = field(default_factory=threading.RLock)
    org_id: str = ""
    integration_user: str = ""
    integration_username: str = "integration@leadsync.sandbox"
    assignment_queue: str = ""
    sales_users: list[str] = field(default_factory=list)
    #: ListEmail ids by name (the generator sends each list email from one ListEmail record).
    list_emails: dict[str, str] = field(default_factory=dict)
    #: Record ids whose next writes fail with UNABLE_TO_LOCK_ROW (id -> failures left).
    locked: dict[str, int] = field(default_factory=dict)
    #: Record ids whose writes fail with FIELD_INTEGRITY_EXCEPTION (a validation rule).
    integrity_rule_ids: set[str] = field(default_factory=set)
    #: Updates applied per record id (tests count writes repeated after a crash).
    updates: Counter[str] = field(default_factory=Counter)
    _started: float = field(default_factory=time.monotonic)
    _skew: int = 0
    _journal: list[tuple[str, str, dict[str, Any] | None]] | None = None

    def __post_init__(self) -> None:
        for obj in [*self.objects.values(), *self.tooling.values()]:
            self.tables.setdefault(obj.name, {})
        self._parent_refs: dict[str, list[tuple[str, dict[str, list[str]]]]] = {}
        for obj in self.objects.values():
            for rel in obj.children.values():
                if (rel.child, rel.field) not in self.children:
                    index: dict[str, list[str]] = {}
                    self.children[(rel.child, rel.field)] = index
                    self._parent_refs.setdefault(rel.child, []).append((rel.field, index))
        self.org_id = self.ids.new("Organization")

    # -- clock ---------------------------------------------------------------------------------

    def now(self) -> int:
        """The org's clock in epoch seconds: the start time plus time elapsed (and `advance`)."""
        return self.now_epoch + int(time.monotonic() - self._started) + self._skew

    def advance(self, seconds: int) -> None:
        """Move the org's clock forward (tests use this instead of sleeping)."""
        self._skew += seconds

    # -- schema and security ------------------------------------------------------------------

    def sobject(self, name: str) -> SObjectDef | None:
        """An object definition by name, case-insensitively."""
        return self.objects.get(name.lower())

    def access(self, obj: SObjectDef, definition: FieldDef, user: str) -> tuple[bool, bool]:
        """(read, edit) of a field for a user; custom fields need FieldPermissions."""
        if not definition.custom:
            return True, definition.updateable
        qualified = f"{obj.name}.{definition.name}".lower()
        granted_sets = {
            row["PermissionSetId"]
            for row in self.tables["PermissionSetAssignment"].values()
            if row["AssigneeId"] == user
        }
        read = edit = False
        for row in self.tables["FieldPermissions"].values():
            if row["ParentId"] in granted_sets and str(row["Field"]).lower() == qualified:
                read = read or bool(row["PermissionsRead"]) or bool(row["PermissionsEdit"])
                edit = edit or bool(row["PermissionsEdit"])
        return read, edit and definition.updateable

    def visible_field(self, obj: SObjectDef, name: str, user: str) -> FieldDef | None:
        """A field the user can read, or None (absent and invisible look the same)."""
        definition = obj.field(name)
        if definition is None or not self.access(obj, definition, user)[0]:
            return None
        return definition

    def visible_fields(self, obj: SObjectDef, user: str) -> list[FieldDef]:
        """Every field of an object the user can read, in definition order."""
        return [f for f in obj.fields.values() if self.access(obj, f, user)[0]]

    # -- records --------------------------------------------------------------------------------

    def table(self, name: str) -> dict[str, dict[str, Any]]:
        """Records of an object by id (canonical object name)."""
        return self.tables[name]

    def get(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """(object name, record) of any id, or None."""
        full = normalise(record_id)
        if not full:
            return None
        # Field history objects share one key prefix: look in each of them.
        for name, prefix in KEY_PREFIXES.items():
            if prefix == full[:3] and name in self.tables:
                record = self.tables[name].get(full)
                if record is not None:
                    return name, record
        return None

    def load(self, name: str, record: dict[str, Any]) -> str:
        """Add a generated record (no validation); returns its id."""
        record_id = record.get("Id") or self.ids.new(name)
        record["Id"] = record_id
        record.setdefault("IsDeleted", False)
        self.tables[name][record_id] = record
        for ref_field, index in self._parent_refs.get(name, ()):
            parent = record.get(ref_field)
            if parent:
                index.setdefault(parent, []).append(record_id)
        return record_id

    @contextmanager
    def transaction(self) -> Iterator[list[tuple[str, str, dict[str, Any] | None]]]:
        """Journal writes so `rollback` can undo them (allOrNone); hold `lock` around it."""
        outer = self._journal
        journal: list[tuple[str, str, dict[str, Any] | None]] = []
        self._journal = journal
        try:
            yield journal
        finally:
            self._journal = outer
            if outer is not None:
                outer.extend(journal)

    def rollback(self, journal: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        """Undo the writes of a journal, newest first."""
        for name, record_id, before in reversed(journal):
            if before is None:
                self.tables[name].pop(record_id, None)
                for (child, _field), index in self.children.items():
                    if child == name:
                        for ids in index.values():
                            if record_id in ids:
                                ids.remove(record_id)
            else:
                self.tables[name][record_id] = before
                self.updates[record_id] -= 1
        journal.clear()

    def repoint(self, name: str, record_id: str, ref_field: str, parent: str) -> None:
        """Point a generated record's reference `ref_field` at `parent`, keeping the child index
        of that reference (subqueries) in step."""
        record = self.tables[name][record_id]
        index = self.children.get((name, ref_field))
        if index is not None:
            old = record.get(ref_field)
            if old and record_id in index.get(old, ()):
                index[old].remove(record_id)
            index.setdefault(parent, []).append(record_id)
        record[ref_field] = parent

    def child_ids(self, child: str, ref_field: str, parent_id: str) -> list[str]:
        """Ids of the children of one parent through a reference field."""
        return self.children.get((child, ref_field), {}).get(parent_id, [])

    def iter_records(self, name: str) -> Iterator[dict[str, Any]]:
        """Every record of an object in id order."""
        return iter(list(self.tables[name].values()))

    # -- writes ---------------------------------------------------------------------------------

    def insert(
        self, name: str, values: Mapping[str, Any], *, user: str
    ) -> tuple[str | None, list[SaveError]]:
        """Create a record through the API (setup objects only); returns (id, errors)."""
        obj = self.objects[name.lower()]
        record: dict[str, Any] = {}
        errors: list[SaveError] = []
        for key, value in values.items():
            if key == "attributes":
                continue
            definition = self.visible_field(obj, key, user)
            if definition is None:
                errors.append(
                    save_error(
                        "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                    )
                )
                continue
            if not definition.updateable:
                errors.append(_not_updateable(definition))
                continue
            converted, problem = coerce(definition, value)
            if problem:
                errors.append(problem)
            record[definition.name] = converted
        for definition in obj.fields.values():
            required = definition.updateable and definition.type != "boolean"
            if required and not definition.nillable and record.get(definition.name) in (None, ""):
                errors.append(
                    save_error(
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{definition.name}]",
                        [definition.name],
                    )
                )
        if errors:
            return None, errors
        now = self.now()
        if self._journal is not None:
            self._journal.append((obj.name, "", None))
        for definition in obj.fields.values():
            if definition.type == "boolean":
                record.setdefault(definition.name, False)
        record.update(
            CreatedDate=now,
            CreatedById=user,
            LastModifiedDate=now,
            LastModifiedById=user,
            SystemModstamp=now,
        )
        new_id = self.load(obj.name, record)
        if self._journal is not None:
            self._journal[-1] = (obj.name, new_id, None)
        return new_id, []

    def _track_history(  # noqa: PLR0913  one update's history rows
        self,
        name: str,
        record_id: str,
        record: Mapping[str, Any],
        changes: Mapping[str, Any],
        *,
        user: str,
        stamp: int,
    ) -> None:
        """A history row per tracked field the update changes (`schema.TRACKED_FIELDS`), as
        Salesforce writes one for every change of a field with history tracking on."""
        if name not in TRACKED_FIELDS:
            return
        history, parent, fields = TRACKED_FIELDS[name]
        for field_name, data_type in fields.items():
            if field_name not in changes:
                continue
            old, new = _history_value(record.get(field_name)), _history_value(changes[field_name])
            if old == new:
                continue
            for name_then, kind, before, after in self._history_rows(
                field_name, data_type, old, new
            ):
                row = {
                    parent: record_id,
                    "Field": name_then,
                    "DataType": kind,
                    "OldValue": before,
                    "NewValue": after,
                    "CreatedDate": stamp,
                    "CreatedById": user,
                }
                row_id = self.load(history, row)
                if self._journal is not None:
                    self._journal.append((history, row_id, None))

    def _history_rows(
        self, field: str, data_type: str, old: str | None, new: str | None
    ) -> list[tuple[str, str, str | None, str | None]]:
        """(Field, DataType, OldValue, NewValue) of the rows one change adds: one, or for a
        lookup two under its relationship name (`Account` for `AccountId`), the names the
        screens show and then the ids, as Salesforce records a foreign key's change."""
        if data_type != "EntityId":
            return [(field, data_type, old, new)]
        return [
            (field[:-2], "Text", self._record_name(old), self._record_name(new)),
            (field[:-2], data_type, old, new),
        ]

    def _record_name(self, record_id: str | None) -> str | None:
        if record_id is None:
            return None
        table = self.tables.get(object_of(record_id) or "")
        record = table.get(record_id) if table is not None else None
        return None if record is None else record.get("Name")

    def update(  # noqa: PLR0912, PLR0913  one record update with its Salesforce checks in order
        self,
        name: str,
        record_id: str,
        values: Mapping[str, Any],
        *,
        user: str,
        auto_assign: bool,
        stamp: int,
    ) -> list[SaveError]:
        """Apply one record update as Salesforce would; returns the SaveResult errors."""
        obj = self.objects[name.lower()]
        full = normalise(record_id)
        if full is None or object_of(full) != obj.name:
            return [
                save_error(
                    "MALFORMED_ID",
                    f"{obj.name} ID: id value of incorrect type: {record_id}",
                    ["Id"],
                )
            ]
        record = self.tables[obj.name].get(full)
        if record is None:
            return [save_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")]
        if record.get("IsDeleted"):
            return [save_error("ENTITY_IS_DELETED", "entity is deleted")]
        if obj.name == "Lead" and record.get("IsConverted"):
            return [save_error("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")]
        changes: dict[str, Any] = {}
        errors: list[SaveError] = []
        for key, value in values.items():
            if key in ("attributes", "id", "Id"):
                continue
            definition = self.visible_field(obj, key, user)
            if definition is None:
                errors.append(
                    save_error(
                        "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}"
                    )
                )
                continue
            if not self.access(obj, definition, user)[1]:
                errors.append(_not_updateable(definition))
                continue
            converted, problem = coerce(definition, value)
            if problem:
                errors.append(problem)
            changes[definition.name] = converted
        if errors:
            return errors
        if self.locked.get(full, 0) > 0:
            self.locked[full] -= 1
            return [
                save_error(
                    "UNABLE_TO_LOCK_ROW",
                    f"unable to obtain exclusive access to this record or 1 records: {full}",
                )
            ]
        if full in self.integrity_rule_ids:
            return [
                save_error(
                    "FIELD_INTEGRITY_EXCEPTION",
                    "field integrity exception: unknown (record fails the org's integrity rule)",
                )
            ]
        if self._journal is not None:
            self._journal.append((obj.name, full, dict(record)))
        self._track_history(obj.name, full, record, changes, user=user, stamp=stamp)
        record.update(changes)
        if obj.name == "Lead" and auto_assign and self.assignment_queue:
            # An active lead assignment rule fires on every API update unless the client
            # sends `Sforce-Auto-Assign: FALSE`.
            record["OwnerId"] = self.assignment_queue
        record["LastModifiedDate"] = stamp
        record["SystemModstamp"] = stamp
        record["LastModifiedById"] = user
        self.updates[full] += 1
        return []


def _history_value(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _not_updateable(definition: FieldDef) -> SaveError:
    return save_error(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {definition.name}. Please check the security settings "
        "of this field and verify that it is read/write for your profile or permission set.",
        [definition.name],
    )


def coerce(definition: FieldDef, value: Any) -> tuple[Any, SaveError | None]:  # noqa: PLR0912  one branch per Salesforce field type
    """Convert a JSON value for a field, or explain why Salesforce would refuse it."""
    label = definition.label or definition.name
    if value is None:
        if not definition.nillable and definition.type != "boolean":
            return None, save_error(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{definition.name}]",
                [definition.name],
            )
        return (False if definition.type == "boolean" else None), None
    kind = definition.type
    wrong_type = save_error(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{label}: value not of required type: {value}",
        [definition.name],
    )
    if kind in ("string", "textarea", "email", "phone", "url", "picklist"):
        if not isinstance(value, str):
            return None, wrong_type
        if value == "":
            return None, None  # Salesforce stores an empty text value as null
        if kind == "picklist" and definition.restricted and value not in definition.picklist:
            return None, save_error(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{label}: bad value for restricted picklist field: {value}",
                [definition.name],
            )
        if definition.length and len(value) > definition.length:
            return None, save_error(
                "STRING_TOO_LONG",
                f"{label}: data value too large: {value[:20]}... (max length={definition.length})",
                [definition.name],
            )
        return value, None
    if kind in ("double", "currency", "int", "percent"):
        if isinstance(value, bool):
            return None, wrong_type
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None, wrong_type
        whole_digits = len(str(int(abs(number))))
        if definition.precision and whole_digits > definition.precision - definition.scale:
            return None, save_error(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{label}: value outside of valid range on numeric field: {value}",
                [definition.name],
            )
        return (int(number) if kind == "int" else number), None
    if kind == "boolean":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true", None
        return None, wrong_type
    if kind == "datetime":
        seconds = parse_iso(value) if isinstance(value, str) else None
        if seconds is None:
            return None, wrong_type
        return seconds, None
    if kind == "date":
        if not isinstance(value, str) or parse_iso(value[:10] + "T00:00:00Z") is None:
            return None, wrong_type
        return value[:10], None
    if kind in ("reference", "id"):
        if not isinstance(value, str) or normalise(value) is None:
            return None, save_error(
                "MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [definition.name]
            )
        return normalise(value), None
    return value, None
