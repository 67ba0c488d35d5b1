"""`SalesforceConnector`: leads and contacts in, scores out, through simple-salesforce.

SalesforceConnector
├── SalesforceApi   (client.py)  auth, budget, one re-auth, error classes, the retry layer
├── Reader          (reader.py)  describe, incremental / full pages, activity, echo memory
├── Writer          (writer.py)  composite-packed collections, Bulk API 2.0, record retries
└── SchemaManager   (schema.py)  Tooling API fields, permission sets
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, MutableMapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from connectors.base import (
    ApiUsage,
    Change,
    OutputField,
    Page,
    ReadHints,
    SchemaReport,
    WriteResult,
)
from connectors.retry import RetryPolicy
from connectors.salesforce.auth import Credentials
from connectors.salesforce.client import SalesforceApi, _utc_today
from connectors.salesforce.reader import EchoMemory, Reader, pages_needed
from connectors.salesforce.schema import SchemaManager
from connectors.salesforce.writer import PER_CALL, Writer
from scoring.types import Record


class SalesforceConnector:
    """The `Connector` for Salesforce. Kinds: `lead`, `contact`.

    Authenticates with JWT bearer (`client_id`, `username`, `private_key_file`) or client
    credentials (`client_id`, `client_secret`), or uses an existing `session_id` +
    `instance_url` (re-authenticating with the configured grant, if any, when it expires).
    `daily_share` is the fraction of the org's daily API allowance this connection may spend
    (`daily_used`: calls it already made today in earlier processes, from the state store);
    `bulk_threshold` the number of changes from which writes use Bulk API 2.0.
    """

    crm = "salesforce"
    # One simple-salesforce session and unguarded echo bookkeeping: one call at a time
    concurrent_writes = False

    def __init__(
        self,
        *,
        login_url: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        username: str | None = None,
        private_key_file: str | None = None,
        session_id: str | None = None,
        instance_url: str | None = None,
        api_version: str = "62.0",
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        daily_share: float = 0.2,
        daily_used: int = 0,
        bulk_threshold: int = 10000,
        sales_permission_set: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        today: Callable[[], date] = _utc_today,
        batch_size: int = 2000,
        activity_days: int = 365,
        overlap: timedelta = timedelta(0),
        echo_memory: MutableMapping[str, str] | None = None,
        jwt_audience: str | None = None,
        retry_policy: RetryPolicy | None = None,
        bulk_poll_s: float = 2.0,
    ) -> None:
        credentials = Credentials(
            login_url=login_url.rstrip("/"),
            client_id=client_id,
            client_secret=SecretStr(client_secret) if client_secret else None,
            username=username,
            private_key_file=private_key_file,
            audience=jwt_audience,
        )
        self._api = SalesforceApi(
            credentials,
            session_id=session_id,
            instance_url=instance_url,
            api_version=api_version,
            ca_bundle=ca_bundle,
            timeout=timeout,
            daily_share=daily_share,
            daily_used=daily_used,
            sleep=sleep,
            clock=clock,
            today=today,
            retry_policy=retry_policy,
        )
        self._reader = Reader(
            self._api,
            batch_size=max(200, min(2000, batch_size)),
            activity_days=activity_days,
            overlap=overlap,
            echo=EchoMemory(echo_memory),
        )
        self._writer = Writer(
            self._api,
            self._reader,
            bulk_threshold=bulk_threshold,
            sleep=sleep,
            policy=retry_policy,
            bulk_poll_s=bulk_poll_s,
        )
        self._schema = SchemaManager(
            self._api, self._reader, sales_permission_set=sales_permission_set
        )

    def __repr__(self) -> str:
        return f"SalesforceConnector(instance={getattr(self._api, 'instance_url', None)!r})"

    def ensure_schema(
        self, kind: str, outputs: Sequence[OutputField], *, apply: bool
    ) -> SchemaReport:
        """Verify (and with `apply`, create) the output fields and their permissions."""
        return self._schema.ensure(kind, outputs, apply=apply)

    def iter_pages(
        self,
        kind: str,
        fields: Collection[str],
        event_types: Collection[str],
        *,
        since: datetime | None,
        resume: str | None = None,
        hints: ReadHints | None = None,
    ) -> Iterator[Page]:
        """Pages of records modified at or after `since` (all when None), resumable.

        `hints` are not used: child activity comes in the records' own query (subqueries), so
        skipping records the engine already scored would save no call."""
        reserve = pages_needed(self._reader.batch_size, PER_CALL)
        return self._reader.pages(
            kind, fields, event_types, since=since, resume=resume, write_reserve=reserve
        )

    def write(self, kind: str, changes: Sequence[Change]) -> list[WriteResult]:
        """Write output values; one result per change."""
        return self._writer.write(kind, changes)

    def fetch(
        self,
        kind: str,
        record_ids: Sequence[str],
        fields: Collection[str],
        event_types: Collection[str],
    ) -> list[Record]:
        """Specific records by id (converted leads included)."""
        return self._reader.fetch(kind, list(record_ids), fields, event_types)

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
