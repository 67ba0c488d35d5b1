"""Won Opportunities per Account and per Contact: the outcomes of account and Contact backtests
(`connectors.won_deals.WonDealReader`).

- An Account has won when an Opportunity on it (`Opportunity.AccountId`) has `IsWon` true; its
  date is the earliest `CloseDate` of those.
- A Contact has won when it holds an `OpportunityContactRole` (`ContactId`, `OpportunityId`,
  `Role`, `IsPrimary`) on a won Opportunity, whatever its role and whether or not it is the
  primary one: the people the deal names. Its date is the earliest `CloseDate` among the won
  Opportunities it has a role on, read through the role's parent relationship
  (`Opportunity.IsWon`, `Opportunity.CloseDate`).

Either is one query walking the org's won rows (2,000 a page), so `ceil(rows / 2000)` calls; a
few ids are asked for by id instead: Accounts 200 a query up to 1,000 of them, Contacts only
when one query of 200 holds them all (a Contact's roles are few, so the org's won roles are
rarely more pages than that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from connectors.errors import PermanentError
from connectors.salesforce.activity import parse_datetime, row_value
from connectors.salesforce.queries import id_filter, select
from connectors.salesforce.reader import IDS_PER_QUERY, Reader


@dataclass(frozen=True, slots=True)
class WonSource:
    """Where the won Opportunities of one kind of record are read."""

    sobject: str
    #: the field naming the record (`AccountId`, `ContactId`)
    owner: str
    #: the close date, on the row or through its `Opportunity` parent
    close_date: str
    won: str
    #: at most this many ids are read by id; more read the whole org's won rows
    by_id_up_to: int


SOURCES = {
    "account": WonSource(
        "Opportunity", "AccountId", "CloseDate", "IsWon = true", 5 * IDS_PER_QUERY
    ),
    "contact": WonSource(
        "OpportunityContactRole",
        "ContactId",
        "Opportunity.CloseDate",
        "Opportunity.IsWon = true",
        IDS_PER_QUERY,
    ),
}


def won_deals(reader: Reader, kind: str, ids: Sequence[str]) -> dict[str, datetime | None]:
    """The records among `ids` of `kind` (`account` or `contact`) with a won Opportunity, and
    the earliest `CloseDate` of their won ones (None when none has one)."""
    source = SOURCES.get(kind)
    if source is None:
        raise PermanentError(
            f"Salesforce keeps won opportunities on Accounts and Contacts (contact roles), "
            f"not on {kind}"
        )
    wanted = set(ids)
    filters = [f"{source.owner} != null"]
    if len(ids) <= source.by_id_up_to:
        step = IDS_PER_QUERY
        filters = [id_filter(source.owner, ids[i : i + step]) for i in range(0, len(ids), step)]
    won: dict[str, datetime | None] = {}
    for where in filters:
        soql = select(
            source.sobject,
            ["Id", source.owner, source.close_date],
            where=[source.won, where],
            order=f"{source.owner}, Id",
        )
        for rows in reader.query_pages(soql, 1):
            for row in rows:
                owner = str(row[source.owner])
                if owner not in wanted:
                    continue
                closed = parse_datetime(row_value(row, source.close_date))
                earlier = won.get(owner)
                if owner not in won or (
                    closed is not None and (earlier is None or closed < earlier)
                ):
                    won[owner] = closed
    return won
