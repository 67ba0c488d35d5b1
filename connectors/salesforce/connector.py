"""`SalesforceConnector`: leads and contacts in, scores out, through simple-salesforce.

SalesforceConnector
├── SalesforceApi   (client.py)  auth, budget, one re-auth, error classes, the retry layer
├── Reader          (reader.py)  describe, incremental / full pages, activity, echo memory
├── Writer          (writer.py)  composite-packed collections, Bulk API 2.0, record retries
└── SchemaManager   (schema.py)  Tooling API fields, permission sets
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from connectors.base import (
    ApiUsage,
    Change,
    MemberRequest,
    OutputField,
    Page,
    ReadHints,
    SchemaReport,
    WriteResult,
)
from connectors.errors import PermanentError
from connectors.history import PropertyHistories
from connectors.property_names import PropertyNames
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.fields import sobject_of
from connectors.salesforce.history import read_history
from connectors.salesforce.options import SalesforceOptions
from connectors.salesforce.reader import EchoMemory, Reader, pages_needed
from connectors.salesforce.schema import SchemaManager
from connectors.salesforce.writer import PER_CALL, Writer
from scoring.types import Record


class SalesforceConnector:
    """The `Connector` for Salesforce. Kinds: `lead`, `contact`.

    `options` says how to reach the org and how to read and write (`SalesforceOptions`).
    `daily_used` is how many calls this connection made in the last 24 hours in earlier
    processes (from the state store), so its share of the org's rolling 24-hour allowance
    survives restarts.
    """

    crm = "salesforce"
    # One simple-salesforce session and unguarded echo bookkeeping: one call at a time
    concurrent_writes = False

    def __init__(
        self,
        options: SalesforceOptions,
        *,
        daily_used: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = SalesforceApi(options, sleep=sleep, daily_used=daily_used, clock=clock)
        self._reader = Reader(
            self._api,
            batch_size=max(200, min(2000, options.batch_size)),
            activity_days=options.activity_days,
            overlap=options.overlap,
            echo=EchoMemory(),
        )
        self._writer = Writer(
            self._api,
            self._reader,
            bulk_threshold=options.bulk_threshold,
            sleep=sleep,
            policy=options.retry_policy,
            bulk_poll_s=options.bulk_poll_s,
        )
        self._schema = SchemaManager(
            self._api, self._reader, sales_permission_set=options.sales_permission_set
        )

    def __repr__(self) -> str:
        return f"SalesforceConnector(instance={getattr(self._api, 'instance_url', None)!r})"

    def ensure_schema(
        self, kind: str, outputs: Sequence[OutputField], *, apply: bool
    ) -> SchemaReport:
        """Verify (and with `apply`, create) the output fields and their permissions."""
        return self._schema.ensure(kind, outputs, apply=apply)

    def property_names(self, kind: str) -> PropertyNames:
        """The fields of `kind`'s object the integration user can see (describe; Salesforce
        matches field names in any case)."""
        visible = self._reader.visible_fields(sobject_of(kind))
        return PropertyNames(
            kind, frozenset(str(f["name"]) for f in visible.values()), case_sensitive=False
        )

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
        """Pages of records modified at or after `since` (all when None), resumable.

        `hints` are not used: child activity comes in the records' own query (subqueries), so
        skipping records the engine already scored would save no call. Account roll-ups
        (`members`) are not read from Salesforce yet: asking for them raises `PermanentError`
        (the configuration loader refuses such models before a run)."""
        _no_members(members)
        reserve = pages_needed(self._reader.batch_size, PER_CALL)
        return self._reader.pages(
            kind, fields, event_types, since=since, resume=resume, write_reserve=reserve
        )

    def write_parts(self, changes: Sequence[Change]) -> list[Sequence[Change]]:
        """Collections of 200; a change set for Bulk API 2.0 (`bulk_threshold` records or more)
        is one job, so one part."""
        return self._writer.write_parts(changes)

    def write(self, kind: str, changes: Sequence[Change]) -> list[WriteResult]:
        """Write output values; one result per change."""
        return self._writer.write(kind, changes)

    def fetch(
        self,
        kind: str,
        record_ids: Sequence[str],
        fields: Collection[str],
        event_types: Collection[str],
        members: MemberRequest | None = None,
    ) -> list[Record]:
        """Specific records by id (converted leads included)."""
        _no_members(members)
        return self._reader.fetch(kind, list(record_ids), fields, event_types)

    def property_history(
        self, kind: str, ids: Sequence[str], properties: Sequence[str]
    ) -> PropertyHistories:
        """Field history of `properties` for `ids` (`connectors.history.HistoryReader`)."""
        return read_history(self._api, kind, ids, properties, self._reader.batch_size)

    def org_allowance(self) -> tuple[int, int]:
        """(calls the whole org used, its daily allowance) from `GET limits` (one API call)."""
        body = self._api.rest("limits", "limits/")
        daily = body.get("DailyApiRequests") or {}
        limit = int(daily.get("Max") or 0)
        return limit - int(daily.get("Remaining") or 0), limit

    @property
    def usage(self) -> ApiUsage:
        """Calls made by this connector, and the org's usage as last reported."""
        return self._api.usage

    @property
    def stats(self) -> dict[str, Any]:
        """Counters beyond `usage`: echoes skipped, re-authentications, retries, bulk jobs."""
        return {
            "echoes_skipped": self._reader.echoes_skipped,
            "child_pages": self._reader.child_pages,
            "reauthentications": self._api.reauthentications,
            "retries": self._api.retries,
            "bulk_jobs": self._writer.bulk_jobs,
            "daily_share_used": self._api.budget.used,
            "daily_share_limit": self._api.budget.limit,
        }

    def close(self) -> None:
        """Release the HTTP connections."""
        self._api.session.close()


def _no_members(members: MemberRequest | None) -> None:
    if members is not None:
        raise PermanentError("Salesforce account roll-ups (people of an Account) are not read yet")
