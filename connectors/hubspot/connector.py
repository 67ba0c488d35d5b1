"""`HubSpotConnector`: the `connectors.base.Connector` for HubSpot (contacts and companies)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from connectors.base import (
    ApiUsage,
    CallMeter,
    Change,
    MemberRequest,
    OutputField,
    Page,
    ReadHints,
    SchemaReport,
    WriteJournal,
    WriteResult,
)
from connectors.dayzone import AccountZone
from connectors.errors import PermanentError
from connectors.history import PropertyHistories
from connectors.hubspot import schema
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.associations import ASSOCIATION_BATCH
from connectors.hubspot.company_changes import changed_companies_since, people_of
from connectors.hubspot.cursor import FullState, IncrementalState, decode, encode
from connectors.hubspot.deals import won_deals
from connectors.hubspot.engagement import Engagement, gates, helper_properties
from connectors.hubspot.enrichment import (
    COMPANY_PREFIX,
    Enriched,
    Enricher,
    Wanted,
    company_fields,
    company_reads,
)
from connectors.hubspot.history import read_history
from connectors.hubspot.members import attach_members, changed_companies
from connectors.hubspot.options import HubSpotOptions
from connectors.hubspot.reading import ObjectSpec, batch_read_page, read_full, read_incremental
from connectors.hubspot.values import parse_time
from connectors.hubspot.writing import (
    BATCH_SIZE,
    LIFECYCLE,
    KnownValues,
    output_map,
    write_changes,
)
from connectors.property_names import PropertyNames
from scoring.types import Record, new_record

__all__ = ["KINDS", "HubSpotConnector"]

KINDS: Mapping[str, ObjectSpec] = {
    "contact": ObjectSpec("contact", "contacts", "lastmodifieddate"),
    "company": ObjectSpec("company", "companies", "hs_lastmodifieddate"),
}


def _cursor(state: FullState | IncrementalState | None) -> str | None:
    return encode(state) if state is not None else None


class HubSpotConnector:
    """Reads and scores-back HubSpot contacts and companies through `hubspot-api-client`.

    `options` says how to reach the account (`HubSpotOptions`). OAuth access tokens are
    refreshed before they expire and once after a 401. `daily_used` is how many calls this
    connection already made today in earlier processes (the sync engine passes its stored
    count), so the daily cap survives restarts; `zone` is the account's time zone when an
    earlier process learned it (then it is not asked again).
    """

    crm = "hubspot"
    # API calls, the budget and the known-values cache are thread-safe (reads already run on
    # several threads)
    concurrent_writes = True

    def __init__(  # noqa: PLR0913  options, seeds and test seams, keyword-only
        self,
        options: HubSpotOptions,
        *,
        daily_used: int = 0,
        zone: AccountZone | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        meter: CallMeter | None = None,
    ) -> None:
        self._api = HubSpotApi(
            options, sleep=sleep, clock=clock, daily_used=daily_used, zone=zone, meter=meter
        )
        self._outputs = output_map(options.output_namespaces)
        #: (HubSpot property, canonical output name) of every output property read
        self._output_names = tuple((name, key) for key, (name, _) in self._outputs.items())
        self._overlap_ms = int(options.overlap_s * 1000)
        self._workers = max(1, options.workers)
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="hubspot")
        self._engagement = Engagement(self._api)
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

    def property_names(self, kind: str) -> PropertyNames:
        """The names of `kind`'s properties (HubSpot matches names exactly)."""
        names = schema.list_properties(self._api, self._spec(kind).object_type)
        return PropertyNames(kind, frozenset(names), case_sensitive=True)

    # -- reading --------------------------------------------------------------------------

    def _properties(
        self, spec: ObjectSpec, fields: Collection[str], event_types: Collection[str]
    ) -> list[str]:
        own, _ = self._split(spec, fields)
        names = set(own) | {name for name, _ in self._output_names} | {spec.modified}
        names |= helper_properties(spec.kind, event_types)
        if spec.kind == "contact":
            names.add(LIFECYCLE)
        return sorted(names)

    @staticmethod
    def _names(
        spec: ObjectSpec, fields: Collection[str], event_types: Collection[str]
    ) -> tuple[str, ...]:
        """The properties a record carries: the model's, and its engagement gates."""
        extra = sorted(gates(spec.kind, event_types) - set(fields))
        return (*fields, *extra)

    def catch_up(self, recorded: int) -> None:
        """Count at least `recorded` calls against `daily_budget` today: every process's calls
        the state store holds (`connectors.daily_catch_up`)."""
        self._api.daily.catch_up(recorded)

    def engagement_gates(self, kind: str, event_types: Collection[str]) -> frozenset[str]:
        """Contacts' rollup counters of Events API activity (`hs_analytics_num_page_views`,
        `num_conversion_events`), carried in each contact's properties: a contact whose
        counters did not move since its stored scoring needs no Events API call
        (`connectors.engagement_gates`)."""
        return gates(self._spec(kind).kind, event_types)

    @staticmethod
    def _split(spec: ObjectSpec, fields: Collection[str]) -> tuple[list[str], list[str]]:
        """The record's own properties and, for contacts, the `company.<property>` names."""
        if spec.kind != "contact":
            return list(fields), []
        return company_fields(fields)

    def _enricher(
        self,
        spec: ObjectSpec,
        fields: Collection[str],
        event_types: Collection[str],
        hints: ReadHints | None,
    ) -> Enricher[FullState | IncrementalState | None]:
        _, company = self._split(spec, fields)
        contact = spec.kind == "contact"
        wanted = Wanted(
            event_types=event_types if contact else (),
            company_properties=company,
            events_since=hints.events_since if hints else {},
            scored=hints.scored if hints else None,
            modified=spec.modified,
            stored=hints.stored if hints else None,
        )
        return Enricher(self._engagement, self._pool, wanted)

    def iter_pages(  # noqa: PLR0913  the Connector protocol read signature
        self,
        kind: str,
        fields: Collection[str],
        event_types: Collection[str],
        *,
        since: datetime | None,
        resume: str | None = None,
        hints: ReadHints | None = None,
        members: MemberRequest | None = None,
    ) -> Iterator[Page]:
        """Stream records of `kind`: a full read when `since` is None, else modified since then.

        Full reads use the list endpoint, incremental reads search on the modification date
        from `since - overlap_s`; `Page.cursor` resumes after its page (`resume=`). Contacts'
        events and `company.<property>` values are read for groups of pages at the API's batch
        sizes (`connectors.hubspot.enrichment`), except for records `hints.scored` names. With
        `members` (companies), every company carries its contacts, and an incremental read
        then also yields the companies one of whose contacts changed since `since - overlap_s`
        (pages without a cursor: a run stopped among them reads from `since` again). An
        incremental read of contacts whose model names `company.<property>` ends with the
        contacts not read yet of the companies modified since `since - overlap_s`
        (`connectors.hubspot.company_changes`; `Page.rescore` pages without a cursor).
        """
        spec = self._spec(kind)
        properties = self._properties(spec, fields, event_types)
        state = decode(resume, spec.object_type) if resume else None
        raw: Iterator[tuple[list[dict[str, Any]], FullState | IncrementalState | None]]
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
        enricher = self._enricher(spec, fields, event_types, hints)
        names = self._names(spec, fields, event_types)
        enriched: Iterable[Enriched[FullState | IncrementalState | None]] = (
            enricher.pages(raw) if enricher.active else (Enriched(r, s) for r, s in raw)
        )
        pages: Iterable[Page] = (
            Page(self._records(spec, e, names), _cursor(e.state)) for e in enriched
        )
        if members is None or kind != "company":
            yield from pages
            if isinstance(state, IncrementalState) and spec.kind == "contact":
                yield from self._company_changes(
                    state.t, enricher.enriched, fields, event_types, hints
                )
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

    def _company_changes(
        self,
        since_ms: int,
        read: Collection[str],
        fields: Collection[str],
        event_types: Collection[str],
        hints: ReadHints | None,
    ) -> Iterator[Page]:
        """`Page.rescore` pages of the contacts not in `read` of the companies modified at or
        after `since_ms` (not by our own write alone) and of the companies whose leadsync result
        changed (`ReadHints.account_results`), with their events and company values."""
        spec = KINDS["contact"]
        _, company = self._split(spec, fields)
        results = hints.account_results() if hints and hints.account_results else None
        if not company and not (results and results.values):
            return
        seen = hints.accounts_seen if hints is not None else None
        stored = hints.stored if hints is not None else None
        # the company searches and associations serve `company.` values: a 403 names them
        with company_reads() if company else nullcontext():
            changed = changed_companies_since(self._api, since_ms, company, seen) if company else {}
            people = people_of(self._api, changed, read, company, stored, results=results)
        if not people:
            return
        # every one of them is scored again: their events and company values are all needed
        unscored = dataclasses.replace(hints, scored=None) if hints is not None else None
        enricher = self._enricher(spec, fields, event_types, unscored)
        enricher.know(changed)
        names = self._names(spec, fields, event_types)
        raw = self._batch_read(spec, people, self._properties(spec, fields, event_types))
        for page in enricher.pages(raw):
            yield Page(self._records(spec, page, names), None, rescore=True)

    def _batch_read(
        self, spec: ObjectSpec, record_ids: Sequence[str], properties: Sequence[str]
    ) -> Iterator[tuple[list[dict[str, Any]], None]]:
        """Raw pages of `record_ids` by batch read, 100 a call (unknown ids are left out)."""
        for start in range(0, len(record_ids), BATCH_SIZE):
            chunk = record_ids[start : start + BATCH_SIZE]
            yield batch_read_page(self._api, spec.object_type, chunk, properties), None

    def _records(self, spec: ObjectSpec, page: Enriched[Any], names: Sequence[str]) -> list[Record]:
        events, companies = page.events, page.company
        records = []
        known: list[tuple[str, dict[str, Any]]] = []
        kind, modified = spec.kind, spec.modified
        contact = kind == "contact"
        skip = len(COMPANY_PREFIX)
        output_names = self._output_names
        owned_names = [name for name, _ in output_names]
        # `company.<property>` names take the company's value, whatever the contact holds
        from_company = [
            (name, name[skip:]) for name in names if contact and name.startswith(COMPANY_PREFIX)
        ]
        for item in page.results:
            rid = str(item["id"])
            props: dict[str, Any] = item.get("properties") or {}
            get = props.get
            owned = dict(zip(owned_names, map(get, owned_names), strict=True))
            outputs = {
                short: value
                for name, short in output_names
                if (value := owned[name]) is not None and value != ""
            }
            if contact:
                owned[LIFECYCLE] = get(LIFECYCLE)
            known.append((rid, owned))
            updated = parse_time(get(modified)) or parse_time(item.get("updatedAt"))
            values = dict(zip(names, map(get, names), strict=True))
            if from_company:
                company = companies.get(rid)
                for name, short in from_company:
                    values[name] = company.get(short) if company is not None else None
            records.append(
                new_record(
                    rid,
                    kind,
                    values,
                    tuple(events[rid]) if rid in events else (),
                    updated,
                    outputs,
                    (),
                    None,
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
        enricher = self._enricher(spec, fields, event_types, None)
        names = self._names(spec, fields, event_types)
        raw = self._batch_read(spec, record_ids, properties)
        records = [
            record
            for page in (
                enricher.pages(raw) if enricher.active else (Enriched(r, s) for r, s in raw)
            )
            for record in self._records(spec, page, names)
        ]
        order = {rid: n for n, rid in enumerate(record_ids)}
        records.sort(key=lambda r: order.get(r.id, len(order)))
        if members is not None and kind == "company":
            return attach_members(self._api, records, members)
        return records

    def property_history(
        self, kind: str, ids: Sequence[str], properties: Sequence[str]
    ) -> PropertyHistories:
        """The history of `properties` for the records `ids` (`connectors.history.HistoryReader`):
        batch reads with `propertiesWithHistory`, 50 records a call (`hubspot.history`)."""
        return read_history(self._api, self._spec(kind).object_type, ids, properties)

    # -- writing --------------------------------------------------------------------------

    def won_deals(self, kind: str, ids: Sequence[str]) -> dict[str, datetime | None]:
        """The companies among `ids` with a won deal and their earliest won close date
        (`connectors.won_deals.WonDealReader`; `connectors.hubspot.deals`)."""
        if kind != "company":
            raise PermanentError(f"HubSpot keeps won deals on companies, not on {kind} records")
        return won_deals(self._api, ids)

    def write_parts(self, changes: Sequence[Change]) -> list[Sequence[Change]]:
        """Batches of 100, as `write` sends them."""
        return [changes[i : i + BATCH_SIZE] for i in range(0, len(changes), BATCH_SIZE)]

    def write(
        self, kind: str, changes: Sequence[Change], *, journal: WriteJournal | None = None
    ) -> list[WriteResult]:
        """Write output values with batch updates of 100; one result per change, in order.
        HubSpot's batch updates are synchronous: no job outlives a call, so no `journal`."""
        del journal
        return write_changes(
            self._api, self._pool, self._spec(kind), changes, self._known, outputs=self._outputs
        )

    # -- housekeeping ---------------------------------------------------------------------

    @property
    def usage(self) -> ApiUsage:
        """Calls made so far, by endpoint (`"<endpoint> 429"` counts rate refusals)."""
        return self._api.usage

    def account_zone(self) -> AccountZone | None:
        """The account's time zone (its daily limit resets at its midnight): the one given, or
        looked up once (one counted call); None when HubSpot would not say."""
        return self._api.account_zone()

    def close(self) -> None:
        """Stop the worker threads and close the connection pools."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._api.close()
