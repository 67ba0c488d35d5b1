"""Runs parsed SOQL against the store: field checks, filters, ordering, subqueries, paging.

A query first resolves every field against what the user may see (an invisible custom field is
`INVALID_FIELD`, exactly like a missing one), then evaluates the filter over the object's
records and keeps the matching ids, ordered, in a server-side cursor. Pages are cut from the
cursor: a page holds up to `batchSize` rows, children of subqueries included (Salesforce counts
child rows toward the batch size), and `nextRecordsUrl` names the cursor and the offset reached
(`/services/data/v62.0/query/01g...-2000`). A user holds at most 10 open cursors; the oldest is
dropped (then `INVALID_QUERY_LOCATOR`), as Salesforce did before API 56.0: it has since removed
the limit and keeps a cursor's results for 2 days, so the sandbox is the stricter of the two.

A query selecting two or more custom long text area fields (its subqueries included) gets pages
of at most 200 rows whatever `batchSize` asks, as Salesforce documents ("Change the Batch Size in
Queries").

A subquery result (a lead's Tasks) holds at most 200 child rows; past that it says
`"done": false` with its own `nextRecordsUrl` (`{"totalSize": 1200, "done": false,
"nextRecordsUrl": "/services/data/v62.0/query/01g...-200", "records": [...200...]}`, the shape
Salesforce returns and clients must follow), whose pages hold 200 rows each. As in Salesforce,
moving the parent query to its next page invalidates the child cursors of the previous page.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.salesforce.ids import normalise, object_of
from sandbox.salesforce.schema import NAME_OBJECT_FIELDS, SObjectDef
from sandbox.salesforce.soql import (
    Compare,
    Condition,
    FieldRef,
    InList,
    Junction,
    Like,
    Literal,
    Negation,
    OrderKey,
    Query,
    SoqlError,
    parse,
)
from sandbox.salesforce.store import Store
from sandbox.salesforce.values import format_datetime, from_epoch, parse_iso, to_epoch

MAX_OPEN_CURSORS = 10
CHILD_BATCH = 200  # child rows per subquery result and per page of its nextRecordsUrl
MAX_CHILD_CURSORS = 10_000  # a memory bound only: a page leaves at most one per parent row
DEFAULT_BATCH = 2000
MIN_BATCH = 200
LONG_TEXT_BATCH = 200  # the cap for queries selecting two or more custom long text areas


#: Parent relationships one field path may climb: "no more than five levels can be specified in
#: a child-to-parent relationship", the queried object counted ("Contact.Account.Owner.FirstName
#: (three levels)"), so four relationships past it.
MAX_PARENT_LEVELS = 4


@dataclass(frozen=True)
class Resolved:
    """A field path resolved to a getter; `kind` is the final field's describe type.

    For a parent path (`Account.Industry`, `Account.Owner.Name`) `via` is the first reference
    field (`AccountId`), `names` the relationship names then the leaf field name, and
    `parents(record)` the ids of the parents along the path, up to the first one missing.
    """

    ref: FieldRef
    names: tuple[str, ...]
    kind: str
    getter: Callable[[dict[str, Any]], Any]
    via: str | None = None
    polymorphic: bool = False
    parents: Callable[[dict[str, Any]], list[str]] | None = None


@dataclass
class _Cursor:
    """The ids a query matched and how to render them."""

    locator: str
    sobject: SObjectDef
    plan: _Plan
    ids: list[str]
    user: str
    parent: str | None = None  # a subquery's cursor: the locator of the query it belongs to


@dataclass
class _Plan:
    """A validated query ready to run."""

    query: Query
    sobject: SObjectDef
    fields: list[Resolved]
    children: list[tuple[str, _Plan, str]]  # (relationship name, plan, child reference field)
    predicate: Callable[[dict[str, Any]], bool]
    order: list[tuple[Resolved, OrderKey]]
    long_texts: int = 0  # custom long text area fields selected, subqueries included


def _invalid_field(query: Query, ref: FieldRef, entity: str) -> SoqlError:
    pointer = " " * (ref.column - 1) + "^"
    return SoqlError(
        "INVALID_FIELD",
        f"\n{query.text}\n{pointer}\nERROR at Row:1:Column:{ref.column}\n"
        f"No such column '{ref.path[-1]}' on entity '{entity}'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name. Please reference "
        "your WSDL or the describe call for the appropriate names.",
    )


class QueryEngine:
    """Evaluates SOQL for one store and keeps the users' query cursors."""

    def __init__(self, store: Store, *, tooling: bool = False) -> None:
        self.store = store
        self.objects = store.tooling if tooling else store.objects
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._child_cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._lock = threading.Lock()

    # -- planning -----------------------------------------------------------------------------

    def plan(
        self, text: str, user: str, *, include_deleted: bool = False, version: str | None = None
    ) -> _Plan:
        """Parse and validate a query for a user (at API `version`: an object introduced later
        does not exist there); raises `SoqlError`."""
        return self._plan(parse(text), user, include_deleted=include_deleted, version=version)

    def _plan(
        self,
        query: Query,
        user: str,
        *,
        include_deleted: bool,
        nested: bool = False,
        version: str | None = None,
    ) -> _Plan:
        sobject = self.objects.get(query.sobject.lower())
        if (
            sobject is None
            or not (sobject.queryable or nested)
            or (version is not None and not sobject.served_at(version))
        ):
            raise SoqlError(
                "INVALID_TYPE",
                f"\n{query.text}\nsObject type '{query.sobject}' is not supported. If you are "
                "attempting to use a custom object, be sure to append the '__c' after the entity "
                "name. Please reference your WSDL or the describe call for the appropriate names.",
            )
        fields = [self._resolve(query, sobject, ref, user) for ref in query.fields]
        children: list[tuple[str, _Plan, str]] = []
        for sub in query.subqueries:
            rel = sobject.children.get(sub.relationship.lower())
            child_obj = self.objects.get(rel.child.lower()) if rel else None
            if rel is None or (
                version is not None and child_obj is not None and not child_obj.served_at(version)
            ):
                raise SoqlError(
                    "INVALID_TYPE",
                    f"\n{query.text}\nDidn't understand relationship '{sub.relationship}' in FROM "
                    "part of query call. If you are attempting to use a custom relationship, be "
                    "sure "
                    "to append the '__r' after the custom relationship name.",
                )
            child_query = sub.query
            child_query.sobject = rel.child
            child_query.text = query.text
            children.append(
                (
                    rel.name,
                    self._plan(
                        child_query,
                        user,
                        include_deleted=include_deleted,
                        nested=True,
                        version=version,
                    ),
                    rel.field,
                )
            )
        predicate = self._predicate(
            query, sobject, query.where, user, include_deleted=include_deleted
        )
        order: list[tuple[Resolved, OrderKey]] = []
        for key in query.order:
            resolved = self._resolve(query, sobject, key.field, user)
            if resolved.kind == "textarea":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"\n{query.text}\nfield '{key.field.text}' can not be sorted in a query call",
                )
            order.append((resolved, key))
        long_texts = sum(
            1 for f in fields if f.via is None and _is_custom_long_text(sobject, f.names[0])
        ) + sum(child.long_texts for _, child, _ in children)
        return _Plan(query, sobject, fields, children, predicate, order, long_texts)

    def _resolve(self, query: Query, sobject: SObjectDef, ref: FieldRef, user: str) -> Resolved:
        store = self.store
        path = ref.path
        if len(path) > 1 and path[0].lower() == sobject.name.lower():
            path = path[1:]
        if len(path) == 1:
            definition = store.visible_field(sobject, path[0], user)
            if definition is None:
                raise _invalid_field(query, ref, sobject.name)
            name = definition.name
            return Resolved(ref, (name,), definition.type, lambda record: record.get(name))
        return self._resolve_parent(query, sobject, ref, path, user)

    def _resolve_parent(
        self, query: Query, sobject: SObjectDef, ref: FieldRef, path: tuple[str, ...], user: str
    ) -> Resolved:
        """A field of a parent record, up to `MAX_PARENT_LEVELS` relationships up."""
        store = self.store
        if len(path) > MAX_PARENT_LEVELS + 1:
            raise _invalid_field(query, ref, sobject.name)
        # each hop: (relationship name, reference field, parent table or None when polymorphic)
        hops: list[tuple[str, str, dict[str, dict[str, Any]] | None]] = []
        current = sobject
        for depth, step in enumerate(path[:-1]):
            reference = current.relationship(step)
            if reference is None:
                raise SoqlError(
                    "INVALID_FIELD",
                    f"\n{query.text}\nDidn't understand relationship '{step}' in field path. If "
                    "you are attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name.",
                )
            rel_name = reference.relationship_name or step
            if reference.polymorphic:
                # a polymorphic parent (Who, What, a Lead's Owner) is typed `Name`: the Name
                # object's fields only, and nothing past it
                if depth != len(path) - 2:
                    raise _invalid_field(query, ref, "Name")
                hops.append((rel_name, reference.name, None))
                break
            target_obj = self.objects.get(reference.reference_to[0].lower())
            assert target_obj is not None
            hops.append((rel_name, reference.name, store.table(target_obj.name)))
            current = target_obj

        def parents(record: dict[str, Any]) -> list[str]:
            ids: list[str] = []
            row: dict[str, Any] | None = record
            for _, ref_field, table in hops:
                target = row.get(ref_field) if row is not None else None
                if not target:
                    break
                ids.append(target)
                row = table.get(target) if table is not None else None
            return ids

        rel_names = tuple(name for name, _, _ in hops)
        first = hops[0][1]
        if hops[-1][2] is None:
            known = NAME_OBJECT_FIELDS.get(path[-1].lower())
            if known is None:
                raise _invalid_field(query, ref, "Name")
            canonical, kind = known
            value_of = _name_field(store, canonical)

            def poly(record: dict[str, Any]) -> Any:
                ids = parents(record)
                return value_of(ids[-1]) if len(ids) == len(hops) else None

            return Resolved(
                ref, (*rel_names, canonical), kind, poly, first, polymorphic=True,
                parents=parents,
            )  # fmt: skip
        definition = store.visible_field(current, path[-1], user)
        if definition is None:
            raise _invalid_field(query, ref, current.name)
        leaf_name = definition.name
        last = hops[-1][2]
        assert last is not None

        def parent(record: dict[str, Any]) -> Any:
            ids = parents(record)
            row = last.get(ids[-1]) if len(ids) == len(hops) else None
            return row.get(leaf_name) if row else None

        return Resolved(
            ref, (*rel_names, leaf_name), definition.type, parent, first, parents=parents
        )

    # -- filters --------------------------------------------------------------------------------

    def _predicate(
        self,
        query: Query,
        sobject: SObjectDef,
        condition: Condition | None,
        user: str,
        *,
        include_deleted: bool,
    ) -> Callable[[dict[str, Any]], bool]:
        base = self._condition(query, sobject, condition, user) if condition else None
        if include_deleted:
            return base or (lambda record: True)
        if base is None:
            return lambda record: not record.get("IsDeleted")
        return lambda record: not record.get("IsDeleted") and base(record)

    def _condition(
        self, query: Query, sobject: SObjectDef, condition: Condition, user: str
    ) -> Callable[[dict[str, Any]], bool]:
        if isinstance(condition, Junction):
            parts = [self._condition(query, sobject, item, user) for item in condition.items]
            if condition.op == "AND":
                return lambda record: all(part(record) for part in parts)
            return lambda record: any(part(record) for part in parts)
        if isinstance(condition, Negation):
            inner = self._condition(query, sobject, condition.item, user)
            return lambda record: not inner(record)
        resolved = self._resolve(query, sobject, condition.field, user)
        if resolved.kind == "textarea":
            raise SoqlError(
                "INVALID_FIELD",
                f"\n{query.text}\nfield '{condition.field.text}' can not be filtered in a "
                "query call",
            )
        get = resolved.getter
        if isinstance(condition, Like):
            regex = _like_regex(condition.pattern)
            return lambda record: isinstance(get(record), str) and bool(regex.match(get(record)))
        if isinstance(condition, InList):
            if condition.subquery is not None:
                inner_plan = self._plan(condition.subquery, user, include_deleted=False)
                if len(inner_plan.fields) != 1 or inner_plan.fields[0].kind not in (
                    "id",
                    "reference",
                ):
                    raise SoqlError(
                        "MALFORMED_QUERY", "semi join sub selects can only query id fields"
                    )
                table = self.store.table(inner_plan.sobject.name)
                id_get = inner_plan.fields[0].getter
                wanted = {id_get(r) for r in table.values() if inner_plan.predicate(r)}
            else:
                wanted = {self._operand(resolved, lit, query) for lit in condition.values}
            negate = condition.negate
            return lambda record: (get(record) in wanted) != negate
        assert isinstance(condition, Compare)
        return self._compare(resolved, condition, query)

    def _compare(
        self, resolved: Resolved, condition: Compare, query: Query
    ) -> Callable[[dict[str, Any]], bool]:
        get = resolved.getter
        op = condition.op
        literal = condition.value
        if literal.kind == "null":
            if op not in ("=", "!="):
                raise SoqlError("MALFORMED_QUERY", "null can only be compared with = or !=")
            wants_null = op == "="
            return lambda record: (get(record) in (None, "")) == wants_null
        if literal.kind == "dateliteral" and resolved.kind in ("datetime", "date"):
            start, end = _date_range(literal.value, self.store.now(), resolved.kind)
            tests: dict[str, Callable[[Any], bool]] = {
                "=": lambda v: start <= v < end,
                "!=": lambda v: not start <= v < end,
                "<": lambda v: v < start,
                "<=": lambda v: v < end,
                ">": lambda v: v >= end,
                ">=": lambda v: v >= start,
            }
            test = tests[op]
            return lambda record: (value := get(record)) is not None and test(value)
        operand = self._operand(resolved, literal, query)
        text_kind = resolved.kind in ("string", "textarea", "email", "phone", "url", "picklist")

        def key(value: Any) -> Any:
            return value.lower() if text_kind and isinstance(value, str) else value

        target = key(operand)
        compare: Callable[[Any], bool] = {
            "=": lambda v: v == target,
            "!=": lambda v: v != target,
            "<": lambda v: v < target,
            "<=": lambda v: v <= target,
            ">": lambda v: v > target,
            ">=": lambda v: v >= target,
        }[op]
        if op == "!=":
            return lambda record: compare(key(get(record)))

        def check(record: dict[str, Any]) -> bool:
            value = get(record)
            if value is None:
                return False
            try:
                return compare(key(value))
            except TypeError:
                return False

        return check

    def _operand(self, resolved: Resolved, literal: Literal, query: Query) -> Any:
        kind = resolved.kind
        name = resolved.ref.text
        if kind == "datetime":
            if literal.kind != "datetime":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"\n{query.text}\nvalue of filter criterion for field '{name}' must be of type "
                    "dateTime and should not be enclosed in quotes",
                )
            seconds = parse_iso(literal.value)
            if seconds is None:
                raise SoqlError("MALFORMED_QUERY", f"invalid datetime literal {literal.value}")
            return seconds
        if kind == "date":
            if literal.kind != "date":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"\n{query.text}\nvalue of filter criterion for field '{name}' must be of type "
                    "date and should not be enclosed in quotes",
                )
            return literal.value
        if kind == "boolean":
            if literal.kind != "boolean":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"\n{query.text}\nvalue of filter criterion for field '{name}' must be of type "
                    "boolean and should not be enclosed in quotes",
                )
            return literal.value
        if kind in ("double", "currency", "int", "percent"):
            if literal.kind != "number":
                raise SoqlError(
                    "INVALID_FIELD",
                    f"\n{query.text}\nvalue of filter criterion for field '{name}' must be of type "
                    "double and should not be enclosed in quotes",
                )
            return literal.value
        if literal.kind != "string":
            raise SoqlError(
                "INVALID_FIELD",
                f"\n{query.text}\nvalue of filter criterion for field '{name}' must be of type "
                "string and should be enclosed in quotes",
            )
        if kind in ("id", "reference") and resolved.names[-1] != "Type":
            full = normalise(literal.value)
            if full is None:
                raise SoqlError(
                    "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {literal.value}"
                )
            return full
        return literal.value

    # -- running --------------------------------------------------------------------------------

    def run(
        self, text: str, user: str, *, batch_size: int, version: str, include_deleted: bool
    ) -> dict[str, Any]:
        """Execute a query and return its first page (the `query` resource body)."""
        plan = self.plan(text, user, include_deleted=include_deleted, version=version)
        store = self.store
        with store.lock:
            matched = [r for r in store.iter_records(plan.sobject.name) if plan.predicate(r)]
            matched = _sorted(matched, plan.order)
            offset = plan.query.offset or 0
            matched = matched[offset:]
            if plan.query.limit is not None:
                matched = matched[: plan.query.limit]
            if plan.query.count_only:
                return {"totalSize": len(matched), "done": True, "records": []}
            ids = [r["Id"] for r in matched]
        cursor = _Cursor(store.ids.new("QueryLocator"), plan.sobject, plan, ids, user)
        return self._page(cursor, 0, batch_size, version)

    def drop_cursors(self) -> int:
        """Forget every open query cursor, as Salesforce did with locators left idle for 15
        minutes (before API 56.0; now when they expire after 2 days): the next `nextRecordsUrl`
        of any of them is `INVALID_QUERY_LOCATOR`. Returns how many were open."""
        with self._lock:
            count = len(self._cursors) + len(self._child_cursors)
            self._cursors.clear()
            self._child_cursors.clear()
        return count

    def more(self, locator: str, user: str, *, batch_size: int, version: str) -> dict[str, Any]:
        """The page of an open cursor at `locator` (`01g...-2000`)."""
        cursor_id, _, start_text = locator.partition("-")
        with self._lock:
            cursor = self._cursors.get(cursor_id) or self._child_cursors.get(cursor_id)
            if cursor is not None and cursor.parent is None:
                # the parent moves on: the child results of its previous page are gone
                for key in [k for k, c in self._child_cursors.items() if c.parent == cursor_id]:
                    del self._child_cursors[key]
        if cursor is None or cursor.user != user or not start_text.isdigit():
            raise SoqlError("INVALID_QUERY_LOCATOR", "invalid query locator")
        if cursor.parent is not None:
            batch_size = CHILD_BATCH
        return self._page(cursor, int(start_text), batch_size, version)

    def _page(self, cursor: _Cursor, start: int, batch_size: int, version: str) -> dict[str, Any]:
        store = self.store
        plan = cursor.plan
        if plan.long_texts >= 2:
            batch_size = min(batch_size, LONG_TEXT_BATCH)
        records: list[dict[str, Any]] = []
        rows = 0
        position = start
        with store.lock:
            table = store.table(plan.sobject.name)
            while position < len(cursor.ids) and (rows < batch_size or not records):
                record = table.get(cursor.ids[position])
                position += 1
                if record is None:
                    continue
                rendered, child_rows = self._render(plan, record, version, cursor)
                if records and rows + 1 + child_rows > batch_size:
                    position -= 1
                    break
                records.append(rendered)
                rows += 1 + child_rows
        body: dict[str, Any] = {"totalSize": len(cursor.ids), "done": position >= len(cursor.ids)}
        with self._lock:
            if cursor.parent is not None:
                if body["done"]:
                    self._child_cursors.pop(cursor.locator, None)
                else:
                    body["nextRecordsUrl"] = (
                        f"/services/data/v{version}/query/{cursor.locator}-{position}"
                    )
            elif body["done"]:
                self._cursors.pop(cursor.locator, None)
            else:
                self._cursors[cursor.locator] = cursor
                self._cursors.move_to_end(cursor.locator)
                mine = [k for k, c in self._cursors.items() if c.user == cursor.user]
                for stale in mine[: max(0, len(mine) - MAX_OPEN_CURSORS)]:
                    del self._cursors[stale]
                body["nextRecordsUrl"] = (
                    f"/services/data/v{version}/query/{cursor.locator}-{position}"
                )
        body["records"] = records
        return body

    def _render(
        self, plan: _Plan, record: dict[str, Any], version: str, cursor: _Cursor
    ) -> tuple[dict[str, Any], int]:
        out = _attributes(plan.sobject.name, record["Id"], version)
        for resolved in plan.fields:
            _put(out, resolved, record, version)
        child_rows = 0
        for rel_name, child_plan, ref_field in plan.children:
            ids = self.store.child_ids(child_plan.sobject.name, ref_field, record["Id"])
            table = self.store.table(child_plan.sobject.name)
            kids = [table[i] for i in ids if i in table and child_plan.predicate(table[i])]
            kids = _sorted(kids, child_plan.order)
            if child_plan.query.limit is not None:
                kids = kids[: child_plan.query.limit]
            if not kids:
                out[rel_name] = None
                continue
            rendered = [
                self._render(child_plan, kid, version, cursor)[0] for kid in kids[:CHILD_BATCH]
            ]
            result: dict[str, Any] = {"totalSize": len(kids), "done": len(kids) <= CHILD_BATCH}
            if not result["done"]:
                result["nextRecordsUrl"] = self._child_cursor(
                    child_plan, [k["Id"] for k in kids], cursor, version
                )
            result["records"] = rendered
            out[rel_name] = result
            child_rows += len(rendered)
        return out, child_rows

    def _child_cursor(self, plan: _Plan, ids: list[str], parent: _Cursor, version: str) -> str:
        """Keep the rest of a subquery result for its `nextRecordsUrl`."""
        locator = self.store.ids.new("QueryLocator")
        cursor = _Cursor(locator, plan.sobject, plan, ids, parent.user, parent=parent.locator)
        with self._lock:
            self._child_cursors[locator] = cursor
            while len(self._child_cursors) > MAX_CHILD_CURSORS:
                self._child_cursors.popitem(last=False)
        return f"/services/data/v{version}/query/{locator}-{CHILD_BATCH}"


def _is_custom_long_text(sobject: SObjectDef, name: str) -> bool:
    definition = sobject.field(name)
    return (
        definition is not None
        and definition.custom
        and definition.type == "textarea"
        and definition.length > 255
    )


def _attributes(sobject: str, record_id: str, version: str) -> dict[str, Any]:
    return {
        "attributes": {
            "type": sobject,
            "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}",
        }
    }


def _name_field(store: Store, name: str) -> Callable[[str], Any]:
    """The getter of the `Name` object's field `name` from a polymorphic parent's id: its
    object (`Type`), its id, or its record's field (null where its object lacks it: a queue's
    `Alias`; `NameOrAlias`, its Name, else its Alias)."""
    if name == "Type":
        return object_of
    if name == "Id":
        return lambda target: target

    def value(target: str) -> Any:
        found = store.get(target)
        if found is None:
            return None
        row = found[1]
        if name == "NameOrAlias":
            return row.get("Name") or row.get("Alias")
        return row.get(name)

    return value


def render_value(kind: str, value: Any) -> Any:
    """A stored value as the REST API returns it."""
    if value is None:
        return None
    if kind == "datetime":
        return format_datetime(int(value))
    if kind in ("double", "currency", "percent"):
        return float(value)
    return value


def _put(out: dict[str, Any], resolved: Resolved, record: dict[str, Any], version: str) -> None:
    value = render_value(resolved.kind, resolved.getter(record))
    if resolved.via is None:
        out[resolved.names[0]] = value
        return
    *rel_names, leaf = resolved.names
    assert resolved.parents is not None
    ids = resolved.parents(record)
    node = out
    for depth, rel_name in enumerate(rel_names):
        if depth >= len(ids):
            node[rel_name] = None  # no parent there: the relationship is null, nothing past it
            return
        parent = node.get(rel_name)
        if parent is None:
            target_id = ids[depth]
            # A polymorphic parent (Who, What) is typed `Name`; its url names the real object.
            parent = _attributes(object_of(target_id) or "", target_id, version)
            if resolved.polymorphic and depth == len(rel_names) - 1:
                parent["attributes"]["type"] = "Name"
            node[rel_name] = parent
        node = parent
    node[leaf] = value


def _sorted(
    records: list[dict[str, Any]], order: list[tuple[Resolved, OrderKey]]
) -> list[dict[str, Any]]:
    """Records in ORDER BY order: one stable sort per key, least significant first."""
    ordered = records
    for resolved, key in reversed(order):
        get = resolved.getter
        nulls = [r for r in ordered if get(r) is None]
        values = [r for r in ordered if get(r) is not None]
        sort_key = _folded(get) if resolved.kind not in ("id", "reference") else get

        values.sort(key=sort_key, reverse=key.descending)
        ordered = values + nulls if key.nulls_last else nulls + values
    return ordered


def _folded(get: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """A sort key comparing text case-insensitively, as Salesforce orders it."""

    def key(record: dict[str, Any]) -> Any:
        value = get(record)
        return value.lower() if isinstance(value, str) else value

    return key


def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _date_range(literal: tuple[str, int], now: int, kind: str) -> tuple[Any, Any]:  # noqa: PLR0912  one branch per SOQL date literal
    """[start, end) of a relative date literal, in the field's stored form."""
    word, n = literal
    today = from_epoch(now).date()
    day = dt.timedelta(days=1)
    if word == "TODAY":
        start, end = today, today + day
    elif word == "YESTERDAY":
        start, end = today - day, today
    elif word == "TOMORROW":
        start, end = today + day, today + 2 * day
    elif word == "LAST_N_DAYS":
        start, end = today - n * day, today + day
    elif word == "NEXT_N_DAYS":
        start, end = today + day, today + (n + 1) * day
    elif word == "N_DAYS_AGO":
        start, end = today - n * day, today - (n - 1) * day
    elif word == "LAST_90_DAYS":
        start, end = today - 90 * day, today + day
    elif word in ("THIS_WEEK", "LAST_WEEK"):
        monday = today - dt.timedelta(days=today.weekday())
        if word == "LAST_WEEK":
            monday -= 7 * day
        start, end = monday, monday + 7 * day
    elif word in ("THIS_MONTH", "LAST_MONTH", "LAST_N_MONTHS"):
        first = today.replace(day=1)
        months = {"THIS_MONTH": 0, "LAST_MONTH": 1, "LAST_N_MONTHS": n}[word]
        year, month = first.year, first.month - months
        while month < 1:
            month += 12
            year -= 1
        start = dt.date(year, month, 1)
        if word == "THIS_MONTH":
            end = first + dt.timedelta(days=calendar.monthrange(first.year, first.month)[1])
        else:
            end = first
    else:  # THIS_YEAR, LAST_YEAR
        year = today.year - (1 if word == "LAST_YEAR" else 0)
        start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if kind == "date":
        return start.isoformat(), end.isoformat()
    return (
        to_epoch(dt.datetime.combine(start, dt.time(), dt.UTC)),
        to_epoch(dt.datetime.combine(end, dt.time(), dt.UTC)),
    )
