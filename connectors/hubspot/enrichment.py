"""Engagement and company context for pages of contacts, read at HubSpot's batch sizes.

A model's meetings, calls and `company.<property>` values live on other objects, reached
through associations. Read per page of 100 contacts, that is one association call and at least
one batch read per source and page: four calls per 100 contacts for meetings and calls. Here
pages are held in groups of `GROUP` (1,000) contacts, the v4 associations batch size, and both
kinds of read go through queues shared across groups: the contacts' associations 1,000 a call
per source, then the associated records 100 a call. Only full batches are sent while reading
goes on; the remainder waits for the next group's ids (a group of 1,050 contacts, which a
chain's last partial page can make, sends 1,000 now and its last 50 with the next group), so a
group's pages leave when every association and record they need has been read (normally the
next group's reads complete them). When more than `HELD_GROUPS` groups wait (ids that trickle
in, such as a few new companies per group, can leave a batch unfilled for the whole read), the
partial batches go, so at most `HELD_GROUPS + 1` groups are held whatever the read's size, at
the cost of at most one partial batch per source per `HELD_GROUPS + 1` groups (associations go
early only when the oldest group waits for them, as when few contacts of each group need any;
in a full read the unread ones are the newest group's, which the next group completes). When
the pages end, the last partial batches go. A full read of N contacts with meetings and calls
then costs `2 x ceil(N / 1000)` association calls plus `ceil(activities / 100)` reads, and at
most one more read per source per 5,000 contacts.

Companies are read once per `Enricher` (one `iter_pages`), whichever group first needs them.
Pages keep their order and their cursors, so resuming after any page reads nothing twice.

Records the engine has already scored at their current version (`ReadHints.scored`) get
neither events nor company values: they will not be scored again. A contact whose rollup gates
(`hs_analytics_num_page_views`, `num_conversion_events`) hold the values they had when the model
last scored it (`ReadHints.stored`) has had no page view or form submission since: its web
events come from that stored scoring, without an Events API call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from connectors.errors import MissingPermission, SourceUnavailable
from connectors.hubspot.associations import (
    ASSOCIATION_BATCH,
    BATCH_READ,
    Link,
    primary,
    read_associations,
    read_records,
)
from connectors.hubspot.engagement import ACTIVITY_TYPES, Engagement
from connectors.hubspot.forms import FormNames
from connectors.hubspot.values import parse_time
from scoring.types import Event, Record

__all__ = [
    "COMPANY_FIX",
    "COMPANY_PREFIX",
    "COMPANY_READS",
    "GROUP",
    "HELD_GROUPS",
    "Enriched",
    "Enricher",
    "Wanted",
    "company_fields",
]

GROUP = ASSOCIATION_BATCH
#: Groups of pages held waiting for partial batches before those batches are sent anyway.
HELD_GROUPS = 4
COMPANY_PREFIX = "company."
#: The source of `company.<property>` values, and what to do when HubSpot refuses it.
COMPANY_READS = (
    "HubSpot's company reads for company context (contact -> company associations, "
    "company batch reads and searches)"
)
COMPANY_FIX = (
    "grant crm.objects.companies.read to the app (the private app's scopes, or the OAuth "
    "app's scopes and a reinstall), or remove those rules"
)


@contextmanager
def company_reads() -> Iterator[None]:
    """Reads of company context: a 403 there becomes `SourceUnavailable` naming the source,
    the `company.` prefix (the engine adds the rules that read it) and the fix."""
    try:
        yield
    except SourceUnavailable:
        raise
    except MissingPermission as exc:
        raise SourceUnavailable(
            f"{COMPANY_READS} refused access ({exc})",
            source=COMPANY_READS,
            fix=COMPANY_FIX,
            fields=(COMPANY_PREFIX,),
        ) from None


COMPANIES = "companies"

Raw = dict[str, Any]
S = TypeVar("S")


def company_fields(fields: Iterable[str]) -> tuple[list[str], list[str]]:
    """`fields` split into the contact's own properties and the company properties named by
    `company.<property>` (without the prefix)."""
    own: list[str] = []
    company: list[str] = []
    for name in fields:
        if name.startswith(COMPANY_PREFIX) and len(name) > len(COMPANY_PREFIX):
            company.append(name[len(COMPANY_PREFIX) :])
        else:
            own.append(name)
    return own, sorted(set(company))


@dataclass(frozen=True)
class Wanted:
    """What an `Enricher` fetches: the canonical event types, the company properties (without
    `company.`), per event type the oldest occurrence worth asking for, the engine's test of
    versions already scored, the modification property of the records, and the engine's
    stored scoring inputs."""

    event_types: Collection[str] = ()
    company_properties: Sequence[str] = ()
    events_since: Mapping[str, datetime] = field(default_factory=dict)
    scored: Callable[[Sequence[tuple[str, datetime | None]]], Collection[str]] | None = None
    modified: str = "lastmodifieddate"
    stored: Callable[[Sequence[str]], Mapping[str, Record]] | None = None


@dataclass
class Enriched(Generic[S]):
    """One page of raw records with what was fetched for them."""

    results: list[Raw]
    state: S | None
    events: dict[str, list[Event]] = field(default_factory=dict)
    company: dict[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass
class _Group(Generic[S]):
    pages: list[Enriched[S]]
    waiting: int = 0  # associated records not read yet, one per waiting contact
    linking: int = 0  # contacts whose associations are not read yet
    company_of: dict[str, str] = field(default_factory=dict)
    # each contact's event list (the very list its page holds)
    events_of: dict[str, list[Event]] = field(default_factory=dict)
    web: list[Future[tuple[str, list[Event]]]] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [str(r["id"]) for page in self.pages for r in page.results]


class Enricher(Generic[S]):
    """Groups pages, reads their associations and associated records in full batches."""

    def __init__(self, engagement: Engagement, pool: Executor, wanted: Wanted) -> None:
        self._engagement = engagement
        self._api = engagement.api
        self._pool = pool
        self._event_types = frozenset(wanted.event_types)
        self._activities = [t for t in ACTIVITY_TYPES if t in self._event_types]
        self._company_properties = list(wanted.company_properties)
        self._events_since = dict(wanted.events_since)
        self._scored = wanted.scored
        self._stored = wanted.stored
        self._modified = wanted.modified
        self._companies: dict[str, Mapping[str, Any]] = {}
        #: contacts given company values so far (what `company_changes` need not read again)
        self.enriched: set[str] = set()
        self._forms = FormNames(self._api)  # form names of this read, asked once each
        # unread ids per object type, in arrival order, and who waits for each
        self._queue: dict[str, dict[str, list[tuple[_Group[S], list[Event]]]]] = {}
        # the sources associations are read from, and the contacts whose associations are not
        # read yet (from every source alike), in arrival order
        self._sources = [*map(_object_type, self._activities)] + (
            [COMPANIES] if self._company_properties else []
        )
        self._links: list[tuple[str, _Group[S]]] = []

    def know(self, companies: Mapping[str, Mapping[str, Any]]) -> None:
        """Take `companies`' properties as read (no batch read for them)."""
        self._companies.update(companies)

    @property
    def active(self) -> bool:
        """Whether anything beyond the contacts' own properties is fetched."""
        return bool(self._event_types or self._company_properties)

    def pages(self, raw: Iterable[tuple[list[Raw], S | None]]) -> Iterator[Enriched[S]]:
        """The pages of `raw`, in order, each with its events and company values."""
        held: deque[_Group[S]] = deque()
        group: list[Enriched[S]] = []
        size = 0
        for results, state in raw:
            group.append(Enriched(list(results), state))
            size += len(results)
            if size >= GROUP:
                held.append(self._start(group))
                group, size = [], 0
                # Ids that trickle in (companies already read stay cached) may never fill a
                # batch: past HELD_GROUPS, the partial batches go, so memory stays bounded. The
                # associations go early only when the oldest group waits for them (few of its
                # contacts need any: an incremental read of mostly scored records); when every
                # group brings 1,000 more, the unread ones are the newest group's.
                final = len(held) > HELD_GROUPS
                self._read_links(final=final and held[0].linking > 0)
                self._read(final=final)
                yield from self._release(held)
        if group:
            held.append(self._start(group))
        self._read_links(final=True)
        self._read(final=True)
        yield from self._release(held)

    # -- one group ------------------------------------------------------------------------

    def _start(self, pages: list[Enriched[S]]) -> _Group[S]:
        group: _Group[S] = _Group(pages)
        events_of = group.events_of
        for page in pages:
            events = page.events
            for record in page.results:
                record_id = str(record["id"])
                events[record_id] = events_of[record_id] = []
        needed = self._needed(group)
        if not needed:
            return group
        if self._company_properties:
            self.enriched.update(needed)
        records = {str(r["id"]): r for page in pages for r in page.results}
        self._start_web(group, records, needed)
        if self._sources:
            self._links.extend((i, group) for i in needed)
            group.linking += len(needed)
        return group

    def _start_web(
        self, group: _Group[S], records: Mapping[str, Raw], needed: Sequence[str]
    ) -> None:
        """Web events of the group's contacts with activity: from their stored scoring when
        their rollup gates did not move since, else one Events API read each."""
        web = self._engagement.web_types(self._event_types)
        active = [i for i in needed if web and self._engagement.needs_web(records[i], web)]
        stored = self._stored(active) if self._stored is not None and active else {}
        since = self._web_since(web) if active else None
        for record_id in active:
            previous = stored.get(record_id)
            if previous is not None and self._engagement.unchanged(
                records[record_id], previous, web
            ):
                group.events_of[record_id].extend(
                    e for e in previous.events if e.type in web and (since is None or e.at >= since)
                )
            else:
                group.web.append(
                    self._pool.submit(
                        self._engagement.web_events,
                        record_id,
                        web,
                        since,
                        self._forms,
                    )
                )

    def _needed(self, group: _Group[S]) -> list[str]:
        ids = group.ids()
        if self._scored is None or not ids:
            return ids
        modified = self._modified
        versions = [
            (
                str(r["id"]),
                parse_time((r.get("properties") or {}).get(modified))
                or parse_time(r.get("updatedAt")),
            )
            for page in group.pages
            for r in page.results
        ]
        done = set(self._scored(versions))
        return [i for i in ids if i not in done]

    def _web_since(self, web: Sequence[str]) -> datetime | None:
        bounds = [self._events_since.get(t) for t in web]
        if any(b is None for b in bounds):
            return None
        return min(b for b in bounds if b is not None)

    def _wait(self, group: _Group[S], object_type: str, object_id: str, contact: str) -> None:
        group.waiting += 1
        waiters = self._queue.setdefault(object_type, {}).get(object_id)
        if waiters is None:
            self._queue[object_type][object_id] = waiters = []
        waiters.append((group, group.events_of[contact]))

    # -- the shared read queues -----------------------------------------------------------

    def _read_links(self, *, final: bool) -> None:
        """Read the associations of every full batch of 1,000 queued contacts per source (and
        with `final`, the rest too), and queue the associated records they name. Groups share
        these calls as they share the record reads: a group of 1,050 contacts sends 1,000 now
        and its last 50 with the next group's first 950, so a full read costs
        `ceil(N / 1000)` association calls per source whatever the sizes of its pages."""
        queued = self._links
        full = len(queued) if final else len(queued) - len(queued) % ASSOCIATION_BATCH
        chunks = [
            queued[start : start + ASSOCIATION_BATCH] for start in range(0, full, ASSOCIATION_BATCH)
        ]
        del queued[:full]
        jobs = [(object_type, chunk) for chunk in chunks for object_type in self._sources]
        if not jobs:
            return
        found_links = self._pool.map(
            lambda job: self._links_of(job[0], dict.fromkeys(c for c, _ in job[1])), jobs
        )
        for chunk in chunks:
            for _, group in chunk:
                group.linking -= 1
        for (object_type, chunk), links in zip(jobs, found_links, strict=True):
            for contact, group in chunk:
                found = links.get(contact, ())
                if object_type != COMPANIES:
                    for link in found:
                        self._wait(group, object_type, link.to_id, contact)
                    continue
                company = primary(found)
                if company is None:
                    continue
                group.company_of[contact] = company
                if company not in self._companies:
                    self._wait(group, COMPANIES, company, contact)

    def _read(self, *, final: bool) -> None:
        """Read every full batch of 100 queued ids (and with `final`, the rest too)."""
        jobs: list[tuple[str, list[str]]] = []
        for object_type, queued in self._queue.items():
            ids = list(queued)
            full = len(ids) if final else len(ids) - len(ids) % BATCH_READ
            jobs += [
                (object_type, ids[start : start + BATCH_READ])
                for start in range(0, full, BATCH_READ)
            ]
        if not jobs:
            return
        for (object_type, chunk), found in zip(
            jobs, self._pool.map(lambda job: self._fetch(*job), jobs), strict=True
        ):
            queued = self._queue[object_type]
            activity = object_type != COMPANIES
            for object_id in chunk:
                waiters = queued.pop(object_id, ())
                props = found.get(object_id)
                event = None
                if props is not None:
                    if activity:
                        event = self._engagement.activity_event(object_type, props)
                    else:
                        self._companies[object_id] = props
                for group, events in waiters:
                    group.waiting -= 1
                    if event is not None:
                        events.append(event)

    def _links_of(self, object_type: str, contacts: Collection[str]) -> dict[str, list[Link]]:
        if object_type != COMPANIES:
            return read_associations(self._api, "contacts", object_type, contacts)
        with company_reads():
            return read_associations(self._api, "contacts", object_type, contacts)

    def _fetch(self, object_type: str, ids: list[str]) -> dict[str, Raw]:
        if object_type != COMPANIES:
            names = self._engagement.activity_properties(object_type)
            return read_records(self._api, object_type, ids, names)
        with company_reads():
            return read_records(self._api, object_type, ids, self._company_properties)

    def _release(self, held: deque[_Group[S]]) -> Iterator[Enriched[S]]:
        while held and not held[0].waiting and not held[0].linking:
            group = held.popleft()
            for future in group.web:
                record_id, events = future.result()
                group.events_of[record_id].extend(events)
            for page in group.pages:
                self._finish(page, group)
                yield page

    def _finish(self, page: Enriched[S], group: _Group[S]) -> None:
        email = self._engagement.email_types(self._event_types)
        for record in page.results:
            record_id = str(record["id"])
            events = page.events[record_id]
            if email:
                events += self._engagement.email_events(record, email)
            events.sort(key=lambda e: e.at)
            company = group.company_of.get(record_id)
            if company is not None and company in self._companies:
                page.company[record_id] = self._companies[company]


def _object_type(source: str) -> str:
    return {"meeting": "meetings", "call": "calls"}.get(source, source)
