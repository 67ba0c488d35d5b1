"""The CRM search endpoint's query language: filter groups, one sort, offsets, the 10k cap.

Semantics follow https://developers.hubspot.com/docs/api/crm/search: filters within a group are
ANDed, groups are ORed; up to 5 groups, 6 filters per group and 18 in all; one sort; `limit` up
to 200; `after` is a numeric offset and paging past 10,000 results is a 400; a request body
longer than 3,000 characters is a 400 ("A query can contain a maximum of 3,000 characters").
Values are compared by the property's type (numbers as numbers, datetimes as epoch milliseconds
given either as milliseconds or ISO-8601, everything else as case-insensitive text).
"""

from __future__ import annotations

import bisect
import json
import operator as op
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.hubspot.store import Row, Table
from sandbox.hubspot.values import parse_datetime_ms, parse_number

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_LIMIT = 200
MAX_RESULTS = 10_000
#: The longest request body (in characters) a search takes.
MAX_BODY_CHARS = 3000
TEXT_QUERY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("firstname", "lastname", "email", "phone", "company"),
    "companies": ("name", "domain", "website", "phone"),
    "meetings": ("hs_meeting_title", "hs_meeting_body"),
    "calls": ("hs_call_title", "hs_call_body"),
}

Predicate = Callable[[Row], bool]


class SearchError(ValueError):
    """A malformed search request; the message is what HubSpot's 400 says."""


def body_problem(body: bytes) -> str | None:
    """Why a search request body is refused for its length, or None (the limit counts
    characters; the message is ours: HubSpot's is not documented)."""
    chars = len(body.decode("utf-8", errors="replace"))
    if chars > MAX_BODY_CHARS:
        return (
            f"The search request body is {chars} characters long. The maximum is {MAX_BODY_CHARS}."
        )
    return None


@dataclass
class Query:
    """A parsed, validated search request."""

    groups: list[list[dict[str, Any]]]
    sort_property: str
    descending: bool
    text: str
    limit: int
    after: int
    key: str


def parse(table: Table, body: Any) -> Query:  # noqa: PLR0912  one branch per search body key
    """Validate a search body; raises SearchError with HubSpot's kind of message."""
    if not isinstance(body, dict):
        raise SearchError("Invalid input JSON on line 1, column 1: Expected an object")
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise SearchError(f"Too many filter groups: {len(groups)}. The maximum is {MAX_GROUPS}.")
    parsed: list[list[dict[str, Any]]] = []
    count = 0
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise SearchError("filterGroups[].filters must be a list")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(
                f"Too many filters in a group: {len(filters)}. "
                f"The maximum is {MAX_FILTERS_PER_GROUP}."
            )
        count += len(filters)
        for item in filters:
            _check_filter(table, item)
        parsed.append(filters)
    if count > MAX_FILTERS:
        raise SearchError(f"Too many filters: {count}. The maximum is {MAX_FILTERS}.")
    sorts = body.get("sorts") or []
    if len(sorts) > 1:
        raise SearchError("Only one sort is allowed.")
    sort_property, descending = "hs_object_id", False
    if sorts:
        sort = sorts[0]
        if isinstance(sort, str):
            descending = sort.startswith("-")
            sort_property = sort.lstrip("-")
        elif isinstance(sort, dict):
            sort_property = str(sort.get("propertyName", ""))
            descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
        if sort_property not in table.props:
            raise SearchError(f"Property '{sort_property}' does not exist")
    limit = _integer(body.get("limit", 10), "limit")
    if limit < 0 or limit > MAX_LIMIT:
        raise SearchError(f"limit must be between 0 and {MAX_LIMIT}, was {limit}")
    after = _integer(body.get("after") or 0, "after")
    text = str(body.get("query") or "").strip().casefold()
    return Query(
        parsed,
        sort_property,
        descending,
        text,
        limit,
        after,
        _key(parsed, sort_property, descending=descending, text=text),
    )


def _key(
    groups: list[list[dict[str, Any]]],
    sort_property: str,
    *,
    descending: bool,
    text: str,
) -> str:
    return json.dumps([groups, sort_property, descending, text], sort_keys=True, default=str)


def _integer(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SearchError(f"{name} must be an integer, was {value!r}") from None


_OPERATORS = frozenset(
    {
        "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
        "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
    }
)  # fmt: skip


def _check_filter(table: Table, item: Any) -> None:
    if not isinstance(item, dict):
        raise SearchError("filters[] must be objects")
    name = item.get("propertyName")
    operator = item.get("operator")
    if operator not in _OPERATORS:
        raise SearchError(f"Unknown operator {operator!r}; use one of {sorted(_OPERATORS)}")
    if name not in table.props:
        raise SearchError(f"Property '{name}' does not exist")
    if operator in ("IN", "NOT_IN") and not isinstance(item.get("values"), list):
        raise SearchError(f"Operator {operator} requires 'values'")
    if operator == "BETWEEN" and ("value" not in item or "highValue" not in item):
        raise SearchError("Operator BETWEEN requires 'value' and 'highValue'")
    if operator not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY", "IN", "NOT_IN") and "value" not in item:
        raise SearchError(f"Operator {operator} requires 'value'")


def _converter(table: Table, name: str) -> Callable[[Any], Any]:
    kind = table.props[name].type
    if name == "hs_object_id" or kind == "number":

        def number(value: Any) -> Any:
            result = parse_number(value)
            if result is None:
                raise SearchError(f"{value} is not a valid number for '{name}'")
            return result

        return number
    if kind in ("datetime", "date"):

        def moment(value: Any) -> Any:
            result = parse_datetime_ms(value)
            if result is None:
                raise SearchError(f"{value} is not a valid datetime for '{name}'")
            return result

        return moment
    return lambda value: str(value).casefold()


def _stored(table: Table, name: str) -> Callable[[Row], Any]:
    """Reads a row's value in the form filters compare (number, ms or folded text)."""
    kind = table.props[name].type
    raw = table.raw
    if name == "hs_object_id":
        return lambda row: row.id
    if kind == "number":
        return lambda row: parse_number(raw(row, name))

    if kind in ("datetime", "date"):
        return lambda row: raw(row, name)

    def text(row: Row) -> Any:
        value = raw(row, name)
        return None if value is None else str(value).casefold()

    return text


def _predicate(table: Table, item: dict[str, Any]) -> Predicate:
    name = item["propertyName"]
    operator = item["operator"]
    get = _stored(table, name)
    if operator == "HAS_PROPERTY":
        return lambda row: get(row) not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return lambda row: get(row) in (None, "")
    convert = _converter(table, name)
    if operator in ("IN", "NOT_IN"):
        wanted = frozenset(convert(value) for value in item["values"])
        if operator == "IN":
            return lambda row: get(row) in wanted
        return lambda row: get(row) not in wanted
    value = convert(item["value"])
    if operator == "EQ":
        return lambda row: get(row) == value
    if operator == "NEQ":
        return lambda row: get(row) != value
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(value).strip("*")

        def contains(row: Row) -> bool:
            got = get(row)
            return got is not None and token in str(got)

        if operator == "CONTAINS_TOKEN":
            return contains
        return lambda row: not contains(row)
    if operator == "BETWEEN":
        high = convert(item["highValue"])
        return lambda row: (got := get(row)) is not None and value <= got <= high
    compare = {"LT": op.lt, "LTE": op.le, "GT": op.gt, "GTE": op.ge}[operator]
    return lambda row: (got := get(row)) is not None and compare(got, value)


def _modified_range(table: Table, filters: list[dict[str, Any]]) -> tuple[int, int] | None:
    """The [low, high] modification-time range a group's filters imply, if any."""
    low, high = None, None
    for item in filters:
        if item["propertyName"] not in table.modified_props:
            continue
        operator = item["operator"]
        if operator not in ("EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"):
            continue
        value = parse_datetime_ms(item.get("value"))
        if value is None:
            continue
        if operator in ("EQ", "GT", "GTE", "BETWEEN"):
            low = value if low is None else max(low, value)
        if operator == "BETWEEN":
            top = parse_datetime_ms(item.get("highValue"))
            if top is not None:
                high = top if high is None else min(high, top)
        if operator in ("EQ", "LT", "LTE"):
            high = value if high is None else min(high, value)
    if low is None and high is None:
        return None
    return (low if low is not None else -(2**62), high if high is not None else 2**62)


class Searcher:
    """Runs queries against one table, caching the ordered result ids of recent queries so
    paging through one query costs a slice per page while the table is unchanged."""

    def __init__(self, table: Table, cache_size: int = 16) -> None:
        self.table = table
        self._cache: OrderedDict[tuple[str, int], list[int]] = OrderedDict()
        self._cache_size = cache_size

    def matching_ids(self, query: Query) -> list[int]:
        """Every matching live record id, in the query's order. Caller holds the store lock."""
        table = self.table
        cache_key = (query.key, table.version)
        cached = self._cache.get(cache_key)
        if cached is not None:
            self._cache.move_to_end(cache_key)
            return cached
        after_id = self._after_id(query)
        if after_id is not None:
            # Paging by id (`hs_object_id GT last id`, by id ascending): the matches without
            # that filter, found once while the table is unchanged, cut where ids pass it.
            base, bound, strict = after_id
            ids = self.matching_ids(base)
            cut = bisect.bisect_right if strict else bisect.bisect_left
            return ids[cut(ids, bound) :]
        groups = [[_predicate(table, item) for item in group] for group in query.groups]
        text_predicate = self._text_predicate(query.text)
        ranges = [_modified_range(table, group) for group in query.groups]
        rows = table.rows
        if groups and all(r is not None for r in ranges):
            low = min(r[0] for r in ranges if r is not None)
            high = max(r[1] for r in ranges if r is not None)
            index = table.by_modified
            start = bisect.bisect_left(index, (low, -1))
            stop = bisect.bisect_right(index, (high, 2**62))
            candidates = [rows[id_] for _, id_ in index[start:stop]]
            order = "modified"
        else:
            candidates = [rows[id_] for id_ in table.ids]
            order = "id"
        result = [
            row
            for row in candidates
            if not row.archived
            and (not groups or any(all(p(row) for p in group) for group in groups))
            and (text_predicate is None or text_predicate(row))
        ]
        sort = query.sort_property
        natural = (sort == "hs_object_id" and order == "id") or (
            sort in table.modified_props and order == "modified"
        )
        if not natural:
            get = _stored(table, sort)
            if sort == "hs_object_id":
                result.sort(key=lambda row: row.id)
            else:
                result.sort(key=lambda row: (get(row) is None, get(row) or 0, row.id))
        if query.descending:
            result.reverse()
        ids = [row.id for row in result]
        self._cache[cache_key] = ids
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return ids

    def _after_id(self, query: Query) -> tuple[Query, float, bool] | None:
        """For one filter group holding one `hs_object_id` GT/GTE number, sorted by id
        ascending: (the query without that filter, the number, whether GT)."""
        if len(query.groups) != 1 or query.sort_property != "hs_object_id" or query.descending:
            return None
        group = query.groups[0]
        found = [
            item
            for item in group
            if item["propertyName"] == "hs_object_id" and item["operator"] in ("GT", "GTE")
        ]
        if len(found) != 1:
            return None
        bound = _converter(self.table, "hs_object_id")(found[0]["value"])
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            return None
        rest = [[item for item in group if item is not found[0]]]
        base = Query(
            rest,
            query.sort_property,
            query.descending,
            query.text,
            query.limit,
            query.after,
            _key(rest, query.sort_property, descending=query.descending, text=query.text),
        )
        return base, bound, found[0]["operator"] == "GT"

    def _text_predicate(self, text: str) -> Predicate | None:
        if not text:
            return None
        table = self.table
        names = [n for n in TEXT_QUERY_PROPERTIES[table.object_type] if n in table.props]

        def matches(row: Row) -> bool:
            for name in names:
                value = table.raw(row, name)
                if value is not None and text in str(value).casefold():
                    return True
            return False

        return matches
