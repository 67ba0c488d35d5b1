"""Contacts to score again because their Account changed (`Account.<field>` models).

An Account's change (`NumberOfEmployees` past a band, a new `Industry`) does not move its
Contacts' `SystemModstamp`, so an incremental read of Contacts alone would leave their scores
stale until the next full run. After the Contacts modified since the read's start, an
incremental read of a model naming `Account.<field>` also:

1. queries the Accounts with `SystemModstamp` at or after the same start (the field the
   people's read goes by), 2,000 a page;
2. drops the Accounts whose last change is leadsync's own score write: last modified by the
   integration user with no later system change (`LastModifiedDate = SystemModstamp`), the test
   the people's echo suppression makes (Salesforce's write replies carry no modification time,
   so no stored version can tell), unless the account model scored a change of someone else's
   since the run's watermark, which our write then hid (`ReadHints.accounts_seen`);
3. reads the Contacts of the changed Accounts (`AccountId IN (...)`, 200 Accounts a query,
   activity through subqueries as for any read by filter) and leaves out those the read gave
   already.

A quiet org pays one Account query answering nothing.

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

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import AccountChange
from connectors.salesforce.activity import parse_datetime
from connectors.salesforce.queries import id_filter, select, soql_datetime
from connectors.salesforce.reader import IDS_PER_QUERY, Reader
from scoring.types import Record

__all__ = ["ACCOUNT_PREFIX", "changed_accounts_since", "people_of", "reads_account"]

ACCOUNT_PREFIX = "account."
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


def changed_accounts_since(reader: Reader, start: datetime, seen: Seen | None) -> list[str]:
    """Ids of the Accounts modified at or after `start`, except those `seen` names (without
    it, those whose last change is leadsync's own write)."""
    me = reader.api.integration_user()
    soql = select(
        "Account",
        _COLUMNS,
        where=[f"SystemModstamp >= {soql_datetime(start.astimezone(UTC))}"],
        order="SystemModstamp, Id",
    )
    changed: list[str] = []
    for rows in reader.query_pages(soql, 1):
        changes = [
            AccountChange(str(row["Id"]), parse_datetime(row.get("SystemModstamp")), _ours(row, me))
            for row in rows
        ]
        skip = set(seen(changes)) if seen is not None else {c.id for c in changes if c.by_us}
        changed += [c.id for c in changes if c.id not in skip]
    return changed


def people_of(
    reader: Reader,
    accounts: list[str],
    fields: Collection[str],
    event_types: Collection[str],
    read: Collection[str],
) -> Iterator[list[Record]]:
    """The Contacts of `accounts` not in `read`, a query page at a time (200 Accounts a
    query), each with its activity."""
    for start in range(0, len(accounts), IDS_PER_QUERY):
        where = id_filter("AccountId", accounts[start : start + IDS_PER_QUERY])
        for records in reader.records_where("contact", fields, event_types, where):
            fresh = [r for r in records if r.id not in read]
            if fresh:
                reader.noted(fresh)
                yield fresh
