"""Salesforce activity mapped onto leadsync's canonical events.

    Task, TaskSubtype Email/ListEmail, Subject "Email Opened: <email>" ..... email_open
    Task, TaskSubtype Email/ListEmail, Subject "Email Clicked: <url> (<email>)" email_click
    Task, TaskSubtype Email/ListEmail, Subject "Email Reply: ..." / "Re: ..."   email_reply
    Task, TaskSubtype Call (or Type Call) ................................... call
    Event (StartDateTime) ..................................................... meeting
    CampaignMember with HasResponded = true .................................. campaign_response

Email tracking tools log opens, clicks and replies as Tasks whose subjects follow these patterns
(case-insensitive; "Opened:", "Clicked:" and "Replied:" without the "Email" prefix also match).
Only the last `days` days of activity are read (`LAST_N_DAYS`, evaluated by Salesforce).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scoring.types import Event

_OPEN = re.compile(r"^\s*(?:email\s+)?open(?:ed)?\s*:?\s*(?P<email>.*)$", re.IGNORECASE)
_CLICK = re.compile(
    r"^\s*(?:email\s+)?click(?:ed)?(?:\s+link)?\s*:?\s*(?P<url>\S*)\s*(?:\((?P<email>.*)\))?\s*$",
    re.IGNORECASE,
)
_REPLY = re.compile(
    r"^\s*(?:(?:email\s+)?repl(?:y|ied)\b|re:)\s*:?\s*(?P<email>.*)$", re.IGNORECASE
)

EMAIL_EVENTS = frozenset({"email_open", "email_click", "email_reply"})


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
    """One activity object: how to select it and how to map its rows to events."""

    sobject: str
    relationship: str
    parent_fields: Mapping[str, str]
    fields: tuple[str, ...]
    produces: frozenset[str]

    def parent_field(self, sobject: str) -> str:
        """The field holding the lead or contact id (`WhoId`, `LeadId`, `ContactId`)."""
        return self.parent_fields[sobject]

    def parent_filter(self, sobject: str) -> str:
        """The filter keeping rows of `sobject` parents in a direct (non-subquery) read."""
        if self.sobject in ("Task", "Event"):
            return f"Who.Type = '{sobject}'"
        return f"{self.parent_field(sobject)} != null"

    def where(self, event_types: Collection[str], days: int) -> str:
        """The row filter for the wanted event types."""
        if self.sobject == "Task":
            kinds = []
            if EMAIL_EVENTS & set(event_types):
                kinds.append("TaskSubtype IN ('Email', 'ListEmail')")
            if "call" in event_types:
                kinds.append("TaskSubtype = 'Call' OR Type = 'Call'")
            return f"CreatedDate = LAST_N_DAYS:{days} AND ({' OR '.join(kinds)})"
        if self.sobject == "Event":
            return f"StartDateTime = LAST_N_DAYS:{days}"
        return f"HasResponded = true AND CreatedDate = LAST_N_DAYS:{days}"

    @property
    def order(self) -> str:
        """The order of rows within one parent."""
        return {"Task": "CreatedDate", "Event": "StartDateTime"}.get(self.sobject, "CreatedDate")

    def events(self, row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
        """The canonical events of one row (none when it is not a wanted kind)."""
        if self.sobject == "Task":
            return _task_events(row, event_types)
        if self.sobject == "Event":
            at = parse_datetime(row.get("StartDateTime")) or parse_datetime(row.get("CreatedDate"))
            if at is None or "meeting" not in event_types:
                return []
            attributes = {
                "title": row.get("Subject"),
                "outcome": row.get("Type"),
                "duration_min": row.get("DurationInMinutes"),
            }
            return [Event("meeting", at, attributes)]
        at = parse_datetime(row.get("FirstRespondedDate")) or parse_datetime(row.get("CreatedDate"))
        if at is None or "campaign_response" not in event_types:
            return []
        campaign = row.get("Campaign") or {}
        name = campaign.get("Name") if isinstance(campaign, Mapping) else None
        return [Event("campaign_response", at, {"campaign": name, "status": row.get("Status")})]


def _task_events(row: Mapping[str, Any], event_types: Collection[str]) -> list[Event]:
    at = parse_datetime(row.get("CompletedDateTime")) or parse_datetime(row.get("CreatedDate"))
    if at is None:
        return []
    subtype = str(row.get("TaskSubtype") or "")
    subject = str(row.get("Subject") or "")
    if subtype == "Call" or row.get("Type") == "Call":
        if "call" not in event_types:
            return []
        attributes = {
            "outcome": row.get("CallDisposition") or row.get("Status"),
            "duration_s": row.get("CallDurationInSeconds"),
            "subject": subject,
        }
        return [Event("call", at, attributes)]
    if subtype not in ("Email", "ListEmail"):
        return []
    click = _CLICK.match(subject)
    if click and "email_click" in event_types:
        email = (click.group("email") or "").strip()
        return [Event("email_click", at, {"url": click.group("url"), "email": email})]
    opened = _OPEN.match(subject)
    if opened and not click and "email_open" in event_types:
        name = opened.group("email").strip()
        return [Event("email_open", at, {"email": name, "campaign": name})]
    reply = _REPLY.match(subject)
    if reply and "email_reply" in event_types:
        return [Event("email_reply", at, {"email": reply.group("email").strip()})]
    return []


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
    frozenset({"email_open", "email_click", "email_reply", "call"}),
)
EVENTS = ActivitySource(
    "Event",
    "Events",
    {"Lead": "WhoId", "Contact": "WhoId"},
    ("Id", "Subject", "Type", "StartDateTime", "DurationInMinutes", "CreatedDate"),
    frozenset({"meeting"}),
)
CAMPAIGN_MEMBERS = ActivitySource(
    "CampaignMember",
    "CampaignMembers",
    {"Lead": "LeadId", "Contact": "ContactId"},
    ("Id", "Status", "HasResponded", "FirstRespondedDate", "CreatedDate", "Campaign.Name"),
    frozenset({"campaign_response"}),
)
SOURCES = (TASKS, EVENTS, CAMPAIGN_MEMBERS)


def sources_for(event_types: Collection[str]) -> list[ActivitySource]:
    """The activity objects needed for the wanted event types."""
    wanted = set(event_types)
    return [source for source in SOURCES if source.produces & wanted]
