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
contains one of those Leads' domains or parent domains, so each Lead is matched exactly as a full
read would match it. `changed_accounts` finds the Accounts to recompute: those with a Contact
or a matched Lead modified since (`SystemModstamp`), a converted or re-addressed Lead included.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.base import MemberRequest, Page
from connectors.errors import MissingPermission
from connectors.salesforce.fields import sobject_of
from connectors.salesforce.queries import id_filter, quote, select, soql_datetime
from connectors.salesforce.reader import IDS_PER_QUERY, Reader
from scoring.domains import DomainIndex, DomainMatch, domain_of, parent_domains
from scoring.types import Record

__all__ = ["CONTACT_LINK", "LIKES_PER_QUERY", "WEBSITE", "AccountPeople"]

WEBSITE = "Website"
CONTACT_LINK = "Contact.AccountId"
#: Domains in one `LIKE` query (three patterns each; the query travels in the URL).
LIKES_PER_QUERY = 20
_PLAIN_DOMAIN = re.compile(r"[a-z0-9.-]+")
_NO_ACCOUNTS = DomainIndex(())


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AccountPeople:
    """Reads the people of Accounts for one `MemberRequest` (see the module docstring)."""

    def __init__(self, reader: Reader, request: MemberRequest) -> None:
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
        pages = list(account_pages)
        accounts = [record for page in pages for record in page.records]
        wanted = {record.id for record in accounts}
        if resumed:
            index = self._index_of_all()
        else:
            index = DomainIndex((a.id, a.properties.get(WEBSITE)) for a in accounts)
        people: dict[str, list[Record]] = {}
        for page in self._all("contact", self.contact_fields):
            for person in page.records:
                owner = _text(person.properties.get("AccountId"))
                if owner in wanted:
                    people.setdefault(owner, []).append(_linked(person, CONTACT_LINK))
        for page in self._all("lead", self.lead_fields):
            for person in page.records:
                match = _match(index, person)
                if match.account_id in wanted:
                    people.setdefault(match.account_id, []).append(_lead(person, match))
        for page in pages:
            records = [_with(account, people.get(account.id, ())) for account in page.records]
            yield Page(records, page.cursor)

    def _all(self, kind: str, fields: list[str]) -> Iterator[Page]:
        return self.people.pages(
            kind, fields, self.event_types, since=None, resume=None, write_reserve=0
        )

    def _index_of_all(self) -> DomainIndex:
        soql = select("Account", ["Id", WEBSITE], where=[f"{WEBSITE} != null"], order="Id")
        return DomainIndex(
            (str(row["Id"]), row.get(WEBSITE))
            for rows in self.accounts.query_pages(soql, 1)
            for row in rows
        )

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
        contains one of their domains or parent domains."""
        candidates: set[str] = set()
        for person in people:
            for field in ("Email", WEBSITE):
                domain = _domain(person.properties.get(field))
                if domain is not None:
                    candidates.update(parent_domains(domain))
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

    def changed_accounts(self, since: datetime, seen: Collection[str]) -> list[str]:
        """Accounts not in `seen` with a Contact or a matched Lead modified at or after
        `since` (in the order found)."""
        stamp = soql_datetime(since)
        found: dict[str, None] = {}
        contacts = select(
            "Contact",
            ["Id", "AccountId"],
            where=[f"SystemModstamp >= {stamp}", "AccountId != null"],
            order="Id",
        )
        for rows in self.accounts.query_pages(contacts, 1):
            found.update((str(row["AccountId"]), None) for row in rows)
        leads_soql = select(
            "Lead", ["Id", "Email", WEBSITE], where=[f"SystemModstamp >= {stamp}"], order="Id"
        )
        rows_of_leads = [row for rows in self.accounts.query_pages(leads_soql, 1) for row in rows]
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


def _domain(value: object) -> str | None:
    """The domain a `LIKE` may look for: none for free-email domains (they never match, and
    would fetch every Lead on gmail.com) or names `LIKE` would read as wildcards."""
    domain = domain_of(value)
    if domain is None or not _PLAIN_DOMAIN.fullmatch(domain) or _NO_ACCOUNTS.is_free(domain):
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
