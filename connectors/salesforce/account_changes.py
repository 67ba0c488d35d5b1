"""Contacts to score again because their Account changed (`Account.<field>` models).

An Account's change (`NumberOfEmployees` past a band, a new `Industry`) does not move its
Contacts' `SystemModstamp`, so an incremental read of Contacts alone would leave their scores
stale until the next full run. After the Contacts modified since the read's start, an
incremental read of a model naming `Account.<field>` also:

1. queries the Accounts with `SystemModstamp` at or after the same start (the field the
   people's read goes by), 2,000 a page, with the Account fields the model reads;
2. drops the Accounts whose last change is leadsync's own score write: last modified by the
   integration user with no later system change (`LastModifiedDate = SystemModstamp`), the test
   the people's echo suppression makes (Salesforce's write replies carry no modification time,
   so no stored version can tell), unless the account model scored a change of someone else's
   since the run's watermark, which our write then hid (`ReadHints.accounts_seen`);
3. finds the Contacts of the changed Accounts (`SELECT Id, AccountId FROM Contact WHERE
   AccountId IN (...)`, 200 Accounts a query, 2,000 rows a page) and leaves out those the read
   gave already and those whose stored scoring (`ReadHints.stored`: the inputs the current
   model last scored them with) holds their Account's current value of every Account field the
   model reads: the Account changed something the model does not read (an owner, a
   description, another integration's field), and reading those Contacts again with their
   activity would change nothing;
4. reads the Contacts left by id (`Id IN (...)`, 200 a query, activity through subqueries as
   for any read by filter).

A Contact model reading its Account's leadsync result (`account.grade`) needs its Contacts read
again when that result changes, which moves nothing in Salesforce: the engine names those
Accounts with the values the model reads (`ReadHints.account_results`), and `people_of` finds
their Contacts by `AccountId` too, reading again only those whose stored inputs miss the new
values (`AccountResults.expected`).

A quiet org pays one Account query answering nothing. An Account change the model reads costs
one more query per 2,000 Contacts than reading them by `AccountId` at once would; a change it
does not read costs that query alone instead of reading every Contact with its activity, the
common case (owners and descriptions change more often than firmographics). Without `stored`
(an engine that keeps no snapshots) the Contacts are read by `AccountId` at once.

Why not one query, `WHERE SystemModstamp >= t OR Account.SystemModstamp >= t`? SOQL allows a
parent's field on either side of an OR (the SOQL guide's "Logical Operators": `SELECT Id FROM
Contact WHERE LastName = 'foo' or Account.Name = 'bar'`), but a filter cannot compare two fields
or look up what leadsync stored, so the Accounts leadsync itself wrote could not be left out;
every Contact of an Account whose score leadsync wrote would be read again after each account
run. It would also ask the query optimizer for a union of two indexes, which Salesforce's query
optimization cheat sheet grants an OR only when every one of its filters is indexed and their
sum stays under the selectivity thresholds (past them, a full scan of Contacts each run).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import AccountChange, AccountResults
from connectors.related_changes import Stored, holds, not_holding
from connectors.salesforce.activity import parse_datetime, row_value
from connectors.salesforce.errors import QueryLocatorExpired
from connectors.salesforce.first_pages import FirstPages, FirstQuery
from connectors.salesforce.queries import id_filter, select, soql_datetime
from connectors.salesforce.reader import IDS_PER_QUERY, Reader
from scoring.types import Record

__all__ = [
    "ACCOUNT_PREFIX",
    "account_paths",
    "changed_accounts_query",
    "changed_accounts_since",
    "people_of",
    "reads_account",
]

ACCOUNT_PREFIX = "account."
Row = Mapping[str, Any]
Seen = Callable[[Sequence[AccountChange]], Collection[str]]
_COLUMNS = ("Id", "SystemModstamp", "LastModifiedDate", "LastModifiedById")


def reads_account(fields: Collection[str]) -> bool:
    """Whether `fields` name a field of the record's Account (`Account.Industry`)."""
    return any(f.lower().startswith(ACCOUNT_PREFIX) for f in fields)


def _ours(row: Mapping[str, Any], me: str) -> bool:
    return (
        bool(me)
        and row.get("LastModifiedById") == me
        and row.get("LastModifiedDate") == row.get("SystemModstamp")
    )


def account_paths(fields: Collection[str]) -> dict[str, str]:
    """The model's Account fields (`Account.NumberOfEmployees`), each with its path on the
    Account itself (`NumberOfEmployees`)."""
    return {f: f[len(ACCOUNT_PREFIX) :] for f in fields if f.lower().startswith(ACCOUNT_PREFIX)}


def changed_accounts_query(start: datetime, fields: Collection[str] = ()) -> FirstQuery:
    """The query `changed_accounts_since(..., start, ..., fields)` sends, to send with the
    Contacts' own first query in one composite call."""
    return FirstQuery(
        select(
            "Account",
            [*_COLUMNS, *account_paths(fields).values()],
            where=[f"SystemModstamp >= {soql_datetime(start.astimezone(UTC))}"],
            order="SystemModstamp, Id",
        )
    )


def changed_accounts_since(
    reader: Reader,
    start: datetime,
    seen: Seen | None,
    fields: Collection[str] = (),
    *,
    first: FirstPages | None = None,
) -> dict[str, Row]:
    """The Accounts modified at or after `start` by id, each row with the Account fields among
    `fields` (`Account.<field>`), except those `seen` names (without it, those whose last change
    is leadsync's own write); the first page from `first` when the query was sent there."""
    me = reader.api.integration_user()
    soql = changed_accounts_query(start, fields).soql
    changed: dict[str, Row] = {}
    for rows in _rows(reader, soql, first):
        changes = [
            AccountChange(str(row["Id"]), parse_datetime(row.get("SystemModstamp")), _ours(row, me))
            for row in rows
        ]
        skip = set(seen(changes)) if seen is not None else {c.id for c in changes if c.by_us}
        changed.update((str(row["Id"]), row) for row in rows if str(row["Id"]) not in skip)
    return changed


def _rows(reader: Reader, soql: str, first: FirstPages | None) -> Iterator[list[dict[str, Any]]]:
    """The pages of `soql`. Its first page may have come from a composite call sent before the
    Contacts' own read, whose query cursor can expire while a long read of Contacts goes on:
    then the query is sent again alone (its rows go into a dict by id, so those read twice
    change nothing)."""
    try:
        yield from reader.query_pages(soql, 1, first=first)
    except QueryLocatorExpired:
        if first is None:
            raise
        yield from reader.query_pages(soql, 1)


def people_of(  # noqa: PLR0913  the reader, the changed Accounts and what the model reads
    reader: Reader,
    accounts: Mapping[str, Row],
    fields: Collection[str],
    event_types: Collection[str],
    read: Collection[str],
    *,
    stored: Stored | None = None,
    results: AccountResults | None = None,
) -> Iterator[list[Record]]:
    """The Contacts of `accounts` (by id, their rows from `changed_accounts_since`) and of the
    Accounts of `results` (whose leadsync result changed) not in `read` and, with `stored`,
    not holding their Account's current values and result already, a query page at a time,
    each with its activity."""
    ids = list(dict.fromkeys([*accounts, *(results.values if results is not None else ())]))
    if stored is None:
        for start in range(0, len(ids), IDS_PER_QUERY):
            where = id_filter("AccountId", ids[start : start + IDS_PER_QUERY])
            pages = reader.records_where("contact", fields, event_types, where)
            yield from _fresh(reader, pages, read)
        return
    kept = _changed_people(
        reader, ids, (accounts, account_paths(fields)), read, stored, results=results
    )
    for start in range(0, len(kept), IDS_PER_QUERY):
        where = id_filter("Id", kept[start : start + IDS_PER_QUERY])
        yield from _fresh(reader, reader.records_where("contact", fields, event_types, where), ())


def _fresh(
    reader: Reader, pages: Iterable[list[Record]], read: Collection[str]
) -> Iterator[list[Record]]:
    """The records of `pages` not in `read`, noted for echo suppression, a page at a time."""
    for page in pages:
        records = [r for r in page if r.id not in read]
        if records:
            reader.noted(records)
            yield records


def _changed_people(  # noqa: PLR0913  the reader, the Accounts, and what the people saw
    reader: Reader,
    ids: Sequence[str],
    changed: tuple[Mapping[str, Row], Mapping[str, str]],
    read: Collection[str],
    stored: Stored,
    *,
    results: AccountResults | None,
) -> list[str]:
    """The ids of the Contacts of the Accounts `ids`, not in `read`, whose stored inputs miss
    their Account's current value of one of the model's paths (`changed`: the Accounts modified
    in the window with their rows, and the paths) or its current result (`results`), or who
    have none."""
    accounts, paths = changed
    account_of: dict[str, str] = {}
    for start in range(0, len(ids), IDS_PER_QUERY):
        where = id_filter("AccountId", ids[start : start + IDS_PER_QUERY])
        soql = select("Contact", ("Id", "AccountId"), where=[where], order="Id")
        for rows in reader.query_pages(soql, 1):
            account_of.update(
                (str(row["Id"]), str(row["AccountId"])) for row in rows if row["Id"] not in read
            )

    def expected(contact: str, snapshot: Record) -> list[tuple[str, object]]:
        row = accounts.get(account_of[contact])
        pairs = [(f, row_value(row, path)) for f, path in paths.items()] if row is not None else []
        return pairs + results.expected(snapshot) if results is not None else pairs

    return not_holding(
        list(account_of),
        stored,
        lambda contact, snapshot: holds(snapshot, expected(contact, snapshot)),
    )
