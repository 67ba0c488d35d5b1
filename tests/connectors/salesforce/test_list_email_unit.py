"""List-email results without a server: what discovery makes of each answer the org can give
(the fields read are the fields it has), the events of one result, and one send counted once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.errors import MissingPermission
from connectors.salesforce.activity import EMAIL_STATUSES, merge_events
from connectors.salesforce.list_email import ListEmailDiscovery

ALL = {"email_open", "email_click", "email_reply"}
SENT, OPENED, CLICKED, LATER = (
    "2026-10-01T09:00:00.000+0000",
    "2026-10-01T10:00:00.000+0000",
    "2026-10-01T10:05:00.000+0000",
    "2026-10-03T08:00:00.000+0000",
)


def _at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(dt.UTC)


class FakeOrg:
    """The two calls discovery makes, answered from fixed data; records what was asked."""

    def __init__(self, newest: str, fields: list[str] | None) -> None:
        self.newest = newest
        self.fields = fields
        self.asked: list[tuple[str, str | None]] = []

    def versions(self) -> list[dict[str, Any]]:
        self.asked.append(("versions", None))
        return [{"version": v} for v in ("31.0", "62.0", self.newest)]

    def rest(self, endpoint: str, path: str, *, version: str | None = None) -> Any:
        self.asked.append((path, version))
        if self.fields is None:
            raise MissingPermission("HTTP 404 NOT_FOUND")
        return {"fields": [{"name": n} for n in ["Id", "RecipientId", *self.fields]]}


def _discover(org: FakeOrg) -> Any:
    return ListEmailDiscovery(org).access()  # type: ignore[arg-type]


def test_an_org_with_some_engagement_fields_is_read_for_what_they_give_and_only_them():
    org = FakeOrg("67.0", ["FirstOpenedDate", "IsOpened"])
    access = _discover(org)
    assert org.asked == [
        ("versions", None),
        ("sobjects/ListEmailSentResult/describe", "67.0"),
    ]
    assert access.produces() == {"email_open"}
    assert access.note == (
        "ListEmailSentResult read at API 67.0 for email_open (FirstOpenedDate); this org lacks "
        "FirstClickedDate, HasReply"
    )
    source = access.source(ALL)
    assert source is not None and source.version == "67.0"
    assert source.fields == (
        "Id",
        "RecipientId",
        "ActivityId",
        "ListEmailId",
        "CreatedDate",
        "FirstOpenedDate",
    )
    assert source.where(ALL, 365) == "CreatedDate = LAST_N_DAYS:365 AND (FirstOpenedDate != null)"
    assert source.parent_filter("Contact") == "Recipient.Type = 'Contact'"
    assert access.source({"email_reply"}) is None


def test_every_field_read_for_every_email_type_and_no_object_where_it_cannot_be_described():
    full = _discover(
        FakeOrg(
            "68.0",
            ["FirstOpenedDate", "FirstClickedDate", "LastClickedDate", "HasReply", "IsClicked"],
        )
    )
    source = full.source(ALL)
    assert source is not None
    assert source.fields[5:] == (
        "FirstOpenedDate",
        "FirstClickedDate",
        "LastClickedDate",
        "HasReply",
    )
    assert source.where({"email_click", "email_reply"}, 90) == (
        "CreatedDate = LAST_N_DAYS:90 AND (FirstClickedDate != null OR HasReply = true)"
    )
    hidden = _discover(FakeOrg("67.0", None))
    assert hidden.version is None and hidden.source(ALL) is None
    assert hidden.note.startswith(
        "ListEmailSentResult not read: the org serves API 67.0 but the integration user cannot "
        "describe the object at 67.0 (HTTP 404 NOT_FOUND)"
    )
    old = FakeOrg("66.0", [])
    assert _discover(old).version is None and old.asked == [("versions", None)]


def _result(**fields: Any) -> dict[str, Any]:
    return {
        "Id": "0Xs1",
        "RecipientId": "00Q1",
        "ListEmailId": "0XB1",
        "CreatedDate": SENT,
        **fields,
    }


def test_a_result_gives_its_first_open_clicks_and_a_reply_dated_at_the_send():
    source = _discover(
        FakeOrg("67.0", ["FirstOpenedDate", "FirstClickedDate", "LastClickedDate", "HasReply"])
    ).source(ALL)
    row = _result(
        ActivityId=None,
        FirstOpenedDate=OPENED,
        FirstClickedDate=CLICKED,
        LastClickedDate=LATER,
        HasReply=True,
    )
    events = merge_events([(source, row)], ALL)
    assert [(e.type, e.at) for e in events] == [
        ("email_open", _at(OPENED)),
        ("email_click", _at(CLICKED)),
        ("email_click", _at(LATER)),
        ("email_reply", _at(SENT)),
    ]
    assert dict(events[1].attributes) == {
        "email": "0XB1",
        "source": "ListEmailSentResult",
        "url": None,
    }
    once = _result(
        ActivityId=None, FirstClickedDate=CLICKED, LastClickedDate=CLICKED, HasReply=False
    )
    assert [e.type for e in merge_events([(source, once)], ALL)] == ["email_click"]


def test_a_send_with_an_email_status_counts_its_open_once_and_keeps_its_clicks():
    source = _discover(FakeOrg("67.0", ["FirstOpenedDate", "FirstClickedDate"])).source(ALL)
    status = {
        "Id": "0181",
        "TaskId": "00T1",
        "EmailTemplateName": "Q3",
        "TimesOpened": 2,
        "FirstOpenDate": OPENED,
        "LastOpenDate": LATER,
    }
    twin = _result(ActivityId="00T1", FirstOpenedDate=OPENED, FirstClickedDate=CLICKED)
    other = _result(Id="0Xs2", ActivityId="00T2", FirstOpenedDate=LATER)
    events = merge_events([(source, twin), (EMAIL_STATUSES, status), (source, other)], ALL)
    assert sorted((e.type, e.at, e.attributes["source"]) for e in events) == [
        ("email_click", _at(CLICKED), "ListEmailSentResult"),
        ("email_open", _at(OPENED), "EmailStatus"),
        ("email_open", _at(LATER), "EmailStatus"),
        ("email_open", _at(LATER), "ListEmailSentResult"),
    ]


def test_the_answer_is_asked_again_a_day_later_and_follows_the_org():
    # A daemon runs for months: an org that gains API 67.0 (a Salesforce release) is read
    # from the day after, without a restart; in between, the answer costs no call.
    org = FakeOrg("62.0", ["FirstOpenedDate", "FirstClickedDate", "HasReply"])
    now = [0.0]
    discovery = ListEmailDiscovery(org, clock=lambda: now[0])  # type: ignore[arg-type]
    assert discovery.access().version is None
    assert org.asked == [("versions", None)]
    now[0] = 86_399.0
    org.newest = "67.0"
    assert discovery.access().version is None  # still the day's answer
    assert len(org.asked) == 1
    now[0] = 86_400.0
    access = discovery.access()
    assert (access.version, access.produces()) == ("67.0", frozenset(ALL))
    assert org.asked[1:] == [("versions", None), ("sobjects/ListEmailSentResult/describe", "67.0")]
    assert discovery.known == access
