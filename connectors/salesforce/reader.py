"""Reading leads and contacts page by page, with their activity, resumably.

Two modes, one cursor (`ReadCursor`, JSON in `Page.cursor`):

* incremental (`since` given): `WHERE IsConverted = false AND SystemModstamp >= since - overlap
  ORDER BY SystemModstamp, Id` (`overlap` defaults to 0: the sync engine already starts `since`
  its own `read.overlap` before the watermark). Resuming from a cursor `(stamp, id)` uses the
  tiebreak `SystemModstamp > stamp OR (SystemModstamp = stamp AND Id > id)`, so records sharing
  one timestamp (a bulk update stamps thousands alike) are neither skipped nor read twice.
  Activity comes through child subqueries (`(SELECT ... FROM Tasks ...)`), and, for objects
  without a child relationship (EmailMessageRelation) or read at a newer API version than the
  connector's (ListEmailSentResult, 67.0), one query per page for its ids. A
  subquery result of a very active record holds only a first batch of children (Salesforce
  returns about 200 with `"done": false` and its own `nextRecordsUrl`); the rest is fetched
  through that URL, one counted call per further batch, before the next page is asked for (the
  parent's next page invalidates the child cursors).
* full (`since` None): `ORDER BY Id`, resuming with `Id > id`. Activity comes through direct
  queries of each activity object ordered by parent id and merge-joined with the lead pages, so
  memory stays one page per stream however many records there are and every page holds 2,000
  rows; only EmailStatus, which Salesforce serves solely as the `EmailStatuses` subquery, rides
  in the record query (its rows count toward the page's 2,000).

Only the fields the model references, the leadsync outputs planning compares
(`connectors.outputs.PLANNING_OUTPUTS`: no long text areas, which would cap pages at 200 rows)
and the system fields the cursor and echo suppression need are selected. Converted leads
(read-only in Salesforce) are left out, unless the caller asks for `IsConverted` itself
(backtests label leads by it).

Echo suppression (incremental reads only): a record last modified by the integration user,
with no later system change, whose inputs hash as they did when leadsync last wrote it, changed
only by leadsync's own write; it is skipped.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Page
from connectors.errors import MissingPermission, PermanentError
from connectors.outputs import PLANNING_OUTPUTS
from connectors.salesforce.activity import (
    EMAIL_EVENTS,
    ActivitySource,
    merge_events,
    parse_datetime,
    row_value,
    sources_for,
)
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.errors import QueryLocatorExpired
from connectors.salesforce.fields import api_name, output_keys, sobject_of
from connectors.salesforce.first_pages import FirstPages, FirstQuery
from connectors.salesforce.list_email import ListEmailDiscovery
from connectors.salesforce.queries import id_filter, quote, select, soql_datetime, subquery
from scoring.types import Event, Record

SYSTEM_FIELDS = ("Id", "SystemModstamp", "LastModifiedDate", "LastModifiedById")
IDS_PER_QUERY = 200  # ids in one `IN (...)` filter (the query is part of a GET URL)
#: One record's activity rows, each with the source that maps it to events.
Children = list[tuple[ActivitySource, Mapping[str, Any]]]


@dataclass(frozen=True)
class ReadCursor:
    """Where a read stands: `full` by last id, or `incremental` by (SystemModstamp, id)."""

    mode: str
    last_id: str | None = None
    stamp: str | None = None

    def encode(self) -> str:
        """The opaque `Page.cursor` string."""
        return json.dumps({"v": 1, "mode": self.mode, "id": self.last_id, "stamp": self.stamp})

    @classmethod
    def decode(cls, text: str) -> ReadCursor:
        """Parse a cursor from `encode`; PermanentError when it is not one."""
        try:
            data = json.loads(text)
            mode = data["mode"]
            if mode not in ("full", "incremental") or data.get("v") != 1:
                raise ValueError(mode)
            return cls(mode, data.get("id"), data.get("stamp"))
        except (ValueError, KeyError, TypeError):
            raise PermanentError(f"not a Salesforce read cursor: {text[:80]!r}") from None


def read_mode(since: datetime | None, resume: str | None) -> str:
    """`full` or `incremental`: the mode of the read `resume` continues, else a new read's
    (incremental when it has a `since`)."""
    if resume:
        return ReadCursor.decode(resume).mode
    return "full" if since is None else "incremental"


class EchoMemory:
    """Input fingerprints of records as leadsync last wrote them.

    By default an in-process LRU of `capacity` records (about 10 MB at 50,000), so memory stays
    bounded however many records a run writes; records that fell out are simply scored again
    (no extra API call, and an unchanged score is not written). A persistent mapping can be
    given instead to remember across restarts.
    """

    def __init__(self, store: MutableMapping[str, str] | None = None, capacity: int = 50_000):
        self._store: MutableMapping[str, str] = store if store is not None else OrderedDict()
        self._capacity = capacity

    def remember(self, record_id: str, fingerprint: str) -> None:
        """Note the inputs a record had when leadsync wrote it."""
        self._store[record_id] = fingerprint
        if isinstance(self._store, OrderedDict):
            self._store.move_to_end(record_id)
            while len(self._store) > self._capacity:
                self._store.popitem(last=False)

    def matches(self, record_id: str, fingerprint: str) -> bool:
        """Whether a record's inputs are what they were at leadsync's last write."""
        return self._store.get(record_id) == fingerprint


def fingerprint(properties: Mapping[str, object]) -> str:
    """A short stable hash of a record's input values."""
    text = json.dumps(properties, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass
class _Selection:
    """What one read selects and how rows become records."""

    kind: str
    sobject: str
    model_fields: list[str]
    outputs: dict[str, str]  # api name -> canonical output name
    sources: list[ActivitySource]
    event_types: frozenset[str]

    def columns(self) -> list[str]:
        seen: dict[str, str] = {}
        for name in [*SYSTEM_FIELDS, *self.model_fields, *self.outputs]:
            seen.setdefault(name.lower(), name)
        return list(seen.values())

    def nested(self, *, full: bool) -> list[ActivitySource]:
        """Sources read as subqueries of the record query.

        Full reads nest only what cannot be queried on its own (EmailStatus), so record pages
        stay full and the rest is merge-joined; other reads nest every source that has a child
        relationship.
        """
        if full:
            return [s for s in self.sources if not s.direct]
        return [s for s in self.sources if s.relationship]

    def joined(self, *, full: bool) -> list[ActivitySource]:
        """Sources read by their own queries: merge-joined (full) or by the page's ids."""
        nested = self.nested(full=full)
        return [s for s in self.sources if s not in nested]

    def subqueries(self, days: int, *, full: bool) -> list[str]:
        return [
            subquery(
                s.fields, str(s.relationship), where=s.where(self.event_types, days), order=s.order
            )
            for s in self.nested(full=full)
        ]

    def record_of(self, row: Mapping[str, Any], children: Children) -> Record:
        """The record of a row with its activity rows as events, each send counted once."""
        return self.record(row, merge_events(children, self.event_types))

    def record(self, row: Mapping[str, Any], events: list[Event]) -> Record:
        properties = {name: row_value(row, name) for name in self.model_fields}
        outputs = {canonical: row.get(name) for name, canonical in self.outputs.items()}
        return Record(
            id=str(row["Id"]),
            kind=self.kind,
            properties=properties,
            events=tuple(sorted(events, key=lambda e: e.at)),
            updated_at=parse_datetime(row.get("SystemModstamp")),
            outputs=outputs,
        )


class Reader:
    """Streams `Page`s of records for one connector."""

    def __init__(  # noqa: PLR0913  the API and the read settings, each keyword-only
        self,
        api: SalesforceApi,
        *,
        batch_size: int = 2000,
        activity_days: int = 365,
        overlap: timedelta = timedelta(0),
        echo: EchoMemory | None = None,
        output_namespaces: Sequence[str] = (),
        checkpoint: Callable[[], None] = lambda: None,
    ) -> None:
        self.api = api
        #: called before every query call: a stop-aware one raises there (`SalesforceConnector`)
        self.checkpoint = checkpoint
        #: the outputs a read selects (planning needs them), of every model of a kind
        self.planning = output_keys(PLANNING_OUTPUTS, output_namespaces)
        self.batch_size = batch_size
        self.activity_days = activity_days
        self.overlap = overlap
        self.echo = echo or EchoMemory()
        self.echoes_skipped = 0
        self.child_pages = 0  # further batches of subquery results fetched (one call each)
        self.stats = QueryStats()
        self._describes: dict[str, dict[str, Any]] = {}
        self._recent: OrderedDict[str, str] = OrderedDict()
        #: whether and how the org offers list-email results (asked once, when needed)
        self.list_email = ListEmailDiscovery(api)

    def for_activity(self, days: int) -> Reader:
        """A reader of the same org reading `days` days of activity (describes shared)."""
        other = Reader(
            self.api,
            batch_size=self.batch_size,
            activity_days=days,
            overlap=self.overlap,
            echo=self.echo,
            checkpoint=self.checkpoint,
        )
        other._describes = self._describes
        other.stats = self.stats
        other.list_email = self.list_email
        return other

    # -- schema -------------------------------------------------------------------------------

    def describe(self, sobject: str, *, refresh: bool = False) -> dict[str, Any]:
        """The object's describe (cached per connector; `refresh` after schema changes)."""
        if refresh or sobject not in self._describes:
            self._describes[sobject] = self.api.rest("describe", f"sobjects/{sobject}/describe")
        return self._describes[sobject]

    def visible_fields(self, sobject: str) -> dict[str, dict[str, Any]]:
        """Fields the integration user can see, by lower-case name."""
        return {f["name"].lower(): f for f in self.describe(sobject)["fields"]}

    def selection(
        self, kind: str, fields: Collection[str], event_types: Collection[str]
    ) -> _Selection:
        """Check the model's fields against describe and plan the select list."""
        sobject = sobject_of(kind)
        visible = self.visible_fields(sobject)
        relationships = {
            str(f["relationshipName"]).lower()
            for f in visible.values()
            if f.get("relationshipName")
        }
        missing = []
        for name in fields:
            head = name.split(".")[0].lower()
            if ("." in name and head not in relationships) or (
                "." not in name and name.lower() not in visible
            ):
                missing.append(name)
        if missing:
            raise MissingPermission(
                f"Salesforce {sobject} has no field(s) {', '.join(sorted(missing))} visible to the "
                "integration user: check the names in the model, or grant read access to them in "
                "a permission set assigned to the integration user"
            )
        outputs = {
            visible[api_name(c).lower()]["name"]: c
            for c in self.planning
            if api_name(c).lower() in visible
        }
        extra = None
        if sobject in ("Lead", "Contact") and EMAIL_EVENTS & set(event_types):
            extra = self.list_email.access().source(event_types)
        return _Selection(
            kind,
            sobject,
            list(dict.fromkeys(fields)),
            outputs,
            sources_for(event_types, extra),
            frozenset(event_types),
        )

    # -- reading ------------------------------------------------------------------------------

    def pages(  # noqa: PLR0913  the Connector read signature plus the write reserve
        self,
        kind: str,
        fields: Collection[str],
        event_types: Collection[str],
        *,
        since: datetime | None,
        resume: str | None,
        write_reserve: int,
        first: FirstPages | None = None,
    ) -> Iterator[Page]:
        """Pages of records, each with the cursor that resumes after it (an incremental read's
        first page from `first` when its query was sent there, `incremental_query`)."""
        selection = self.selection(kind, fields, event_types)
        cursor = ReadCursor.decode(resume) if resume else None
        mode = cursor.mode if cursor is not None else read_mode(since, None)
        if mode == "incremental":
            yield from self._incremental(selection, since, cursor, write_reserve, first)
        else:
            yield from self._full(selection, cursor, write_reserve)

    def incremental_query(  # noqa: PLR0913  the read's own arguments, as `pages` takes them
        self,
        kind: str,
        fields: Collection[str],
        event_types: Collection[str],
        *,
        since: datetime | None,
        resume: str | None,
        write_reserve: int,
    ) -> FirstQuery:
        """The first query an incremental read (`pages`) sends, and the calls it needs room
        for, to send it in a composite call with others (`first_pages`)."""
        selection = self.selection(kind, fields, event_types)
        cursor = ReadCursor.decode(resume) if resume else None
        soql = self._incremental_soql(selection, self._start(since), cursor)
        return FirstQuery(soql, _incremental_page_calls(selection, write_reserve))

    def _start(self, since: datetime | None) -> str | None:
        return soql_datetime((since - self.overlap).astimezone(UTC)) if since is not None else None

    def _incremental_soql(
        self, selection: _Selection, start: str | None, position: ReadCursor | None
    ) -> str:
        if position and position.stamp and position.last_id:
            where = (
                f"(SystemModstamp > {position.stamp} OR (SystemModstamp = {position.stamp} "
                f"AND Id > {quote(position.last_id)}))"
            )
        elif start:
            where = f"SystemModstamp >= {start}"
        else:
            where = ""
        return self._soql(selection, where, "SystemModstamp, Id", full=False)

    def _incremental(
        self,
        selection: _Selection,
        since: datetime | None,
        cursor: ReadCursor | None,
        reserve: int,
        first: FirstPages | None,
    ) -> Iterator[Page]:
        me = self.api.integration_user()
        position = cursor
        start = self._start(since)
        restarted_from: ReadCursor | None = None
        while True:
            soql = self._incremental_soql(selection, start, position)
            try:
                for rows in self.query_pages(
                    soql, _incremental_page_calls(selection, reserve), first=first
                ):
                    children_of = self._page_children(selection, rows, reserve)
                    records = []
                    for row in rows:
                        record = selection.record_of(row, children_of(row))
                        fp = fingerprint(record.properties)
                        if self._is_echo(row, me, fp):
                            self.echoes_skipped += 1
                        else:
                            records.append(record)
                            self._note(record.id, fp)
                    last = rows[-1]
                    position = ReadCursor(
                        "incremental",
                        str(last["Id"]),
                        str(last["SystemModstamp"])[:19] + "Z",
                    )
                    yield Page(records, position.encode())
                return
            except QueryLocatorExpired:
                # The server dropped its query cursor: start again from ours, once per position.
                if position is None or position == restarted_from:
                    raise
                restarted_from = position

    def _full(
        self, selection: _Selection, cursor: ReadCursor | None, reserve: int
    ) -> Iterator[Page]:
        position = cursor.last_id if cursor else None
        restarted_from: str | None = None
        while True:
            where = f"Id > {quote(position)}" if position else ""
            soql = self._soql(selection, where, "Id", full=True)
            streams = [
                _ChildStream(self, selection, source, position)
                for source in selection.joined(full=True)
            ]
            nested = selection.nested(full=True)
            try:
                for rows in self.query_pages(soql, reserve + 1 + len(streams)):
                    last_id = str(rows[-1]["Id"])
                    children = [stream.through(last_id) for stream in streams]
                    records = []
                    for row in rows:
                        pairs: Children = [
                            (stream.source, child)
                            for stream, grouped in zip(streams, children, strict=True)
                            for child in grouped.get(str(row["Id"]), [])
                        ]
                        pairs += self._nested_children(nested, row, reserve)
                        record = selection.record_of(row, pairs)
                        records.append(record)
                        self._note(record.id, fingerprint(record.properties))
                    position = last_id
                    yield Page(records, ReadCursor("full", last_id).encode())
                return
            except QueryLocatorExpired:
                if position is None or position == restarted_from:
                    raise
                restarted_from = position

    def fetch(
        self,
        kind: str,
        record_ids: list[str],
        fields: Collection[str],
        event_types: Collection[str],
    ) -> list[Record]:
        """Specific records by id, with activity through subqueries (`IDS_PER_QUERY` a query)."""
        found: dict[str, Record] = {}
        for start in range(0, len(record_ids), IDS_PER_QUERY):
            chunk = record_ids[start : start + IDS_PER_QUERY]
            where = f"Id IN ({', '.join(quote(i) for i in chunk)})"
            for records in self.records_where(kind, fields, event_types, where, converted=True):
                found.update((r.id, r) for r in records)
        return [found[i] for i in record_ids if i in found]

    def records_where(
        self,
        kind: str,
        fields: Collection[str],
        event_types: Collection[str],
        where: str,
        *,
        converted: bool = False,
    ) -> Iterator[list[Record]]:
        """Records matching the SOQL filter `where`, a query page at a time, with activity
        through subqueries (and one query per `IDS_PER_QUERY` ids of a page for sources without
        a child relationship). Converted leads only with `converted`."""
        selection = self.selection(kind, fields, event_types)
        soql = self._soql(selection, where, "Id", full=False, converted=converted)
        for rows in self.query_pages(soql, 1):
            children_of = self._page_children(selection, rows, 0)
            yield [selection.record_of(row, children_of(row)) for row in rows]

    # -- helpers ------------------------------------------------------------------------------

    def _soql(
        self,
        selection: _Selection,
        where: str,
        order: str,
        *,
        full: bool,
        converted: bool = False,
    ) -> str:
        columns = selection.columns() + selection.subqueries(self.activity_days, full=full)
        filters = [where]
        wants_converted = any(f.lower() == "isconverted" for f in selection.model_fields)
        if selection.sobject == "Lead" and not (converted or wants_converted):
            filters.insert(0, "IsConverted = false")
        return select(selection.sobject, columns, where=filters, order=order)

    def _nested_children(
        self, nested: list[ActivitySource], row: Mapping[str, Any], reserve: int
    ) -> Children:
        return [
            (source, child)
            for source in nested
            for child in self._children(row, str(source.relationship), reserve)
        ]

    def _page_children(
        self, selection: _Selection, rows: list[dict[str, Any]], reserve: int
    ) -> Callable[[Mapping[str, Any]], Children]:
        """Activity rows per row of one page: its subquery results, and one query per source
        read on its own (EmailMessageRelation, ListEmailSentResult) for all the page's ids."""
        nested = selection.nested(full=False)
        by_parent: list[tuple[ActivitySource, dict[str, list[dict[str, Any]]]]] = []
        ids = [str(row["Id"]) for row in rows]
        for source in selection.joined(full=False):
            parent = source.parent_field(selection.sobject)
            grouped: dict[str, list[dict[str, Any]]] = {}
            # A query travels in the URL: at most IDS_PER_QUERY ids keep it far below the limit.
            for start in range(0, len(ids), IDS_PER_QUERY):
                soql = select(
                    source.sobject,
                    [parent, *source.fields],
                    where=[
                        source.parent_filter(selection.sobject),
                        source.where(selection.event_types, self.activity_days),
                        id_filter(parent, ids[start : start + IDS_PER_QUERY]),
                    ],
                    order=f"{parent}, {source.order}, Id",
                )
                for children in self.query_pages(soql, reserve + 1, version=source.version):
                    for child in children:
                        grouped.setdefault(str(child[parent]), []).append(child)
            by_parent.append((source, grouped))

        def children_of(row: Mapping[str, Any]) -> Children:
            pairs = self._nested_children(nested, row, reserve)
            for source, grouped in by_parent:
                pairs += [(source, child) for child in grouped.get(str(row["Id"]), [])]
            return pairs

        return children_of

    def first_pages(self, queries: Sequence[FirstQuery]) -> FirstPages:
        """The first pages of `queries` (independent of each other's answers, at most
        `client.MAX_COMPOSITE_QUERIES`) from one composite call, for `query_pages` to take
        (`connectors.salesforce.first_pages`); the share must hold the largest of their
        `calls_needed` first, and `checkpoint` is called before it as before any query call."""
        self.api.budget.require(max(q.calls_needed for q in queries), "reading the next page")
        self.checkpoint()
        soqls = [q.soql for q in queries]
        answers = self.api.queries(soqls, batch_size=self.batch_size)
        self.stats.calls_minimum += 1
        return FirstPages(zip(soqls, answers, strict=True))

    def query_pages(
        self,
        soql: str,
        calls_needed: int,
        *,
        version: str | None = None,
        first: FirstPages | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Row lists of a query's pages (sent at API `version`, default the configured one;
        its `nextRecordsUrl` keeps that version; the first page taken from `first` when the
        query was sent there); refuses a repeated `nextRecordsUrl`."""
        stats = self.stats
        result = first.take(soql) if first is not None and version is None else None
        if result is None:
            self.api.budget.require(calls_needed, "reading the next page")
            self.checkpoint()
            result = self.api.query(soql, batch_size=self.batch_size, version=version)
            stats.calls_minimum += 1
        stats.queries += 1
        seen: set[str] = set()
        rows_of_query = 0
        while True:
            rows = list(result.get("records") or [])
            rows_of_query += _rows_with_children(rows)
            if rows:
                yield rows
            next_url = result.get("nextRecordsUrl")
            if result.get("done", True) or not next_url:
                stats.rows += rows_of_query
                stats.calls_minimum += max(0, math.ceil(rows_of_query / self.batch_size) - 1)
                return
            if next_url in seen:
                raise PermanentError(f"Salesforce repeated the query page {next_url}; stopping")
            seen.add(next_url)
            self.api.budget.require(calls_needed, "reading the next page")
            self.checkpoint()
            result = self.api.query_more(next_url, batch_size=self.batch_size)

    def _children(
        self, row: Mapping[str, Any], relationship: str, reserve: int
    ) -> list[dict[str, Any]]:
        """Every child row of one subquery result, following its own `nextRecordsUrl`."""
        result: Mapping[str, Any] = row.get(relationship) or {}
        children = list(result.get("records") or [])
        seen: set[str] = set()
        while not result.get("done", True) and result.get("nextRecordsUrl"):
            next_url = str(result["nextRecordsUrl"])
            if next_url in seen:
                raise PermanentError(f"Salesforce repeated the query page {next_url}; stopping")
            seen.add(next_url)
            self.api.budget.require(reserve + 1, f"reading more {relationship} of {row.get('Id')}")
            self.checkpoint()
            result = self.api.query_more(next_url, batch_size=self.batch_size)
            children += result.get("records") or []
            self.child_pages += 1
        return children

    def _is_echo(self, row: Mapping[str, Any], me: str, fp: str) -> bool:
        return (
            bool(me)
            and row.get("LastModifiedById") == me
            and row.get("LastModifiedDate") == row.get("SystemModstamp")
            and self.echo.matches(str(row["Id"]), fp)
        )

    def _note(self, record_id: str, fp: str) -> None:
        self._recent[record_id] = fp
        self._recent.move_to_end(record_id)
        while len(self._recent) > 3 * self.batch_size:
            self._recent.popitem(last=False)

    def noted(self, records: Collection[Record]) -> None:
        """Note the inputs of records read by filter, so that writing them is remembered for
        echo suppression as for the records of `pages`."""
        for record in records:
            self._note(record.id, fingerprint(record.properties))

    def written(self, record_id: str) -> None:
        """Remember the inputs of a record leadsync just wrote (for echo suppression)."""
        fp = self._recent.get(record_id)
        if fp is not None:
            self.echo.remember(record_id, fp)


class _ChildStream:
    """One activity object's rows ordered by parent id, pulled page by page as leads advance."""

    def __init__(
        self, reader: Reader, selection: _Selection, source: ActivitySource, after_id: str | None
    ) -> None:
        self.source = source
        self.parent = source.parent_field(selection.sobject)
        filters = [
            source.parent_filter(selection.sobject),
            source.where(selection.event_types, reader.activity_days),
            f"{self.parent} > {quote(after_id)}" if after_id else "",
        ]
        soql = select(
            source.sobject,
            [self.parent, *source.fields],
            where=filters,
            order=f"{self.parent}, {source.order}, Id",
        )
        self._pages = reader.query_pages(soql, 1, version=source.version)
        self._rows: list[dict[str, Any]] = []
        self._index = 0
        self._done = False

    def _head(self) -> dict[str, Any] | None:
        while self._index >= len(self._rows):
            if self._done:
                return None
            try:
                self._rows, self._index = next(self._pages), 0
            except StopIteration:
                self._done = True
                return None
        return self._rows[self._index]

    def through(self, last_id: str) -> dict[str, list[dict[str, Any]]]:
        """Rows of parents up to `last_id` (ids compare as Salesforce orders them), by parent."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        while (row := self._head()) is not None and str(row[self.parent]) <= last_id:
            grouped.setdefault(str(row[self.parent]), []).append(row)
            self._index += 1
        return grouped


@dataclass
class QueryStats:
    """Queries sent, the rows they returned (subquery children included) and the fewest calls
    those rows need at the batch size (one at least per query): what benches compare calls
    against. Readers of one connector share it."""

    queries: int = 0
    rows: int = 0
    calls_minimum: int = 0


def _rows_with_children(rows: list[dict[str, Any]]) -> int:
    """Rows of one query page, each subquery result's rows counted too (as Salesforce counts
    them toward the batch size)."""
    total = len(rows)
    for row in rows:
        for value in row.values():
            if isinstance(value, dict) and isinstance(value.get("records"), list):
                total += len(value["records"])
    return total


def pages_needed(count: int, per_call: int) -> int:
    """Calls to move `count` items `per_call` at a time."""
    return math.ceil(count / per_call) if count else 0


def _incremental_page_calls(selection: _Selection, reserve: int) -> int:
    """Calls one page of an incremental read needs room for in the daily share: its query,
    one per activity object queried on its own for the page, and the writes reserved."""
    return reserve + 1 + len(selection.joined(full=False))
