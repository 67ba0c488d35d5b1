"""Contacts to score again because their company changed (`company.<property>` models).

A company's change (employees past a band, a new industry) does not move its contacts'
`lastmodifieddate`, so an incremental read of contacts alone would leave their scores stale
until the next full run. After the contacts modified since the read's lower bound, an
incremental read of a model naming `company.<property>` also:

1. searches companies with `hs_lastmodifieddate` at or after the same bound (the contact
   search's rules: 200 a query by `hs_object_id`, keyset paging, `reading.read_incremental`),
   asking for the company properties the model reads, so those companies need no batch read;
2. drops the companies whose change the contacts have seen or that is only our own score
   write (`ReadHints.accounts_seen`: the engine compares the modification time with the
   version the connection's account model scored or its write produced);
3. reads the changed companies' contacts (associations v4 `companies -> contacts`, 1,000
   companies a call, each result's own paging followed) and leaves out the contacts the read
   already gave company values;
4. leaves out, too, the contacts whose stored scoring (`ReadHints.stored`: what the current
   model last scored them with) holds every changed company's current value of each property
   the model reads: the company changed something the model does not read (an owner, a note
   count, another integration's field), and reading those contacts again would change nothing.

A contact model reading its company's leadsync result (`account.grade`) needs its contacts read
again when that result changes, which moves nothing in HubSpot: the engine names those
companies with the values the model reads (`ReadHints.account_results`), and `people_of` reads
their contacts' associations too, keeping only the contacts whose own company
(`associatedcompanyid`, kept in their stored inputs) is one of them and whose stored inputs miss
its current values (`AccountResults.expected`).

A quiet portal pays one search answering nothing. The contacts then go through a batch read
(100 a call) and the usual enrichment (`enrichment.Enricher`, with the changed companies
already known).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from connectors.base import AccountChange, AccountResults
from connectors.hubspot.api import HubSpotApi
from connectors.hubspot.associations import read_associations
from connectors.hubspot.cursor import IncrementalState
from connectors.hubspot.enrichment import COMPANY_PREFIX
from connectors.hubspot.reading import ObjectSpec, read_incremental
from connectors.hubspot.values import parse_time
from connectors.related_changes import Stored, holds, not_holding
from scoring.types import Record

__all__ = ["COMPANIES", "changed_companies_since", "people_of"]

COMPANIES = ObjectSpec("company", "companies", "hs_lastmodifieddate")

Raw = dict[str, Any]
Seen = Callable[[Sequence[AccountChange]], Collection[str]]


def changed_companies_since(
    api: HubSpotApi, since_ms: int, properties: Sequence[str], seen: Seen | None
) -> dict[str, Raw]:
    """The properties (`properties` and the modification time) of every company modified at or
    after `since_ms`, by id, leaving out those `seen` names (their change seen already, or our
    own write)."""
    names = sorted({COMPANIES.modified, *properties})
    changed: dict[str, Raw] = {}
    state = IncrementalState(COMPANIES.object_type, since_ms, 0)
    for results, _ in read_incremental(api, COMPANIES, names, state):
        found = {str(item["id"]): item.get("properties") or {} for item in results}
        changes = [
            AccountChange(company_id, parse_time(props.get(COMPANIES.modified)))
            for company_id, props in found.items()
        ]
        skip = set(seen(changes)) if seen is not None else set()
        changed.update((i, props) for i, props in found.items() if i not in skip)
    return changed


def people_of(  # noqa: PLR0913  the API, the changed companies and what the people saw
    api: HubSpotApi,
    companies: Mapping[str, Raw],
    read: Collection[str],
    properties: Sequence[str],
    stored: Stored | None = None,
    *,
    results: AccountResults | None = None,
) -> list[str]:
    """The ids of the contacts associated with `companies` (by id, their current values of
    `properties`) or with the companies of `results` (whose leadsync result changed), each
    once, except those in `read` and those whose stored inputs (`stored`) hold every one of
    their changed companies' current values of `properties` and their own company's current
    result (`AccountResults.expected`)."""
    rescored = results.values if results is not None else {}
    ids = list(dict.fromkeys([*companies, *rescored]))
    if not ids:
        return []
    companies_of: dict[str, list[str]] = {}
    for company, found in read_associations(api, "companies", "contacts", ids).items():
        for link in found:
            if link.to_id not in read:
                companies_of.setdefault(link.to_id, []).append(company)
    people = list(companies_of)
    if stored is None:
        return people

    def expected(contact: str, snapshot: Record) -> list[tuple[str, object]]:
        pairs = [
            (COMPANY_PREFIX + name, companies[company].get(name))
            for company in companies_of[contact]
            if company in companies
            for name in properties
        ]
        return pairs + results.expected(snapshot) if results is not None else pairs

    return not_holding(
        people, stored, lambda contact, snapshot: holds(snapshot, expected(contact, snapshot))
    )
