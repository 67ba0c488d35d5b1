"""`HubSpotConnector`: the `connectors.base.Connector` for HubSpot (contacts and companies)."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from connectors.base import (
    ApiUsage,
    Change,
    MemberRequest,
    OutputField,
    Page,
    SchemaReport,
    WriteResult,
)
from connectors.errors import PermanentError
from connectors.hubspot import schema
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.associations import ASSOCIATION_BATCH
from connectors.hubspot.cursor import FullState, IncrementalState, decode, encode
from connectors.hubspot.deals import won_deals
from connectors.hubspot.engagement import Engagement, helper_properties
from connectors.hubspot.members import attach_members, changed_companies
from connectors.hubspot.options import HubSpotOptions
from connectors.hubspot.reading import ObjectSpec, check_results, read_full, read_incremental
from connectors.hubspot.values import OUTPUT_TYPES, PREFIX, crm_name, parse_time
from connectors.hubspot.writing import BATCH_SIZE, LIFECYCLE, KnownValues, write_changes
from scoring.types import Record

__all__ = ["KINDS", "HubSpotConnector"]

KINDS: Mapping[str, ObjectSpec] = {
    "contact": ObjectSpec("contact", "contacts", "lastmodifieddate"),
    "company": ObjectSpec("company", "companies", "hs_lastmodifieddate"),
}
OUTPUT_PROPERTIES = tuple(crm_name(name) for name in OUTPUT_TYPES)


#: (HubSpot property, canonical output name) of every leadsync output property.
_OUTPUT_NAMES = tuple((name, name[len(PREFIX) :]) for name in OUTPUT_PROPERTIES)


class HubSpotConnector:
    """Reads and scores-back HubSpot contacts and companies through `hubspot-api-client`.

    `options` says how to reach the account (`HubSpotOptions`). OAuth access tokens are
    refreshed before they expire and once after a 401. `daily_used` is how many calls this
    connection already made today in earlier processes (the sync engine passes its stored
    count), so the daily cap survives restarts.
    """

    crm = "hubspot"
    # API calls, the budget and the known-values cache are thread-safe (reads already run on
    # several threads)
    concurrent_writes = True

    def __init__(
        self,
        options: HubSpotOptions,
        *,
        daily_used: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = HubSpotApi(options, sleep=sleep, clock=clock, daily_used=daily_used)
        self._overlap_ms = int(options.overlap_s * 1000)
        self._workers = max(1, options.workers)
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="hubspot")
        self._engagement = Engagement(self._api, self._pool)
        self._known = KnownValues()

    def __repr__(self) -> str:
        return f"HubSpotConnector(tier_limit={self._api.window.limit})"

    @staticmethod
    def _spec(kind: str) -> ObjectSpec:
        spec = KINDS.get(kind)
        if spec is None:
            raise PermanentError(f"HubSpot has no record kind {kind!r}; use one of {sorted(KINDS)}")
        return spec

    # -- schema ---------------------------------------------------------------------------

    def ensure_schema(
        self, kind: str, outputs: Sequence[OutputField], *, apply: bool
    ) -> SchemaReport:
        """Verify (and with `apply`, create) the `leadsync` group and output properties."""
        report = schema.ensure_schema(self._api, self._spec(kind).object_type, outputs, apply=apply)
        return SchemaReport(kind=kind, fields=report.fields, actions=report.actions)

    # -- reading --------------------------------------------------------------------------

    def _properties(
        self, spec: ObjectSpec, fields: Collection[str], event_types: Collection[str]
    ) -> list[str]:
        names = set(fields) | set(OUTPUT_PROPERTIES) | {spec.modified}
        names |= helper_properties(spec.kind, event_types)
        if spec.kind == "contact":
            names.add(LIFECYCLE)
        return sorted(names)

    def iter_pages(  # noqa: PLR0913  the Connector protocol read signature
        self,
        kind: str,
        fields: Collection[str],
        event_types: Collection[str],
        *,
        since: datetime | None,
        resume: str | None = None,
        members: MemberRequest | None = None,
    ) -> Iterator[Page]:
        """Stream records of `kind`: a full read when `since` is None, else modified since then.

        Full reads use the list endpoint, incremental reads search on the modification date
        from `since - overlap_s`; `Page.cursor` resumes after its page (`resume=`). With
        `members` (companies), every company carries its contacts, and an incremental read
        then also yields the companies one of whose contacts changed since `since - overlap_s`
        (pages without a cursor: a run stopped among them reads from `since` again).
        """
        spec = self._spec(kind)
        properties = self._properties(spec, fields, event_types)
        state = decode(resume, spec.object_type) if resume else None
        raw: Iterator[tuple[list[dict[str, Any]], Any]]
        low: int | None = None
        if since is not None:
            low = int(since.timestamp() * 1000) - self._overlap_ms
        if isinstance(state, IncrementalState) or (state is None and low is not None):
            if state is None:
                assert low is not None
                state = IncrementalState(spec.object_type, low, 0)
            raw = read_incremental(self._api, spec, properties, state)
        else:
            assert state is None or isinstance(state, FullState)
            raw = read_full(self._api, spec, properties, state, max_chains=self._workers)
            low = None
        pages = (
            Page(
                self._records(spec, results, set(fields), event_types),
                encode(next_state) if next_state is not None else None,
            )
            for results, next_state in raw
        )
        if members is None or kind != "company":
            yield from pages
            return
        seen: set[str] = set()
        yield from self._with_members(pages, members, seen)
        if low is not None:
            changed = self._changed_pages(low, seen, fields, event_types)
            yield from self._with_members(changed, members, seen)

    def _with_members(
        self, pages: Iterable[Page], members: MemberRequest, seen: set[str]
    ) -> Iterator[Page]:
        """Pages of companies with their contacts, attached for 1,000 companies at a time (one
        association batch read, full batch reads of contacts); `seen` collects their ids."""
        buffer: list[Page] = []
        count = 0
        for page in pages:
            buffer.append(page)
            count += len(page.records)
            if count >= ASSOCIATION_BATCH:
                yield from self._attach(buffer, members, seen)
                buffer, count = [], 0
        if buffer:
            yield from self._attach(buffer, members, seen)

    def _attach(self, buffer: list[Page], members: MemberRequest, seen: set[str]) -> Iterator[Page]:
        records = [record for page in buffer for record in page.records]
        attached = iter(attach_members(self._api, records, members))
        for page in buffer:
            with_people = [next(attached) for _ in page.records]
            seen.update(r.id for r in with_people)
            yield Page(with_people, page.cursor)

    def _changed_pages(
        self, low: int, seen: set[str], fields: Collection[str], event_types: Collection[str]
    ) -> Iterator[Page]:
        """Pages (without cursors) of companies not yet read whose contacts changed since `low`."""
        for ids in changed_companies(self._api, low):
            fresh = [i for i in ids if i not in seen]
            for start in range(0, len(fresh), BATCH_SIZE):
                chunk = fresh[start : start + BATCH_SIZE]
                yield Page(self.fetch("company", chunk, fields, event_types), None)

    def _records(
        self,
        spec: ObjectSpec,
        results: Sequence[dict[str, Any]],
        fields: set[str],
        event_types: Collection[str],
    ) -> list[Record]:
        events = self._engagement.events(spec.kind, results, event_types) if event_types else {}
        records = []
        known: list[tuple[str, dict[str, Any]]] = []
        kind, modified = spec.kind, spec.modified
        contact = kind == "contact"
        names = tuple(fields)
        for item in results:
            rid = str(item["id"])
            props: dict[str, Any] = item.get("properties") or {}
            get = props.get
            owned = {name: get(name) for name in OUTPUT_PROPERTIES}
            outputs = {
                short: value
                for name, short in _OUTPUT_NAMES
                if (value := owned[name]) is not None and value != ""
            }
            if contact:
                owned[LIFECYCLE] = get(LIFECYCLE)
            known.append((rid, owned))
            updated = parse_time(get(modified)) or parse_time(item.get("updatedAt"))
            records.append(
                Record(
                    rid,
                    kind,
                    {name: get(name) for name in names},
                    tuple(events[rid]) if rid in events else (),
                    updated,
                    outputs,
                )
            )
        self._known.remember_many(known)
        return records

    def fetch(
        self,
        kind: str,
        record_ids: Sequence[str],
        fields: Collection[str],
        event_types: Collection[str],
        members: MemberRequest | None = None,
    ) -> list[Record]:
        """Read specific records by id through batch read (100 a call); unknown ids are skipped.

        With `members` (companies), each company carries its contacts."""
        spec = self._spec(kind)
        properties = self._properties(spec, fields, event_types)
        records: list[Record] = []
        for start in range(0, len(record_ids), BATCH_SIZE):
            chunk = list(record_ids[start : start + BATCH_SIZE])
            data = self._api.call(
                "objects.batch_read",
                self._api.objects_batch.read,
                spec.object_type,
                {"inputs": [{"id": i} for i in chunk], "properties": properties},
                check=check_results,
            ).data
            records += self._records(spec, data["results"], set(fields), event_types)
        order = {rid: n for n, rid in enumerate(record_ids)}
        records.sort(key=lambda r: order.get(r.id, len(order)))
        if members is not None and kind == "company":
            return attach_members(self._api, records, members)
        return records

    # -- writing --------------------------------------------------------------------------

    def won_deals(self, kind: str, ids: Sequence[str]) -> dict[str, datetime | None]:
        """The companies among `ids` with a won deal and their earliest won close date
        (`connectors.won_deals.WonDealReader`; `connectors.hubspot.deals`)."""
        if kind != "company":
            raise PermanentError(f"HubSpot keeps won deals on companies, not on {kind} records")
        return won_deals(self._api, ids)

    def write(self, kind: str, changes: Sequence[Change]) -> list[WriteResult]:
        """Write output values with batch updates of 100; one result per change, in order."""
        return write_changes(self._api, self._pool, self._spec(kind), changes, self._known)

    # -- housekeeping ---------------------------------------------------------------------

    @property
    def usage(self) -> ApiUsage:
        """Calls made so far, by endpoint (`"<endpoint> 429"` counts rate refusals)."""
        return self._api.usage

    def close(self) -> None:
        """Stop the worker threads and close the connection pools."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._api.close()
