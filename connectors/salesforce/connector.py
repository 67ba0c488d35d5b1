"""`SalesforceConnector`: leads, contacts and accounts in, scores out, through simple-salesforce.

SalesforceConnector
├── SalesforceApi   (client.py)   auth, budget, one re-auth, error classes, the retry layer
├── Reader          (reader.py)   describe, incremental / full pages, activity, echo memory
├── AccountPeople   (members.py)  an Account's Contacts and domain-matched Leads
├── Writer          (writer.py)   composite-packed collections, Bulk API 2.0, record retries
└── SchemaManager   (schema.py)   Tooling API fields, permission sets
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from connectors.base import (
    ApiUsage,
    CallMeter,
    Change,
    MemberRequest,
    OutputField,
    Page,
    ReadHints,
    SchemaReport,
    WriteJournal,
    WriteResult,
)
from connectors.history import PropertyHistories
from connectors.property_names import PropertyNames, RelatedNames
from connectors.salesforce.account_changes import (
    changed_accounts_query,
    changed_accounts_since,
    people_of,
    reads_account,
)
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.converted import (
    asks_for_converted,
    with_contact_activity,
    with_converted_contact,
)
from connectors.salesforce.errors import naming_fields
from connectors.salesforce.field_paths import related_names
from connectors.salesforce.fields import sobject_of
from connectors.salesforce.history import read_history
from connectors.salesforce.list_email import ListEmailAccess
from connectors.salesforce.members import WEBSITE, AccountPeople, ReadCosts
from connectors.salesforce.options import SalesforceOptions
from connectors.salesforce.queries import MAX_PARENT_RELATIONSHIPS, id_filter, select
from connectors.salesforce.reader import (
    IDS_PER_QUERY,
    EchoMemory,
    Reader,
    pages_needed,
    read_mode,
)
from connectors.salesforce.schema import SchemaManager
from connectors.salesforce.won import won_deals
from connectors.salesforce.writer import PER_CALL, Writer
from scoring.types import Record


class SalesforceConnector:
    """The `Connector` for Salesforce. Kinds: `lead`, `contact`, `account`.

    `options` says how to reach the org and how to read and write (`SalesforceOptions`).
    `daily_used` is how many calls this connection made in the last 24 hours in earlier
    processes (from the state store), so its share of the org's rolling 24-hour allowance
    survives restarts. `checkpoint` is called before every query call of a read; the daemon's
    raises when a stop was requested (`sync.shutdown.stop_checkpoint`), so a read that takes
    many calls before its next page (an account read's people) stops between two of them.
    """

    crm = "salesforce"
    # One simple-salesforce session and unguarded echo bookkeeping: one call at a time
    concurrent_writes = False

    def __init__(  # noqa: PLR0913  options and runtime seams (clock, sleep, meter, stop), keyword-only
        self,
        options: SalesforceOptions,
        *,
        daily_used: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        meter: CallMeter | None = None,
        checkpoint: Callable[[], None] = lambda: None,
    ) -> None:
        self._api = SalesforceApi(
            options, sleep=sleep, daily_used=daily_used, clock=clock, meter=meter
        )
        self._reader = Reader(
            self._api,
            batch_size=max(200, min(2000, options.batch_size)),
            activity_days=options.activity_days,
            overlap=options.overlap,
            echo=EchoMemory(),
            output_namespaces=options.output_namespaces,
            checkpoint=checkpoint,
        )
        self._writer = Writer(
            self._api,
            self._reader,
            bulk_threshold=options.bulk_threshold,
            sleep=sleep,
            policy=options.retry_policy,
            bulk_poll_s=options.bulk_poll_s,
            output_namespaces=options.output_namespaces,
        )
        self._read_costs = ReadCosts()
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
        """The fields of `kind`'s object the integration user can see and its relationship
        names (describe; Salesforce matches field names in any case)."""
        visible = self._reader.visible_fields(sobject_of(kind))
        return PropertyNames(
            kind,
            frozenset(str(f["name"]) for f in visible.values()),
            case_sensitive=False,
            relationships=frozenset(
                str(f["relationshipName"]) for f in visible.values() if f.get("relationshipName")
            ),
            max_relationships=MAX_PARENT_RELATIONSHIPS,
        )

    def related_names(self, kind: str, path: Sequence[str]) -> RelatedNames | None:
        """What the relationship path `path` leads to from `kind`'s object (describes)."""
        return related_names(self._reader, sobject_of(kind), path)

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

        Of `hints`, only `accounts_seen` and `stored` (for the Contacts of changed Accounts)
        are used: child activity comes in the records' own query (subqueries), so skipping
        records the engine already scored would save no call.
        With `members` (accounts), every Account carries its people
        (`connectors.salesforce.members`); an incremental read then also yields, in pages
        without a cursor, the Accounts one of whose Contacts or matched Leads changed since
        `since`. An incremental read of Contacts whose
        model names `Account.<field>` ends with the Contacts of the Accounts changed since
        `since` (`connectors.salesforce.account_changes`). A Lead read asking for
        `IsConverted` gives each converted Lead its Contact's activity
        (`connectors.salesforce.converted`). A field Salesforce refuses is named as the model
        names it (`UnknownField`)."""
        sobject = sobject_of(kind)
        reserve = pages_needed(self._reader.batch_size, PER_CALL)
        if members is not None and kind == "account":
            pages = self._account_pages(fields, event_types, since, resume, members)
            return naming_fields(pages, sobject, fields)
        if asks_for_converted(kind, fields, event_types):
            read, asked = with_converted_contact(fields)
            converted = self._reader.pages(
                kind,
                read,
                event_types,
                since=since,
                resume=resume,
                write_reserve=reserve,
            )
            pages = with_contact_activity(self._reader, converted, event_types, keep_field=asked)
            return naming_fields(pages, sobject, fields)
        incremental = read_mode(since, resume) == "incremental"
        results = hints.account_results if hints is not None else None
        if (
            kind == "contact"
            and incremental
            and since is not None
            and (reads_account(fields) or results is not None)
        ):
            pages = self._with_account_changes(fields, event_types, since, resume, hints)
        else:
            pages = self._reader.pages(
                kind, fields, event_types, since=since, resume=resume, write_reserve=reserve
            )
        return naming_fields(pages, sobject, fields)

    def _with_account_changes(
        self,
        fields: Collection[str],
        event_types: Collection[str],
        since: datetime,
        resume: str | None,
        hints: ReadHints | None,
    ) -> Iterator[Page]:
        """The Contacts' incremental pages, then as `Page.rescore` pages the Contacts not read
        yet of the Accounts modified since `since` (not by leadsync's own write alone) and of
        those whose leadsync result changed (`ReadHints.account_results`;
        `connectors.salesforce.account_changes`). With `Account.` fields the Contacts' first
        query and the Accounts' go in one composite call (one API call for both)."""
        reserve = pages_needed(self._reader.batch_size, PER_CALL)
        start = since - self._reader.overlap
        first = None
        if reads_account(fields):
            contacts = self._reader.incremental_query(
                "contact", fields, event_types, since=since, resume=resume, write_reserve=reserve
            )
            first = self._reader.first_pages([contacts, changed_accounts_query(start, fields)])
        pages = self._reader.pages(
            "contact",
            fields,
            event_types,
            since=since,
            resume=resume,
            write_reserve=reserve,
            first=first,
        )
        read: set[str] = set()
        for page in pages:
            read.update(r.id for r in page.records)
            yield page
        seen = hints.accounts_seen if hints is not None else None
        stored = hints.stored if hints is not None else None
        results = hints.account_results() if hints and hints.account_results else None
        changed = (
            changed_accounts_since(self._reader, start, seen, fields, first=first)
            if reads_account(fields)
            else {}
        )
        people = people_of(
            self._reader, changed, fields, event_types, read, stored=stored, results=results
        )
        for records in people:
            yield Page(records, None, rescore=True)

    def _account_pages(
        self,
        fields: Collection[str],
        event_types: Collection[str],
        since: datetime | None,
        resume: str | None,
        members: MemberRequest,
    ) -> Iterator[Page]:
        reserve = pages_needed(self._reader.batch_size, PER_CALL)
        own = sorted({*fields, WEBSITE})

        def read(since: datetime | None, resume: str | None) -> Iterator[Page]:
            return self._reader.pages(
                "account", own, event_types, since=since, resume=resume, write_reserve=reserve
            )

        people = AccountPeople(
            self._reader,
            members,
            all_accounts=lambda: (r for page in read(None, None) for r in page.records),
            costs=self._read_costs,
        )
        if read_mode(since, resume) == "full":
            yield from people.full_pages(read(None, resume), resumed=resume is not None)
            return
        # The changed Accounts and those of changed people first (the three queries' first
        # pages in one composite call), then all of them with their people in one read
        # (`AccountPeople.recompute`), pages without a cursor: a run stopped before its last
        # page starts again from its watermark.
        assert since is not None
        start = since - self._reader.overlap
        accounts = self._reader.incremental_query(
            "account", own, event_types, since=since, resume=resume, write_reserve=reserve
        )
        first = self._reader.first_pages([accounts, *people.changed_queries(start)])
        if people.whole_is_cheaper(first, accounts.soql, start):
            # most of the org changed: every Account recomputed from one whole read, as a full
            # run reads it, costs less than paging the changed lists first (pages without a
            # cursor, as below)
            for page in people.full_pages(read(None, None), resumed=False):
                yield Page(page.records, None)
            return
        changed = [
            record
            for page in self._reader.pages(
                "account",
                own,
                event_types,
                since=since,
                resume=resume,
                write_reserve=reserve,
                first=first,
            )
            for record in page.records
        ]
        others = people.changed_accounts(start, {r.id for r in changed}, first=first)
        yield from people.recompute(
            changed, others, lambda ids: self._reader.fetch("account", list(ids), own, event_types)
        )

    def write_parts(self, changes: Sequence[Change]) -> list[Sequence[Change]]:
        """Composite calls of up to 1,000 (five collections of 200); a change set for Bulk API
        2.0 (`bulk_threshold` records or more) is one job, so one part."""
        return self._writer.write_parts(changes)

    def write(
        self, kind: str, changes: Sequence[Change], *, journal: WriteJournal | None = None
    ) -> list[WriteResult]:
        """Write output values; one result per change. Bulk API jobs are noted in `journal`
        before their upload and reconciled from it after a crash (`Writer`)."""
        return self._writer.write(kind, changes, journal=journal)

    def fetch(
        self,
        kind: str,
        record_ids: Sequence[str],
        fields: Collection[str],
        event_types: Collection[str],
        members: MemberRequest | None = None,
    ) -> list[Record]:
        """Specific records by id (converted leads included, each with the activity of the
        Contact it became, `connectors.salesforce.converted`); Accounts with their people when
        `members` is given."""
        if kind == "lead" and event_types:
            read, asked = with_converted_contact(fields)
            leads = self._reader.fetch(kind, list(record_ids), read, event_types)
            pages = with_contact_activity(
                self._reader, iter([Page(leads, None)]), event_types, keep_field=asked
            )
            return [record for page in pages for record in page.records]
        if members is None or kind != "account":
            return self._reader.fetch(kind, list(record_ids), fields, event_types)
        own = sorted({*fields, WEBSITE})
        accounts = self._reader.fetch(kind, list(record_ids), own, event_types)
        return AccountPeople(self._reader, members).attach(accounts)

    def account_links(self, kind: str, record_ids: Sequence[str]) -> dict[str, str]:
        """How each person among `record_ids` is tied to an Account, for `explain`
        (`connectors.account_match.AccountMatcher`): a Contact by `AccountId`, an unconverted
        Lead by the domain rule (`connectors.salesforce.members`), a converted Lead by
        `ConvertedAccountId` (Salesforce made it that Account's Contact, so no domain rule
        applies to it)."""
        if kind not in ("lead", "contact"):
            return {}
        sobject = "Lead" if kind == "lead" else "Contact"
        columns = (
            ["Id", "Email", WEBSITE, "IsConverted", "ConvertedAccountId", "ConvertedContactId"]
            if kind == "lead"
            else ["Id", "AccountId"]
        )
        rows = [
            row
            for start in range(0, len(record_ids), IDS_PER_QUERY)
            for page in self._reader.query_pages(
                select(
                    sobject,
                    columns,
                    where=[id_filter("Id", record_ids[start : start + IDS_PER_QUERY])],
                    order="Id",
                ),
                1,
            )
            for row in page
        ]
        if kind == "contact":
            return {
                str(r["Id"]): f"{r['AccountId']} (Contact.AccountId)"
                if r.get("AccountId")
                else "none (Contact.AccountId is empty)"
                for r in rows
            }
        converted = {
            str(r["Id"]): (
                f"{r['ConvertedAccountId']} (converted: Contact {r.get('ConvertedContactId')}, "
                "Lead.ConvertedAccountId)"
                if r.get("ConvertedAccountId")
                else "none (converted without an Account)"
            )
            for r in rows
            if r.get("IsConverted")
        }
        leads = [
            Record(str(r["Id"]), "lead", {"Email": r.get("Email"), WEBSITE: r.get(WEBSITE)})
            for r in rows
            if str(r["Id"]) not in converted
        ]
        people = AccountPeople(self._reader, MemberRequest(frozenset(), frozenset()))
        matched = {
            lead_id: f"{m.account_id} ({m.why})" if m.account_id else m.why
            for lead_id, m in people.matches(leads).items()
        }
        return {**matched, **converted}

    def won_deals(self, kind: str, ids: Sequence[str]) -> dict[str, datetime | None]:
        """The Accounts, or Contacts, among `ids` with a won Opportunity (on the Account, or
        through an `OpportunityContactRole`) and the earliest `CloseDate` of their won ones
        (`connectors.won_deals.WonDealReader`, `connectors.salesforce.won`)."""
        return won_deals(self._reader, kind, ids)

    def property_history(
        self, kind: str, ids: Sequence[str], properties: Sequence[str]
    ) -> PropertyHistories:
        """Field history of `properties` for `ids` (`connectors.history.HistoryReader`)."""
        return read_history(self._api, kind, ids, properties, self._reader.batch_size)

    def list_email_access(self) -> ListEmailAccess:
        """Whether and how list-email results (`ListEmailSentResult`) are read on this org:
        asked once per connector (the Versions resource, uncounted, and on orgs serving API
        67.0 one counted describe), then remembered."""
        return self._reader.list_email.access()

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
            "queries": self._reader.stats.queries,
            "query_rows": self._reader.stats.rows,
            "query_calls_minimum": self._reader.stats.calls_minimum,
            "list_email": (known.note if (known := self._reader.list_email.known) else None),
            "reauthentications": self._api.reauthentications,
            "retries": self._api.retries,
            "bulk_jobs": self._writer.bulk_jobs,
            "daily_share_used": self._api.budget.used,
            "daily_share_limit": self._api.budget.limit,
        }

    def catch_up(self, recorded: int) -> None:
        """Count at least `recorded` calls against `daily_share` in the rolling 24 hours: every
        process's calls the state store holds (`connectors.daily_catch_up`)."""
        self._api.budget.catch_up(recorded)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._api.session.close()
