"""Salesforce activity mapped onto leadsync's canonical events.

    EmailMessageRelation ToAddress -> EmailMessage.FirstOpenedDate ........ email_open
                                      EmailMessage.LastOpenedDate (later) . email_open
                                      EmailMessage.FirstLinkClickedDate ... email_click
    EmailMessageRelation FromAddress -> incoming EmailMessage.MessageDate .. email_reply
    EmailStatus (list and mass email) FirstOpenDate, LastOpenDate (later) . email_open
    ListEmailSentResult (API 67.0+) FirstOpenedDate ....................... email_open
                                    FirstClickedDate, LastClickedDate ..... email_click
                                    HasReply (dated at the send) .......... email_reply
    Task with TaskSubtype Call (or Type Call) ............................. call
    Event StartDateTime (past and future) ................................. meeting
    CampaignMember with HasResponded = true ............................... campaign_response

Tracked one-to-one email (Enhanced Email) is an `EmailMessage`, linked to the lead or contact
it went to (`ToAddress`) or came from (`FromAddress`) by `EmailMessageRelation`. Salesforce
keeps its first and last open and its first link click, not every open: an email opened five
times yields two `email_open` events (first and last), or one when both are the same moment.
A reply is an incoming EmailMessage from the lead or contact. List and mass email opens are
`EmailStatus` rows (`TimesOpened`, `FirstOpenDate`, `LastOpenDate`); Salesforce serves them only
as the `EmailStatuses` subquery of Lead and Contact, so they ride in the record query itself.
List emails also have a result per recipient, `ListEmailSentResult`, from API 67.0 and with
engagement fields only where the org has them (`connectors.salesforce.list_email` finds out):
its first open, first and last link click, and whether the recipient replied (Salesforce keeps
no reply date: the reply is dated at the send). One send can show in several objects: its Task
(`EmailStatus.TaskId`, `EmailMessage.ActivityId`, `ListEmailSentResult.ActivityId`) ties them,
and `merge_events` keeps a list-email result's open or click only when no EmailStatus or
EmailMessage of that Task gave one (EmailStatus keeps the last open and the count too).
Account Engagement (Pardot) keeps its own score, grade and activity dates as fields on leads and
contacts (`pi__score__c`, `pi__grade__c`, `pi__last_activity__c`, ...): models name them as
properties, no activity object is read for them.

Only the last `days` days of activity are read (`LAST_N_DAYS`, evaluated by Salesforce), and
meetings booked ahead (Event `StartDateTime` after now) as well: an event dated in the future
counts at full strength until it happens, and rules tell past from future meetings by the
`start` attribute (`where: {start: {older_than_days: 0}}` is a meeting that has started).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scoring.types import Event

EMAIL_EVENTS = frozenset({"email_open", "email_click", "email_reply"})
Mapper = Callable[[Mapping[str, Any], Collection[str]], list[Event]]


def row_value(row: Mapping[str, Any], path: str) -> Any:
    """The value at `path` (`Account.Industry`: a relationship, then its field) in a query
    row, None where a step is missing. Salesforce answers with each name's canonical casing; a
    model may not use it, so a step not found as written is looked up case-insensitively."""
    current: Any = row
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        found = current.get(part)
        if found is None:
            found = next((v for k, v in current.items() if k.lower() == part.lower()), None)
        current = found
    return current


def parse_datetime(value: object) -> datetime | None:
    """A Salesforce datetime (`2026-11-20T10:15:30.000+0000`) or date as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if len(text) == 10:
        text += "T00:00:00+0000"
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    except ValueError:
        try:
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
        except ValueError:
            return None


@dataclass(frozen=True)
class ActivitySource:
    """One activity object: how to select it and how to map its rows to events.

    `relationship` names the child relationship of Lead and Contact that carries the object in
    a subquery (None when it has none); `direct` says whether the object can be queried on its
    own (EmailStatus cannot).
    """

    sobject: str
    relationship: str | None
    parent_fields: Mapping[str, str]
    fields: tuple[str, ...]
    produces: frozenset[str]
    filters: Callable[[Collection[str], int], str]
    order: str
    mapper: Mapper
    direct: bool = True
    #: the API version its queries are sent at (None: the connector's own)
    version: str | None = None
    #: the field holding the Task of the send, which ties one email's rows across objects
    task_field: str | None = None

    def parent_field(self, sobject: str) -> str:
        """The field holding the lead or contact id (`WhoId`, `LeadId`, `RelationId`)."""
        return self.parent_fields[sobject]

    def parent_filter(self, sobject: str) -> str:
        """The filter keeping rows of `sobject` parents in a direct (non-subquery) read."""
        if self.sobject in ("Task", "Event"):
            return f"Who.Type = '{sobject}'"
        if self.sobject == "EmailMessageRelation":
            return f"RelationObjectType = '{sobject}'"
        if self.sobject == "ListEmailSentResult":
            return f"Recipient.Type = '{sobject}'"
        return f"{self.parent_field(sobject)} != null"

    def where(self, event_types: Collection[str], days: int) -> str:
        """The row filter for the wanted event types."""
        return self.filters(event_types, days)

    def events(self, row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
        """The canonical events of one row (none when it is not a wanted kind)."""
        return self.mapper(row, event_types)

    def task_of(self, row: Mapping[str, Any]) -> str | None:
        """The Task of the send a row describes, if the object names it."""
        if self.task_field is None:
            return None
        value = row_value(row, self.task_field)
        return str(value) if value else None


#: Sources whose events of a Task give way to another source's events of the same Task.
_YIELDING = frozenset({"ListEmailSentResult"})


def merge_events(
    children: list[tuple[ActivitySource, Mapping[str, Any]]], event_types: Collection[str]
) -> list[Event]:
    """The events of one record's activity rows, each send counted once: a list-email result's
    events of a type that an EmailStatus or EmailMessage of the same Task already gave are
    dropped (those objects keep more: the last open, the count, the subject)."""
    events: list[Event] = []
    covered: set[tuple[str, str]] = set()
    later: list[tuple[ActivitySource, Mapping[str, Any]]] = []
    for source, row in children:
        if source.sobject in _YIELDING:
            later.append((source, row))
            continue
        produced = source.events(row, event_types)
        task = source.task_of(row)
        if task is not None:
            covered.update((task, e.type) for e in produced)
        events += produced
    for source, row in later:
        task = source.task_of(row)
        events += [
            e
            for e in source.events(row, event_types)
            if task is None or (task, e.type) not in covered
        ]
    return events


def _opens(
    first: datetime | None, last: datetime | None, attributes: dict[str, Any]
) -> list[Event]:
    """The first and (when later) last open Salesforce keeps for one email."""
    moments = [m for m in (first, last) if m is not None]
    unique = sorted(set(moments))
    return [Event("email_open", at, attributes) for at in unique]


def _email_message_events(row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
    message = row.get("EmailMessage")
    if not isinstance(message, Mapping):
        return []
    subject = message.get("Subject")
    events: list[Event] = []
    if row.get("RelationType") == "FromAddress":
        at = parse_datetime(message.get("MessageDate"))
        if message.get("Incoming") and at is not None and "email_reply" in event_types:
            events.append(Event("email_reply", at, {"email": subject, "source": "EmailMessage"}))
        return events
    attributes = {"email": subject, "source": "EmailMessage"}
    if "email_open" in event_types:
        events += _opens(
            parse_datetime(message.get("FirstOpenedDate")),
            parse_datetime(message.get("LastOpenedDate")),
            attributes,
        )
    clicked = parse_datetime(message.get("FirstLinkClickedDate"))
    if clicked is not None and "email_click" in event_types:
        events.append(Event("email_click", clicked, {**attributes, "url": None}))
    return events


def _email_message_filter(event_types: Collection[str], days: int) -> str:
    kinds = []
    if {"email_open", "email_click"} & set(event_types):
        kinds.append("(RelationType = 'ToAddress' AND EmailMessage.Incoming = false)")
    if "email_reply" in event_types:
        kinds.append("(RelationType = 'FromAddress' AND EmailMessage.Incoming = true)")
    return f"EmailMessage.MessageDate = LAST_N_DAYS:{days} AND ({' OR '.join(kinds)})"


def _email_status_events(row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
    if "email_open" not in event_types:
        return []
    attributes = {
        "email": row.get("EmailTemplateName"),
        "source": "EmailStatus",
        "times_opened": row.get("TimesOpened"),
    }
    return _opens(
        parse_datetime(row.get("FirstOpenDate")),
        parse_datetime(row.get("LastOpenDate")),
        attributes,
    )


def list_email_events(row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
    """A list-email result's events: its first open, first and (when later) last click, and a
    reply, dated at the send (Salesforce keeps no reply date). Fields the org lacks are absent
    from the row and give nothing."""
    attributes = {"email": row.get("ListEmailId"), "source": "ListEmailSentResult"}
    events: list[Event] = []
    opened = parse_datetime(row.get("FirstOpenedDate"))
    if opened is not None and "email_open" in event_types:
        events.append(Event("email_open", opened, attributes))
    if "email_click" in event_types:
        clicks = {
            at
            for at in (
                parse_datetime(row.get("FirstClickedDate")),
                parse_datetime(row.get("LastClickedDate")),
            )
            if at is not None
        }
        events += [Event("email_click", at, {**attributes, "url": None}) for at in sorted(clicks)]
    sent = parse_datetime(row.get("CreatedDate"))
    if row.get("HasReply") is True and sent is not None and "email_reply" in event_types:
        events.append(Event("email_reply", sent, attributes))
    return events


def list_email_filter(event_types: Collection[str], days: int, fields: Collection[str]) -> str:
    """Rows of sends within `days` that show any wanted engagement among `fields`."""
    wanted = set(event_types)
    shown = []
    if "email_open" in wanted and "FirstOpenedDate" in fields:
        shown.append("FirstOpenedDate != null")
    if "email_click" in wanted and "FirstClickedDate" in fields:
        shown.append("FirstClickedDate != null")
    if "email_reply" in wanted and "HasReply" in fields:
        shown.append("HasReply = true")
    return f"CreatedDate = LAST_N_DAYS:{days} AND ({' OR '.join(shown)})"


def _task_events(row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
    at = parse_datetime(row.get("CompletedDateTime")) or parse_datetime(row.get("CreatedDate"))
    is_call = row.get("TaskSubtype") == "Call" or row.get("Type") == "Call"
    if at is None or not is_call or "call" not in event_types:
        return []
    attributes = {
        "outcome": row.get("CallDisposition") or row.get("Status"),
        "duration_s": row.get("CallDurationInSeconds"),
        "subject": row.get("Subject"),
    }
    return [Event("call", at, attributes)]


def _meeting_events(row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
    at = parse_datetime(row.get("StartDateTime")) or parse_datetime(row.get("CreatedDate"))
    if at is None or "meeting" not in event_types:
        return []
    attributes = {
        "title": row.get("Subject"),
        "outcome": row.get("Type"),
        "duration_min": row.get("DurationInMinutes"),
        "start": row.get("StartDateTime"),
    }
    return [Event("meeting", at, attributes)]


def _campaign_events(row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
    at = parse_datetime(row.get("FirstRespondedDate")) or parse_datetime(row.get("CreatedDate"))
    if at is None or "campaign_response" not in event_types:
        return []
    campaign = row.get("Campaign") or {}
    name = campaign.get("Name") if isinstance(campaign, Mapping) else None
    return [Event("campaign_response", at, {"campaign": name, "status": row.get("Status")})]


TASKS = ActivitySource(
    "Task",
    "Tasks",
    {"Lead": "WhoId", "Contact": "WhoId"},
    (
        "Id",
        "Subject",
        "TaskSubtype",
        "Type",
        "Status",
        "CallDurationInSeconds",
        "CallDisposition",
        "CreatedDate",
        "CompletedDateTime",
    ),
    frozenset({"call"}),
    lambda types, days: (
        f"CreatedDate = LAST_N_DAYS:{days} AND (TaskSubtype = 'Call' OR Type = 'Call')"
    ),
    "CreatedDate",
    _task_events,
)
EVENTS = ActivitySource(
    "Event",
    "Events",
    {"Lead": "WhoId", "Contact": "WhoId"},
    ("Id", "Subject", "Type", "StartDateTime", "DurationInMinutes", "CreatedDate"),
    frozenset({"meeting"}),
    # `>=` the range's start keeps every meeting booked ahead
    lambda types, days: f"StartDateTime >= LAST_N_DAYS:{days}",
    "StartDateTime",
    _meeting_events,
)
CAMPAIGN_MEMBERS = ActivitySource(
    "CampaignMember",
    "CampaignMembers",
    {"Lead": "LeadId", "Contact": "ContactId"},
    ("Id", "Status", "HasResponded", "FirstRespondedDate", "CreatedDate", "Campaign.Name"),
    frozenset({"campaign_response"}),
    lambda types, days: f"HasResponded = true AND CreatedDate = LAST_N_DAYS:{days}",
    "CreatedDate",
    _campaign_events,
)
EMAIL_MESSAGES = ActivitySource(
    "EmailMessageRelation",
    None,
    {"Lead": "RelationId", "Contact": "RelationId"},
    (
        "Id",
        "RelationId",
        "RelationType",
        "EmailMessage.Subject",
        "EmailMessage.MessageDate",
        "EmailMessage.Incoming",
        "EmailMessage.FirstOpenedDate",
        "EmailMessage.LastOpenedDate",
        "EmailMessage.FirstLinkClickedDate",
        "EmailMessage.ActivityId",
    ),
    EMAIL_EVENTS,
    _email_message_filter,
    "CreatedDate",
    _email_message_events,
    task_field="EmailMessage.ActivityId",
)
EMAIL_STATUSES = ActivitySource(
    "EmailStatus",
    "EmailStatuses",
    {"Lead": "WhoId", "Contact": "WhoId"},
    ("Id", "TaskId", "EmailTemplateName", "TimesOpened", "FirstOpenDate", "LastOpenDate"),
    frozenset({"email_open"}),
    lambda types, days: f"TimesOpened > 0 AND LastOpenDate = LAST_N_DAYS:{days}",
    "FirstOpenDate",
    _email_status_events,
    direct=False,
    task_field="TaskId",
)
SOURCES = (TASKS, EVENTS, CAMPAIGN_MEMBERS, EMAIL_MESSAGES, EMAIL_STATUSES)


def sources_for(
    event_types: Collection[str], extra: ActivitySource | None = None
) -> list[ActivitySource]:
    """The activity objects needed for the wanted event types (and `extra`, the list-email
    results where the org has them)."""
    wanted = set(event_types)
    found = [source for source in SOURCES if source.produces & wanted]
    return [*found, extra] if extra is not None and extra.produces & wanted else found
