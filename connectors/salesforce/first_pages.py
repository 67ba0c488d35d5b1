"""The first pages of independent queries, sent together in one composite call.

When a read needs several queries at the same moment whose text does not depend on another's
answer (an incremental account read: the Accounts, Contacts and Leads modified since; an
incremental Contact read of a model with `Account.` fields: the Contacts and the Accounts
modified since), `Reader.first_pages` sends them as one `POST composite` of `GET query?q=`
subrequests, which Salesforce counts as one call against the org's allowance ("The entire series
of requests counts as a single call toward your API limits", REST API Developer Guide,
"Send Multiple Requests Using Composite"; at most 5 query subrequests a call). Each answer
waits here until the read sends the same SOQL (`Reader.query_pages(..., first=...)`), which takes
its first page from here instead of calling, and follows its `nextRecordsUrl` with ordinary
`query_more` calls, so everything after the first page (echo suppression, page size, a restart
on an expired cursor) is as for the query alone.

A subrequest that failed raises, when its query is read, the error the same query alone
raises (`classify_status` of its status and body: `UnknownField`, `MissingPermission`, ...);
one failing for a passing reason (a 5xx, a rate or concurrency refusal, an expired session, the
org's allowance) is sent again alone, as the retry layer would have sent the query alone again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from connectors.errors import AuthError, BudgetExhausted, ConnectorError, TransientError

__all__ = ["FirstPages", "FirstQuery"]

#: Subrequest failures the query alone would have retried (or re-authenticated, or waited for):
#: its query is sent again alone, through the retry layer, when it is read.
_SENT_AGAIN = (TransientError, AuthError, BudgetExhausted)


@dataclass(frozen=True)
class FirstQuery:
    """A query to send in a composite call, and the calls the read it starts must find room
    for in the daily share first (`DailyShare.require`)."""

    soql: str
    calls_needed: int = 1


class FirstPages:
    """The answers of one composite call of queries, by SOQL text; each taken at most once."""

    def __init__(self, answers: Iterable[tuple[str, dict[str, Any] | ConnectorError]]) -> None:
        self._answers = dict(answers)

    def peek(self, soql: str) -> dict[str, Any] | None:
        """The first page of `soql` without taking it (None when it was not sent or failed)."""
        answer = self._answers.get(soql)
        return answer if isinstance(answer, dict) else None

    def take(self, soql: str) -> dict[str, Any] | None:
        """The first page of `soql` (None when it was not sent, was taken already, or failed
        for a passing reason: then the query goes alone); raises its error when it failed."""
        answer = self._answers.pop(soql, None)
        if isinstance(answer, _SENT_AGAIN):
            return None
        if isinstance(answer, ConnectorError):
            raise answer
        return answer
