"""An Account's people, read for account models (`connectors.base.MemberRequest`).

The people of an Account are

* its Contacts (`Contact.AccountId`), and
* the unconverted Leads (`IsConverted = false`) matched to it by domain
  (`scoring.domains.DomainIndex`): the Lead's Email domain, else its Website domain, equal to
  the Account's Website domain or a subdomain of it; free-email domains never match, and a
  domain several Accounts share matches none of them.

Each person is read with the roll-up's properties (those an object lacks are left out: Title is
on both, Department only on Contact), leadsync's outputs (the scores the person's own model
wrote: the planning outputs, and the scores roll-ups read with each model's `scored_at`,
`MemberRequest.outputs`, a prefixed model's too, selected where the object has the field)
and their activity back to the roll-up's horizon (`MemberRequest.horizon_days`), the same
activity objects and mapping as the people's own reads (`connectors.salesforce.activity`).
`Record.link` says how each person was tied to the Account (`Contact.AccountId`, `Lead: email
domain acme.com`), which `explain` shows.

Full reads (`full_pages`): every Account page is read first (the model's fields and Website),
then every Contact and every unconverted Lead, each a full read at 2,000 rows a page with its
activity merge-joined (`Reader.pages`), keeping the people of the Accounts read (a Contact
without an Account, a Lead matching none, is dropped); then the Account pages leave, each
Account with its people. Every row is read once at the batch size: ceil(A/2000) +
ceil(C/2000) + ceil(L/2000) query calls plus the activity pages.
Matching a Lead needs every Account's domain, so the Accounts and their people are held in
memory until the last Lead is read. A read resumed from a page cursor reads the Accounts after
it, and `Id, Website` of every Account once for the domain index.

For a known set of Accounts (incremental reads, `fetch`, `explain`): their Contacts (`AccountId
IN (...)`, 200 ids a query), the unconverted Leads whose Email or Website contains one of the
Accounts' domains (`LIKE`, `LIKES_PER_QUERY` domains a query) and the Accounts whose Website
contains one of those Leads' domains or parent domains (up to the registered domain, never a
public suffix such as `co.uk`: `scoring.domains`), so each Lead is matched exactly as a full
read would match it. `changed_accounts` finds the Accounts to recompute: those with a Contact
or a matched Lead modified since (`SystemModstamp`), a converted or re-addressed Lead included.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from connectors.base import MemberRequest, Page
from connectors.errors import MissingPermission
from connectors.salesforce.fields import sobject_of
from connectors.salesforce.first_pages import FirstPages, FirstQuery
from connectors.salesforce.queries import id_filter, quote, select, soql_datetime
from connectors.salesforce.reader import IDS_PER_QUERY, Reader
from scoring.domains import DomainIndex, DomainMatch, domain_of, parent_domains
from scoring.types import Record

__all__ = ["CONTACT_LINK", "LIKES_PER_QUERY", "WEBSITE", "AccountPeople", "ReadCosts"]

WEBSITE = "Website"
CONTACT_LINK = "Contact.AccountId"
#: Domains in one `LIKE` query (three patterns each; the query travels in the URL).
LIKES_PER_QUERY = 20
_PLAIN_DOMAIN = re.compile(r"[a-z0-9.-]+")
_NO_ACCOUNTS = DomainIndex(())
T = TypeVar("T")


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class ReadCosts:
    """What the org's whole reads cost, as last measured by this connector (None: not yet):
    every Contact and Lead with their activity (`people_calls`), every Account
    (`accounts_calls`). A recomputation of known Accounts reads them that way when reading
    them one batch of Accounts at a time would cost more."""

    people_calls: int | None = None
    accounts_calls: int | None = None


class AccountPeople:
    """Reads the people of Accounts for one `MemberRequest` (see the module docstring).

    `all_accounts` reads every Account with the model's fields (one query walk, 2,000 a page);
    `costs` is shared by the connector's reads so each choice weighs what the last whole read
    cost."""

    def __init__(
        self,
        reader: Reader,
        request: MemberRequest,
        *,
        all_accounts: Callable[[], Iterable[Record]] | None = None,
        costs: ReadCosts | None = None,
    ) -> None:
        days = reader.activity_days
        if request.horizon_days is not None:
            days = max(1, min(days, int(request.horizon_days) + 1))
        self.accounts = reader
        self.people = reader.for_activity(days)
        # the scores roll-ups read and when they were written, where the object has the field
        self.people.planning = {**self.people.planning, **{k: k for k in request.outputs}}
        self.request = request
        self.event_types = sorted(request.event_types)
        self.contact_fields = self._fields("contact", ["AccountId"])
        self.lead_fields = self._fields("lead", ["Email", WEBSITE])
        self.costs = costs if costs is not None else ReadCosts()
        self._read_all_accounts = all_accounts
        self._everyone: list[Record] | None = None
        self._all_index: DomainIndex | None = None

    def _fields(self, kind: str, extra: list[str]) -> list[str]:
        """The roll-up's properties `kind` has, and `extra`; a property neither Contact nor
        Lead has is a MissingPermission (a typo, or a field the integration user cannot see)."""
        kept = [name for name in sorted(self.request.properties) if self._has(kind, name)]
        lacking = [
            name
            for name in sorted(self.request.properties)
            if not self._has("contact", name) and not self._has("lead", name)
        ]
        if lacking:
            raise MissingPermission(
                f"Salesforce Contact and Lead have no field(s) {', '.join(lacking)} visible to the "
                "integration user (the account model's members section reads them): check the "
                "names, or grant read access in a permission set assigned to the integration user"
            )
        return list(dict.fromkeys([*kept, *extra]))

    def _has(self, kind: str, name: str) -> bool:
        visible = self.accounts.visible_fields(sobject_of(kind))
        head = name.split(".", maxsplit=1)[0].lower()
        if "." not in name:
            return head in visible
        return any(str(f.get("relationshipName") or "").lower() == head for f in visible.values())

    # -- full reads ---------------------------------------------------------------------------

    def full_pages(self, account_pages: Iterable[Page], *, resumed: bool) -> Iterator[Page]:
        """`account_pages` (a full read of Accounts) with every Account's people attached."""
        before = self._calls()
        pages = list(account_pages)
        accounts = [record for page in pages for record in page.records]
        if resumed:
            index = self._index_of_all()
        else:
            self.costs.accounts_calls = self._calls() - before
            index = DomainIndex((a.id, a.properties.get(WEBSITE)) for a in accounts)
        people = self._people_of_all({record.id for record in accounts}, index)
        for page in pages:
            records = [_with(account, people.get(account.id, ())) for account in page.records]
            yield Page(records, page.cursor)

    def _people_of_all(
        self, wanted: Collection[str], index: DomainIndex
    ) -> dict[str, list[Record]]:
        """The people of the `wanted` Accounts from one full read of every Contact and every
        unconverted Lead (its cost kept in `costs.people_calls`)."""
        before = self._calls()
        people: dict[str, list[Record]] = {}
        for page in self._all("contact", self.contact_fields):
            for person in page.records:
                owner = _text(person.properties.get("AccountId"))
                if owner is not None and owner in wanted:
                    people.setdefault(owner, []).append(_linked(person, CONTACT_LINK))
        for page in self._all("lead", self.lead_fields):
            for person in page.records:
                match = _match(index, person)
                if match.account_id is not None and match.account_id in wanted:
                    people.setdefault(match.account_id, []).append(_lead(person, match))
        self.costs.people_calls = self._calls() - before
        return people

    def _calls(self) -> int:
        return self.accounts.api.usage.calls

    def _all(self, kind: str, fields: list[str]) -> Iterator[Page]:
        return self.people.pages(
            kind, fields, self.event_types, since=None, resume=None, write_reserve=0
        )

    def _index_of_all(self) -> DomainIndex:
        """Every Account's Website domain: from `all_accounts` when given (read once per
        read), else `Id, Website` of every Account with one; its cost kept in `costs`."""
        if self._all_index is not None:
            return self._all_index
        before = self._calls()
        if self._read_all_accounts is not None:
            pairs = ((a.id, a.properties.get(WEBSITE)) for a in self._all_accounts())
        else:
            soql = select("Account", ["Id", WEBSITE], where=[f"{WEBSITE} != null"], order="Id")
            pairs = (
                (str(row["Id"]), row.get(WEBSITE))
                for rows in self.accounts.query_pages(soql, 1)
                for row in rows
            )
        self._all_index = DomainIndex(pairs)
        self.costs.accounts_calls = self._calls() - before
        return self._all_index

    def _all_accounts(self) -> list[Record]:
        if self._everyone is None:
            assert self._read_all_accounts is not None
            self._everyone = list(self._read_all_accounts())
        return self._everyone

    # -- known accounts -----------------------------------------------------------------------

    def attach(self, accounts: Sequence[Record]) -> list[Record]:
        """`accounts` (read with their Website) with their people, in the same order."""
        if not accounts:
            return []
        ids = [a.id for a in accounts]
        people: dict[str, list[Record]] = {}
        for chunk in _chunks(ids, IDS_PER_QUERY):
            where = id_filter("AccountId", chunk)
            for records in self.people.records_where(
                "contact", self.contact_fields, self.event_types, where
            ):
                for person in records:
                    owner = _text(person.properties.get("AccountId"))
                    if owner is not None:
                        people.setdefault(owner, []).append(_linked(person, CONTACT_LINK))
        domains = {d for a in accounts if (d := _domain(a.properties.get(WEBSITE))) is not None}
        leads = self._leads_on(sorted(domains))
        index = self._index_for(leads)
        wanted = set(ids)
        for person in leads:
            match = _match(index, person)
            if match.account_id in wanted:
                people.setdefault(match.account_id, []).append(_lead(person, match))
        return [_with(account, people.get(account.id, ())) for account in accounts]

    def _leads_on(self, domains: Sequence[str]) -> list[Record]:
        """Unconverted Leads whose Email or Website may be on one of `domains` (a superset:
        the domain index decides)."""
        found: dict[str, Record] = {}
        for chunk in _chunks(domains, LIKES_PER_QUERY):
            patterns = []
            for domain in chunk:
                patterns += [
                    f"Email LIKE {quote('%@' + domain)}",
                    f"Email LIKE {quote('%.' + domain)}",
                    f"{WEBSITE} LIKE {quote('%' + domain + '%')}",
                ]
            where = "(" + " OR ".join(patterns) + ")"
            for records in self.people.records_where(
                "lead", self.lead_fields, self.event_types, where
            ):
                found.update((r.id, r) for r in records)
        return list(found.values())

    def _index_for(self, people: Iterable[Record]) -> DomainIndex:
        """The index of every Account that could take one of `people`: those whose Website
        contains one of their domains or parent domains (`LIKES_PER_QUERY` domains a query),
        or every Account's when that takes fewer calls (as last measured, else one)."""
        candidates: set[str] = set()
        for person in people:
            for field in ("Email", WEBSITE):
                domain = _domain(person.properties.get(field))
                if domain is not None:
                    candidates.update(parent_domains(domain))
        if self._all_index is not None or math.ceil(len(candidates) / LIKES_PER_QUERY) > (
            self.costs.accounts_calls or 1
        ):
            return self._index_of_all()
        websites: dict[str, object] = {}
        for chunk in _chunks(sorted(candidates), LIKES_PER_QUERY):
            where = "(" + " OR ".join(f"{WEBSITE} LIKE {quote('%' + d + '%')}" for d in chunk) + ")"
            soql = select("Account", ["Id", WEBSITE], where=[where], order="Id")
            for rows in self.accounts.query_pages(soql, 1):
                websites.update((str(row["Id"]), row.get(WEBSITE)) for row in rows)
        return DomainIndex(websites.items())

    def matches(self, leads: Sequence[Record]) -> dict[str, DomainMatch]:
        """Each Lead's account match (the Leads read with Email and Website)."""
        index = self._index_for(leads)
        return {lead.id: _match(index, lead) for lead in leads}

    # -- incremental reads --------------------------------------------------------------------

    def changed_queries(self, since: datetime) -> list[FirstQuery]:
        """The two queries `changed_accounts(since, ...)` starts with (the Contacts and the
        Leads modified since), to send with others in one composite call."""
        stamp = soql_datetime(since)
        contacts = select(
            "Contact",
            ["Id", "AccountId"],
            where=[f"SystemModstamp >= {stamp}", "AccountId != null"],
            order="Id",
        )
        leads = select(
            "Lead", ["Id", "Email", WEBSITE], where=[f"SystemModstamp >= {stamp}"], order="Id"
        )
        return [FirstQuery(contacts), FirstQuery(leads)]

    def changed_accounts(
        self, since: datetime, seen: Collection[str], *, first: FirstPages | None = None
    ) -> list[str]:
        """Accounts not in `seen` with a Contact or a matched Lead modified at or after
        `since` (in the order found); the first pages of its two queries from `first` when
        they were sent there (`changed_queries`)."""
        contacts, leads_query = self.changed_queries(since)
        found: dict[str, None] = {}
        for rows in self.accounts.query_pages(contacts.soql, 1, first=first):
            found.update((str(row["AccountId"]), None) for row in rows)
        rows_of_leads = [
            row
            for rows in self.accounts.query_pages(leads_query.soql, 1, first=first)
            for row in rows
        ]
        leads = [
            Record(str(r["Id"]), "lead", {"Email": r.get("Email"), WEBSITE: r.get(WEBSITE)})
            for r in rows_of_leads
        ]
        if leads:
            index = self._index_for(leads)
            for lead in leads:
                match = _match(index, lead)
                if match.account_id is not None:
                    found[match.account_id] = None
        return [account for account in found if account not in seen]

    def whole_is_cheaper(self, first: FirstPages, accounts_soql: str, since: datetime) -> bool:
        """Whether recomputing every Account from one whole read costs no more than finishing
        the incremental read whose first pages are in `first`: paging the rest of the changed
        Accounts, Contacts and Leads (`query_more` calls their totals call for), then the
        cheaper recomputation of their Accounts (`recompute`). The Accounts to recompute are
        estimated from the first pages: the changed Accounts, and the distinct Accounts of the
        first page of changed Contacts scaled to all of them (the Leads' are left out: an
        estimate that errs towards the incremental way). When most of the org changed, the
        whole read alone is the minimum: paging the changed lists first would add their pages."""
        contacts, leads = self.changed_queries(since)
        answers = [first.peek(q) for q in (accounts_soql, contacts.soql, leads.soql)]
        if any(answer is None for answer in answers):
            return False  # an answer failed or was not sent: the incremental way reads it
        rest = 0
        for answer in answers:
            assert answer is not None
            rows, total = len(answer.get("records") or ()), int(answer.get("totalSize") or 0)
            if rows and not answer.get("done", True):
                rest += math.ceil((total - rows) / rows)
        account_answer, contact_answer = answers[0], answers[1]
        assert account_answer is not None and contact_answer is not None
        changed_accounts = int(account_answer.get("totalSize") or 0)
        sample = contact_answer.get("records") or []
        owners = {str(row.get("AccountId")) for row in sample if row.get("AccountId")}
        total_contacts = int(contact_answer.get("totalSize") or 0)
        scaled = math.ceil(len(owners) * total_contacts / len(sample)) if sample else 0
        estimate = changed_accounts + scaled
        whole = self._whole_read_calls()
        by_accounts = self._by_accounts_calls(estimate, scaled)
        return whole <= rest + min(by_accounts, whole)

    # -- recomputing known Accounts -----------------------------------------------------------

    def recompute(
        self,
        changed: Sequence[Record],
        others: Sequence[str],
        fetch: Callable[[Sequence[str]], list[Record]],
    ) -> Iterator[Page]:
        """The Accounts `changed` (read already) and `others` (ids, read by `fetch`) with
        their people, `IDS_PER_QUERY` Accounts a page, in the cheaper of two ways (estimated
        before any call): by these Accounts (`attach`: their Contacts by `AccountId`, Leads by
        their domains), or, when that would take more calls than the org's whole read of
        people last took (never measured: one call per query a whole read sends), the whole
        read (every Account, Contact and Lead once at 2,000 a page, as a full run reads them)
        keeping these Accounts' people. Either way no more calls than a full read would take."""
        count = len(changed) + len(others)
        if count == 0:
            return
        if self._by_accounts_calls(count, len(others)) <= self._whole_read_calls():
            accounts = [*changed, *fetch(others)]
            for chunk in _chunks(accounts, IDS_PER_QUERY):
                yield Page(self.attach(chunk), None)
            return
        wanted = {a.id for a in changed} | set(others)
        index = self._index_of_all()
        fresh = {a.id: a for a in self._all_accounts() if a.id in wanted}
        accounts = [fresh.get(a.id, a) for a in changed] + [fresh[i] for i in others if i in fresh]
        people = self._people_of_all(wanted, index)
        for chunk in _chunks(accounts, IDS_PER_QUERY):
            yield Page([_with(account, people.get(account.id, ())) for account in chunk], None)

    def _by_accounts_calls(self, accounts: int, to_fetch: int) -> int:
        """Calls `attach` takes for `accounts` Accounts at least (each Account a domain), with
        `to_fetch` of them read by id first."""
        contact = 1 + len(self._joined("contact", self.contact_fields))
        lead = 1 + len(self._joined("lead", self.lead_fields))
        return (
            math.ceil(to_fetch / IDS_PER_QUERY)
            + math.ceil(accounts / IDS_PER_QUERY) * contact
            + math.ceil(accounts / LIKES_PER_QUERY) * lead
            + 1  # the Accounts that could take those Leads
        )

    def _whole_read_calls(self) -> int:
        """Calls of a whole read of people and Accounts: as last measured, else one per query
        it sends (Contact, Lead and each activity object merge-joined with them)."""
        people = self.costs.people_calls
        if people is None:
            people = 2 + sum(
                len(self._joined(kind, fields, full=True))
                for kind, fields in (("contact", self.contact_fields), ("lead", self.lead_fields))
            )
        return people + (self.costs.accounts_calls or 1)

    def _joined(self, kind: str, fields: list[str], *, full: bool = False) -> list[Any]:
        """Activity sources a read of `kind` queries on their own (per page, or merge-joined)."""
        return self.people.selection(kind, fields, self.event_types).joined(full=full)


def _domain(value: object) -> str | None:
    """The domain a `LIKE` may look for: none for free-email domains and public suffixes (they
    never match, and would fetch every Lead on gmail.com or co.uk) or names `LIKE` would read
    as wildcards."""
    domain = domain_of(value)
    if domain is None or not _PLAIN_DOMAIN.fullmatch(domain) or not _NO_ACCOUNTS.usable(domain):
        return None
    return domain


def _match(index: DomainIndex, person: Record) -> DomainMatch:
    props: Mapping[str, Any] = person.properties
    return index.match(props.get("Email"), props.get(WEBSITE))


def _linked(person: Record, link: str) -> Record:
    return dataclasses.replace(person, link=link)


def _lead(person: Record, match: DomainMatch) -> Record:
    return dataclasses.replace(person, link=f"Lead: {match.why}")


def _with(account: Record, people: Sequence[Record]) -> Record:
    return dataclasses.replace(account, members=tuple(people))
