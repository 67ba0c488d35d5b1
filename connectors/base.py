"""The connector protocol: the one seam between the sync engine and a CRM.

Vendor types (SDK models, simple-salesforce objects) never cross it: connectors speak in
`scoring.types.Record`, `Page`, `Change`, `WriteResult` and `SchemaReport`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Literal, Protocol

from connectors.dayzone import AccountZone
from scoring.account_link import account_id
from scoring.types import Record

OutputType = Literal["number", "enumeration", "bool", "text", "string", "datetime"]


@dataclass(frozen=True, slots=True)
class OutputField:
    """One leadsync output property as the CRM should hold it (canonical name, not CRM name)."""

    name: str
    label: str
    type: OutputType
    options: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of records and the opaque cursor that resumes reading after it.

    `rescore`: the records were read again because a record their model reads changed (their
    company or Account), not because they did; the engine scores them even when their own
    version is scored already.
    """

    records: Sequence[Record]
    cursor: str | None
    rescore: bool = False


@dataclass(frozen=True, slots=True)
class AccountChange:
    """An account (HubSpot company, Salesforce Account) modified in a read's window: its id,
    its modification time, and whether the CRM says its last change is the integration
    user's own (None: the CRM does not say; HubSpot)."""

    id: str
    modified: datetime | None
    by_us: bool | None = None


@dataclass(frozen=True, slots=True)
class ReadHints:
    """What the engine knows that lets a connector read less; every part is optional.

    `events_since`: per canonical event type, the earliest occurrence the model can still
    score (events before it are not needed). `scored(pairs)`: given `(record id, updated_at)`
    pairs, the ids whose version is already scored with the current model; the engine will not
    score them again, so the connector need not fetch their events or related records.
    `stored(ids)`: the inputs the current model last scored each of `ids` with (the model's
    properties, the connector's engagement gates, `connectors.engagement_gates`, and the events
    of the model's types), for the ids that have them; a record whose gates did not move since
    may take its events from there. `accounts_seen(changes)`: given `AccountChange`s of
    accounts (HubSpot companies) modified in an incremental read's window, the ids of those
    whose modification the people have seen or that is only leadsync's own score write.
    `account_results()`: for a people model reading its account's result (`account.grade`),
    the accounts whose stored result changed since the people were last read
    (`AccountResults`); an incremental read also reads again those accounts' people whose
    stored inputs do not hold the new values (the result lives in leadsync, not the CRM, so
    no modification time shows the change).
    """

    events_since: Mapping[str, datetime] = field(default_factory=dict)
    scored: Callable[[Sequence[tuple[str, datetime | None]]], Collection[str]] | None = None
    stored: Callable[[Sequence[str]], Mapping[str, Record]] | None = None
    accounts_seen: Callable[[Sequence[AccountChange]], Collection[str]] | None = None
    account_results: Callable[[], AccountResults] | None = None


@dataclass(frozen=True, slots=True)
class AccountResults:
    """Accounts whose leadsync result changed since their people were last read: per account
    id, the `account.<field>` values the people's model reads now. `link` is the person's
    field naming its account (`associatedcompanyid`, `AccountId`); a person's stored inputs
    keep it and the `account.` values it was scored with."""

    link: str
    values: Mapping[str, Mapping[str, object]]

    def expected(self, snapshot: Record) -> list[tuple[str, object]]:
        """The `(property, value)` pairs `snapshot` (a person's stored inputs) must hold for
        its scoring to have seen its account's current result: none when its account is not
        one of these."""
        account = account_id(snapshot.properties.get(self.link))
        values = self.values.get(account) if account is not None else None
        return list(values.items()) if values else []


@dataclass(frozen=True, slots=True)
class MemberRequest:
    """What an account model reads of each account's people: their properties and events
    (besides their leadsync outputs, always read). `horizon_days`: the oldest member event the
    roll-ups can count, in days before now (None: no bound), so a connector reading activity
    per person reads no older rows."""

    properties: frozenset[str]
    event_types: frozenset[str]
    horizon_days: float | None = None
    #: The people's output keys the score roll-ups read (`interest`, a prefixed people
    #: model's `pl_b_interest`), each model's with its `scored_at` (point in time), read in the
    #: same member reads.
    outputs: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Change:
    """Output values to write to one record, keyed by canonical output name."""

    record_id: str
    values: Mapping[str, object]


class WriteAction(Enum):
    """What becomes of one record's write, decided once by the connector that read the CRM's
    answer (after airbyte's `ResponseAction`); the engine acts on it and never reads CRM codes.

    `RETRY` and `PAUSE_OUTAGE` keep the write for later, `DEAD_LETTER` and `GONE` end it.
    """

    #: The CRM holds the values (or already held them).
    APPLIED = "applied"
    #: Passing trouble with this record (a locked row, an internal error on one input): write
    #: it again in a later batch, a bounded number of times, then dead-letter it.
    RETRY = "retry"
    #: The CRM is unavailable (the connector's retries are spent): pause the run as in an
    #: outage, then write it again; never counted against the record.
    PAUSE_OUTAGE = "pause_outage"
    #: The CRM refuses these values: park the write for review and `retry-dead-letters`.
    DEAD_LETTER = "dead_letter"
    #: The record no longer exists or can no longer take scores: drop the write.
    GONE = "gone"


@dataclass(frozen=True, slots=True, eq=False)
class ResentCall:
    """One call by which a connector sent records' writes again after a retryable error: its
    retry layer repeating a call the CRM may have acted on (a dropped connection, a 5xx, a
    timeout: `connectors.retry.sent_again`), or records that failed with a retryable code sent
    in a new call. Every `WriteResult` of a record the call carried holds the same object, so
    the engine counts each call once; equality is identity (two re-sends to one endpoint are
    two calls). `reason` is the error that caused it."""

    endpoint: str
    reason: str

    @classmethod
    def after(cls, endpoint: str, error: BaseException) -> ResentCall:
        """The call to `endpoint` sent again after `error` (its message, at most 200
        characters, as the reason)."""
        return cls(endpoint, str(error)[:200] or type(error).__name__)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of writing one record: the action it calls for, with the CRM's code and
    message when it failed.

    `modified_at` is the record's modification time after the write, when the CRM's reply
    says it (HubSpot batch updates do): the engine remembers it, so that reading the record
    again because of this write alone costs no scoring. `resent`: the calls by which the
    connector sent this record's write again, in order (the engine counts each record of each
    as a write retried)."""

    record_id: str
    action: WriteAction
    error_code: str | None = None
    message: str | None = None
    modified_at: datetime | None = None
    resent: tuple[ResentCall, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the CRM holds the values."""
        return self.action is WriteAction.APPLIED


@dataclass(frozen=True, slots=True)
class FieldStatus:
    """What `ensure_schema` found (or did) for one output field.

    `incomplete`: a dropdown or picklist of the right type lacking options the model's grades or
    labels need; `leadsync setup --apply` adds them (a `conflict`, another type, it never fixes).
    """

    name: str
    crm_name: str
    state: Literal["ok", "missing", "created", "conflict", "incomplete", "updated"]
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SchemaReport:
    """The result of `ensure_schema`: per field status plus other actions (groups, permissions)."""

    kind: str
    fields: tuple[FieldStatus, ...]
    actions: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every field exists with a compatible type."""
        return all(f.state in ("ok", "created", "updated") for f in self.fields)


@dataclass(slots=True)
class ApiUsage:
    """API calls this connector made, by outcome; read by the engine for run counts and metrics.

    `account_zone` is the time zone the CRM account's day (and daily allowance) runs in, when
    this connector looked it up from the CRM; the engine stores it for later processes.
    """

    calls: int = 0
    rate_limited: int = 0
    errors: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    daily_used: int | None = None
    daily_limit: int | None = None
    account_zone: AccountZone | None = None


class CallMeter(Protocol):
    """Told of every API call a connector sends, as `ApiUsage` counts it, so the engine can
    record the calls durably while they are spent (`sync.call_log.CallLog`). Called on the
    connector's HTTP threads, outside the connector's own locks; it must be cheap."""

    def spent(self, calls: int, rate_limited: int) -> None:
        """`calls` more calls sent (usually 1), `rate_limited` more refused for rate."""
        ...


class WriteJournal(Protocol):
    """Durable notes of the server-side jobs a connector starts while writing (Salesforce Bulk
    API 2.0 ingest jobs) and of the calls it sends that write more than one API batch
    (Salesforce composite calls), kept by the engine in the state store, so that after a crash
    the connector finds a job or call that may have applied its rows and reconciles them
    instead of sending those rows again. Rows are identified by record id and a digest of what
    was sent."""

    def started(self, job: str, rows: Mapping[str, str]) -> None:
        """Note `job` (a server-side job's id, or one the connector gives a call) and
        `{record_id: digest}` of its rows; durable when this returns, and called before any of
        its data is sent."""
        ...

    def jobs(self) -> list[tuple[str, dict[str, str]]]:
        """Jobs noted and not settled yet (the engine settles one once none of its records
        waits in the outbox), oldest first."""
        ...


class Connector(Protocol):
    """I/O with one CRM account. Implementations classify errors into `connectors.errors`."""

    crm: str
    #: True when `write` may run on another thread while pages of `iter_pages` are being read
    #: (the engine then writes a full run's batches beside its reading).
    concurrent_writes: bool

    def ensure_schema(
        self, kind: str, outputs: Sequence[OutputField], *, apply: bool
    ) -> SchemaReport:
        """Verify (and with `apply`, create) the output properties for `kind`."""
        ...

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
        """Stream records of `kind` modified at or after `since` (all when None).

        Only `fields` (CRM property names the model references) and events of `event_types` are
        fetched, plus the current output values. `resume` is a cursor from an earlier `Page`;
        `hints` let the connector skip what the engine will not use. With `members` (account
        kinds), each account carries its people (`Record.members`), and an incremental read
        also yields the accounts one of whose people changed since `since`. An incremental read
        of people whose fields name their account's values (`company.<property>`,
        `Account.<field>`) also yields, as `Page.rescore` pages, the people not read yet of the
        accounts modified since `since` (not counting leadsync's own writes).
        """
        ...

    def write(
        self, kind: str, changes: Sequence[Change], *, journal: WriteJournal | None = None
    ) -> list[WriteResult]:
        """Write output values in the CRM's largest batches; one result per change, in order.

        A connector that writes through server-side jobs notes each in `journal` before its
        data goes out, and first reconciles the noted jobs that hold any of `changes` (records
        a job already wrote get that job's outcome, unsent).

        A failure of one record is a result whose `WriteAction` says what to do about it; a
        request the CRM refuses whole is split (`connectors.batching.isolate_rejected`) so the
        records at fault stand alone. Raises only for what stops every write (auth,
        permissions, budget, an outage that outlasted the connector's retries).
        """
        ...

    def write_parts(self, changes: Sequence[Change]) -> list[Sequence[Change]]:
        """`changes` split as `write` sends them, one part per API call (HubSpot batches of
        100, Salesforce composite calls of up to five collections of 200; one Bulk API job is
        one part, its crash cost covered by the `WriteJournal`). The engine writes the parts one
        after another and ledgers each before the next, so a crash sends at most one call's
        worth again."""
        ...

    def fetch(
        self,
        kind: str,
        record_ids: Sequence[str],
        fields: Collection[str],
        event_types: Collection[str],
        members: MemberRequest | None = None,
    ) -> list[Record]:
        """Read specific records by id (explain, retries of dead letters), with their people
        when `members` is given."""
        ...

    @property
    def usage(self) -> ApiUsage:
        """Calls made so far by this connector instance."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
