"""Seeded, realistic org data: users, accounts, campaigns, leads, contacts and their activity.

Every lead has fit fields as a sales org holds them (Title, Industry, NumberOfEmployees,
AnnualRevenue, Country, LeadSource, Status, Rating, HasOptedOutOfEmail), with the usual dirt:
shouted or padded titles, blank industries and sizes, country spelled five ways, free-mail
addresses, test records. Activity, dated over the last year and denser for engaged leads: tracked
one-to-one emails (a Task, an EmailMessage with its first and last open and first link click,
EmailMessageRelations to the rep and the lead; some unopened, some answered by an incoming
EmailMessage), list emails (a ListEmail Task, an EmailStatus with times opened, first and
last open, some unopened, and the send's ListEmailSentResult with its first open, first and last
click and reply flag; some list emails sent from Account Engagement have only a
ListEmailSentResult), call Tasks, Events (meetings, a fifth of them booked ahead) and
CampaignMembers. About 70% of leads and contacts carry Account Engagement (Pardot) score, grade
and activity dates, readable through the `Account_Engagement_Fields` permission set.

The hidden outcome of each lead (will it convert to a won opportunity?) is drawn from a logistic
function of its true fit and of its recent, decayed engagement, so a sensible scoring model
ranks converters above the rest; a quarter as many again convert to an opportunity that is lost.
Conversions dated in the past are partly visible already, made as Salesforce converts: a
read-only converted lead with a Contact and an Account from its fields, an Opportunity won or
lost 30 days later (still open if that is after `now`) with the Contact as its primary
OpportunityContactRole, and its activity and campaign memberships moved to the Contact.
`Store.outcomes` holds every lead's truth (converted = converted with a won opportunity) for
backtests.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
from collections.abc import Sequence
from typing import Any, TypeVar

from sandbox.salesforce.ids import object_of
from sandbox.salesforce.schema import ACCOUNT_ENGAGEMENT_FIELDS, INDUSTRIES
from sandbox.salesforce.store import Outcome, Store
from sandbox.salesforce.values import format_date
from sandbox.salesforce.vocabulary import (
    ACCOUNT_ENGAGEMENT_EMAILS,
    CAMPAIGNS,
    COMPANY_A,
    COMPANY_B,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    EMAILS,
    FIRST,
    FREE_MAIL,
    GOOD_INDUSTRIES,
    LAST,
    LIST_EMAILS,
    PARDOT_GRADES,
    TITLE_WEIGHTS,
    TITLES,
)

T = TypeVar("T")
DAY = 86_400


@functools.cache
def _cumulative(weights: tuple[float, ...]) -> tuple[list[float], float]:
    return list(itertools.accumulate(weights)), sum(weights)


def _weighted(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> T:
    cumulative, total = _cumulative(tuple(weights))
    return items[bisect.bisect(cumulative, rng.random() * total)]


def _company(rng: random.Random) -> tuple[str, str]:
    name = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)}"
    domain = name.lower().replace(" ", "").replace("&", "") + rng.choice(
        (".com", ".io", ".co", ".net")
    )
    return name, domain


def _employees(rng: random.Random) -> int:
    return int(math.exp(rng.uniform(math.log(2), math.log(50_000))))


def generate(store: Store, *, leads: int, seed: int, accounts: int | None = None) -> None:
    """Fill an empty store with a seeded org of `leads` leads and everything around them
    (`accounts` prospect Accounts, by default one per 20 leads)."""
    rng = random.Random(seed)
    now = store.now_epoch
    with store.lock:
        _users(store, now)
        _account_engagement_access(store, now)
        account_ids = _accounts(store, rng, accounts or max(5, leads // 20), now)
        campaigns = [
            store.load(
                "Campaign",
                {
                    "Name": name,
                    "Type": kind,
                    "Status": "Completed",
                    "IsActive": True,
                    **stamps(rng, now, 400),
                },
            )
            for name, kind in CAMPAIGNS
        ]
        for _ in range(leads):
            _lead(store, rng, now, campaigns)
        _move_converted_activity(store)
        for _ in range(leads // 4):
            account = rng.choice(account_ids)
            _contact(store, rng, now, account, campaigns)


def stamps(
    rng: random.Random, now: int, max_age_days: int, owner: str | None = None
) -> dict[str, Any]:
    """Created, modified and system stamps of a record up to `max_age_days` old."""
    created = now - rng.randint(DAY, max_age_days * DAY)
    modified = rng.randint(created, now - 60)
    system = modified if rng.random() < 0.9 else min(now - 1, modified + rng.randint(1, DAY))
    stamps: dict[str, Any] = {
        "CreatedDate": created,
        "LastModifiedDate": modified,
        "SystemModstamp": system,
    }
    if owner:
        stamps.update(CreatedById=owner, LastModifiedById=owner)
    return stamps


def _users(store: Store, now: int) -> None:
    store.integration_user = store.load(
        "User",
        {
            "Username": store.integration_username,
            "Name": "Leadsync Integration",
            "Email": "integration@leadsync.sandbox",
            "IsActive": True,
            "CreatedDate": now - 900 * DAY,
            "LastModifiedDate": now - 900 * DAY,
            "SystemModstamp": now - 900 * DAY,
        },
    )
    for index, (first, last) in enumerate(
        (
            ("Ava", "Reyes"),
            ("Ben", "Okafor"),
            ("Chen", "Liu"),
            ("Dana", "Kowalski"),
            ("Eli", "Haddad"),
            ("Farah", "Nasser"),
            ("Gus", "Lindqvist"),
            ("Hana", "Mori"),
        )
    ):
        store.sales_users.append(
            store.load(
                "User",
                {
                    "Username": f"{first.lower()}.{last.lower()}@leadsync.sandbox",
                    "Name": f"{first} {last}",
                    "FirstName": first,
                    "LastName": last,
                    "Alias": (first[0] + last[:4]).lower(),
                    "Email": f"{first.lower()}@leadsync.sandbox",
                    "IsActive": True,
                    "CreatedDate": now - (800 - index) * DAY,
                    "LastModifiedDate": now - (800 - index) * DAY,
                    "SystemModstamp": now - (800 - index) * DAY,
                },
            )
        )
    store.assignment_queue = store.load(
        "Group",
        {
            "Name": "Lead Assignment Queue",
            "Type": "Queue",
            "CreatedDate": now - 900 * DAY,
            "LastModifiedDate": now - 900 * DAY,
            "SystemModstamp": now - 900 * DAY,
        },
    )


def _accounts(store: Store, rng: random.Random, count: int, now: int) -> list[str]:
    ids = []
    for _ in range(count):
        name, domain = _company(rng)
        countries, _weight = _weighted(rng, COUNTRIES, COUNTRY_WEIGHTS)
        employees = _employees(rng)
        owner = rng.choice(store.sales_users)
        ids.append(
            store.load(
                "Account",
                {
                    "Name": name,
                    "Industry": rng.choice(INDUSTRIES),
                    "NumberOfEmployees": employees,
                    "AnnualRevenue": float(round(employees * rng.uniform(50_000, 400_000), -3)),
                    "BillingCountry": countries[0],
                    "Website": f"https://www.{domain}",
                    "Type": "Prospect",
                    "OwnerId": owner,
                    **stamps(rng, now, 900, owner),
                },
            )
        )
    return ids


def person_fields(rng: random.Random, domain: str) -> dict[str, Any]:
    """A person's name, email, phone, title and lead source (plus `_seniority`, `_free_mail`)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    titles, seniority, _w = _weighted(rng, TITLES, TITLE_WEIGHTS)
    title = rng.choice(titles)
    roll = rng.random()
    if roll < 0.05:
        title = title.upper()
    elif roll < 0.08:
        title = f"  {title} "
    mail_domain = rng.choice(FREE_MAIL) if rng.random() < 0.15 else domain
    email = f"{first.lower()}.{last.lower()}{rng.randint(1, 999)}@{mail_domain}"
    if rng.random() < 0.02:
        email = email.replace("@", "@@") if rng.random() < 0.5 else email.replace(".", ",", 1)
    return {
        "FirstName": first,
        "LastName": last,
        "Name": f"{first} {last}",
        "Email": email,
        "Phone": f"+1 {rng.randint(200, 999)} {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
        "Title": title or None,
        "LeadSource": _weighted(
            rng,
            ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other", None),
            (0.4, 0.1, 0.15, 0.2, 0.1, 0.05),
        ),
        "HasOptedOutOfEmail": rng.random() < 0.05,
        "_seniority": seniority,
        "_free_mail": mail_domain in FREE_MAIL,
    }


def _lead(store: Store, rng: random.Random, now: int, campaigns: list[str]) -> None:
    name, domain = _company(rng)
    person = person_fields(rng, domain)
    seniority = person.pop("_seniority")
    free_mail = person.pop("_free_mail")
    countries, _weight = _weighted(rng, COUNTRIES, COUNTRY_WEIGHTS)
    employees = _employees(rng)
    industry = rng.choice(INDUSTRIES)
    owner = rng.choice(store.sales_users)
    lead: dict[str, Any] = {
        **person,
        "Company": name if rng.random() > 0.01 else "Test",
        "Industry": industry if rng.random() > 0.1 else None,
        "NumberOfEmployees": employees if rng.random() > 0.15 else None,
        "AnnualRevenue": (
            float(round(employees * rng.uniform(50_000, 400_000), -3))
            if rng.random() > 0.25
            else None
        ),
        "Country": rng.choice(countries) if rng.random() > 0.05 else None,
        "State": None,
        "City": None,
        "Website": f"https://www.{domain}" if rng.random() > 0.3 else domain,
        "Status": _weighted(
            rng,
            ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"),
            (0.55, 0.35, 0.1),
        ),
        "Rating": _weighted(rng, ("Hot", "Warm", "Cold", None), (0.1, 0.25, 0.25, 0.4)),
        "IsConverted": False,
        "OwnerId": owner,
        **stamps(rng, now, 730, owner),
    }
    fit = (
        0.45 * seniority
        + 0.25 * min(1.0, math.log10(max(employees, 1)) / 4)
        + 0.15 * (industry in GOOD_INDUSTRIES)
        + 0.15 * (not free_mail)
    )
    lead_id = store.load("Lead", lead)
    appetite = rng.betavariate(1.2, 3.0) * (0.5 + fit)
    engagement, last = _activity(
        store,
        rng,
        now=now,
        who=lead_id,
        appetite=appetite,
        campaigns=campaigns,
        since=lead["CreatedDate"],
    )
    lead["LastActivityDate"] = format_date(last) if last else None
    lead.update(_account_engagement(rng, engagement, fit, lead["CreatedDate"], last))
    chance = 1 / (1 + math.exp(-(-4.2 + 4.0 * fit + 3.0 * engagement)))
    wins = rng.random() < chance  # converts, and the opportunity is won
    loses = not wins and rng.random() < chance / 4  # converts, but the opportunity is lost
    converted_at = now + rng.randint(-120, 90) * DAY if wins or loses else None
    store.outcomes[lead_id] = Outcome(
        converted=wins,
        converted_at_ms=converted_at * 1000 if wins and converted_at is not None else None,
        fit=round(fit, 4),
        engagement=round(engagement, 4),
    )
    if converted_at is not None and converted_at < now and rng.random() < 0.35:
        _convert(store, rng, lead_id, lead, converted_at, won=wins)


def _activity(  # noqa: PLR0913  the inputs of one seeded record
    store: Store,
    rng: random.Random,
    *,
    now: int,
    who: str,
    appetite: float,
    campaigns: list[str],
    since: int,
) -> tuple[float, int | None]:
    """Add tasks, events and campaign memberships; returns (decayed engagement 0..1, last date)."""
    count = int(rng.expovariate(1 / max(0.05, appetite * 6)))
    weight = 0.0
    last: int | None = None
    for _ in range(min(count, 40)):
        age_days = rng.expovariate(1 / (60 + 200 * (1 - appetite)))
        at = now - int(min(age_days, 364) * DAY) - rng.randint(0, DAY - 1)
        at = max(at, since)
        kind = _weighted(
            rng,
            (
                "sent",
                "open",
                "click",
                "reply",
                "list",
                "list_unopened",
                "call",
                "meeting",
                "campaign",
            ),
            (0.08, 0.16, 0.14, 0.05, 0.14, 0.08, 0.15, 0.07, 0.13),
        )
        if kind == "meeting" and rng.random() < 0.2:
            at = now + rng.randint(1, 21) * DAY  # a meeting booked ahead
        points = {
            "sent": 0.0,
            "open": 0.03,
            "click": 0.08,
            "reply": 0.2,
            "list": 0.02,
            "list_unopened": 0.0,
            "call": 0.1,
            "meeting": 0.3,
            "campaign": 0.12,
        }[kind]
        weight += points * 0.5 ** (max(0, now - at) / (45 * DAY))
        last = max(last or 0, min(at, now))
        owner = rng.choice(store.sales_users)
        booked = at if at <= now else now - rng.randint(60, 3 * DAY)
        base = {
            "OwnerId": owner,
            "CreatedDate": booked,
            "CreatedById": owner,
            "LastModifiedDate": booked,
            "LastModifiedById": owner,
            "SystemModstamp": booked,
        }
        if kind in ("sent", "open", "click", "reply"):
            _tracked_email(store, rng, who=who, owner=owner, at=at, now=now, kind=kind)
        elif kind in ("list", "list_unopened"):
            _list_email(store, rng, who=who, owner=owner, at=at, now=now, opened=kind == "list")
        elif kind == "call":
            connected = rng.random() < 0.45
            seconds = rng.randint(60, 1800) if connected else rng.randint(0, 40)
            disposition = "Connected" if connected else rng.choice(("Left voicemail", "No answer"))
            call_task(store, base, who=who, at=at, seconds=seconds, disposition=disposition)
        elif kind == "meeting":
            minutes = rng.choice((30, 45, 60))
            subject = rng.choice(("Discovery call", "Product demo", "Intro meeting"))
            meeting_event(store, base, who=who, at=at, minutes=minutes, subject=subject)
        else:
            status = _weighted(
                rng, ("Sent", "Responded", "Registered", "Attended"), (0.4, 0.25, 0.2, 0.15)
            )
            field = "LeadId" if who.startswith("00Q") else "ContactId"
            store.load(
                "CampaignMember",
                {
                    **base,
                    "CampaignId": rng.choice(campaigns),
                    field: who,
                    "Status": status,
                    "HasResponded": status != "Sent",
                    "FirstRespondedDate": format_date(at) if status != "Sent" else None,
                },
            )
    return min(1.0, weight), last


def call_task(  # noqa: PLR0913  the fields of one seeded call
    store: Store, base: dict[str, Any], *, who: str, at: int, seconds: int, disposition: str
) -> str:
    """A logged call Task of `who` at `at` (`base`: owner and stamps)."""
    return store.load(
        "Task",
        {
            **base,
            "WhoId": who,
            "Subject": "Call",
            "TaskSubtype": "Call",
            "Type": "Call",
            "Status": "Completed",
            "ActivityDate": format_date(at),
            "CompletedDateTime": at,
            "CallDurationInSeconds": seconds,
            "CallDisposition": disposition,
        },
    )


def meeting_event(  # noqa: PLR0913  the fields of one seeded meeting
    store: Store, base: dict[str, Any], *, who: str, at: int, minutes: int, subject: str
) -> str:
    """A meeting Event of `who` starting at `at` (`base`: owner and stamps)."""
    return store.load(
        "Event",
        {
            **base,
            "WhoId": who,
            "Subject": subject,
            "Type": "Meeting",
            "EventSubtype": "Event",
            "StartDateTime": at,
            "ActivityDateTime": at,
            "EndDateTime": at + minutes * 60,
            "DurationInMinutes": minutes,
        },
    )


def _account_engagement(
    rng: random.Random, engagement: float, fit: float, created: int, last: int | None
) -> dict[str, Any]:
    """Account Engagement (Pardot) score, grade and activity dates of a synced prospect (about
    70% of people are synced; the others have the fields empty)."""
    if rng.random() > 0.7:
        return {f.name: None for f in ACCOUNT_ENGAGEMENT_FIELDS}
    grade = PARDOT_GRADES[min(len(PARDOT_GRADES) - 1, int((1 - fit) * len(PARDOT_GRADES)))]
    return {
        "pi__score__c": float(round(engagement * 250 + rng.uniform(0, 25))),
        "pi__grade__c": grade,
        "pi__first_activity__c": created + rng.randint(0, DAY) if last else None,
        "pi__last_activity__c": last,
    }


def _account_engagement_access(store: Store, now: int) -> None:
    """The permission set through which the integration user reads the Account Engagement
    fields (managed-package fields are hidden until field-level security grants them)."""
    stamps = _stamped(now - 800 * DAY, store.integration_user)
    permission_set = store.load(
        "PermissionSet",
        {
            "Name": "Account_Engagement_Fields",
            "Label": "Account Engagement Fields",
            "Description": None,
            "IsOwnedByProfile": False,
            **stamps,
        },
    )
    store.load(
        "PermissionSetAssignment",
        {"AssigneeId": store.integration_user, "PermissionSetId": permission_set, **stamps},
    )
    for object_name in ("Lead", "Contact"):
        for definition in ACCOUNT_ENGAGEMENT_FIELDS:
            store.load(
                "FieldPermissions",
                {
                    "ParentId": permission_set,
                    "SobjectType": object_name,
                    "Field": f"{object_name}.{definition.name}",
                    "PermissionsRead": True,
                    "PermissionsEdit": False,
                    **stamps,
                },
            )


def _stamped(at: int, owner: str) -> dict[str, Any]:
    return {
        "CreatedDate": at,
        "CreatedById": owner,
        "LastModifiedDate": at,
        "LastModifiedById": owner,
        "SystemModstamp": at,
    }


def _relation(store: Store, message: str, who: str, *, kind: str, at: int, owner: str) -> None:  # noqa: PLR0913  the inputs of one seeded record
    store.load(
        "EmailMessageRelation",
        {
            "EmailMessageId": message,
            "RelationId": who,
            "RelationObjectType": object_of(who),
            "RelationType": kind,
            "RelationAddress": None,
            **_stamped(at, owner),
        },
    )


def _tracked_email(  # noqa: PLR0913  the inputs of one seeded record
    store: Store, rng: random.Random, *, who: str, owner: str, at: int, now: int, kind: str
) -> None:
    """A one-to-one email a rep sent with Enhanced Email tracking: its Task, its EmailMessage
    (first and last open, first link click as tracking records them) and its relations; for a
    reply, the lead's incoming answer too."""
    subject = rng.choice(EMAILS)
    task = store.load(
        "Task",
        {
            "OwnerId": owner,
            "WhoId": who,
            "Subject": f"Email: {subject}",
            "TaskSubtype": "Email",
            "Type": "Email",
            "Status": "Completed",
            "ActivityDate": format_date(at),
            "CompletedDateTime": at,
            **_stamped(at, owner),
        },
    )
    first = last = clicked = None
    if kind != "sent":
        first = min(now, at + int(rng.expovariate(1 / 7200)))
        last = min(now, first + int(rng.expovariate(1 / DAY))) if rng.random() < 0.5 else first
    if kind == "click" and first is not None:
        clicked = min(now, first + rng.randint(5, 600))
    message = store.load(
        "EmailMessage",
        {
            "Subject": subject,
            "MessageDate": at,
            "Incoming": False,
            "FromAddress": None,
            "ToAddress": None,
            "IsTracked": True,
            "IsBounced": False,
            "FirstOpenedDate": first,
            "LastOpenedDate": last,
            "FirstLinkClickedDate": clicked,
            "HasReply": kind == "reply",
            "ReplyToEmailMessageId": None,
            "ActivityId": task,
            **_stamped(at, owner),
        },
    )
    _relation(store, message, owner, kind="FromAddress", at=at, owner=owner)
    _relation(store, message, who, kind="ToAddress", at=at, owner=owner)
    if kind == "reply" and first is not None:
        answered = min(now, first + rng.randint(600, 2 * DAY))
        reply = store.load(
            "EmailMessage",
            {
                "Subject": f"Re: {subject}",
                "MessageDate": answered,
                "Incoming": True,
                "FromAddress": None,
                "ToAddress": None,
                "IsTracked": False,
                "IsBounced": False,
                "FirstOpenedDate": None,
                "LastOpenedDate": None,
                "FirstLinkClickedDate": None,
                "HasReply": False,
                "ReplyToEmailMessageId": message,
                "ActivityId": None,
                **_stamped(answered, owner),
            },
        )
        _relation(store, reply, who, kind="FromAddress", at=answered, owner=owner)
        _relation(store, reply, owner, kind="ToAddress", at=answered, owner=owner)


def _list_email(  # noqa: PLR0913  the inputs of one seeded record
    store: Store, rng: random.Random, *, who: str, owner: str, at: int, now: int, opened: bool
) -> None:
    """A list email the lead received: its ListEmail Task and its EmailStatus (times opened,
    first and last open)."""
    template = rng.choice(LIST_EMAILS)
    task = store.load(
        "Task",
        {
            "OwnerId": owner,
            "WhoId": who,
            "Subject": template,
            "TaskSubtype": "ListEmail",
            "Type": "Email",
            "Status": "Completed",
            "ActivityDate": format_date(at),
            "CompletedDateTime": at,
            **_stamped(at, owner),
        },
    )
    times = first = last = None
    if opened:
        times = 1 + int(rng.expovariate(1 / 1.5))
        first = min(now, at + int(rng.expovariate(1 / 14400)))
        last = min(now, first + int(rng.expovariate(1 / (2 * DAY)))) if times > 1 else first
    store.load(
        "EmailStatus",
        {
            "WhoId": who,
            "TaskId": task,
            "EmailTemplateName": template,
            "TimesOpened": times or 0,
            "FirstOpenDate": first,
            "LastOpenDate": last,
            **_stamped(max(at, last or at), owner),
        },
    )
    # The results draw from their own stream: the org's other records stay as they were.
    own = random.Random(f"{store.seed}:{task}")
    _list_email_result(
        store, own, who=who, owner=owner, name=template, at=at, now=now, task=task, opened=first
    )
    synced = at + own.randint(1, 10) * DAY
    if own.random() < 0.3 and synced < now - 60:
        opened_at = min(now, synced + int(own.expovariate(1 / 14400)))
        _list_email_result(
            store,
            own,
            who=who,
            owner=owner,
            name=own.choice(ACCOUNT_ENGAGEMENT_EMAILS),
            at=synced,
            now=now,
            task=None,
            opened=opened_at if own.random() < 0.55 else None,
        )


def _list_email_result(  # noqa: PLR0913  the inputs of one seeded record
    store: Store,
    rng: random.Random,
    *,
    who: str,
    owner: str,
    name: str,
    at: int,
    now: int,
    task: str | None,
    opened: int | None,
) -> None:
    """The ListEmailSentResult of one list email to `who` (API 67.0): the send's Task, its
    first open (`opened`), a first and last link click for some opened ones, a reply for a few."""
    list_email = store.list_emails.get(name)
    if list_email is None:
        list_email = store.load(
            "ListEmail",
            {
                "Name": name,
                "Subject": name,
                "Status": "Sent",
                "ScheduledDate": None,
                "TotalSent": None,
                "IsTracked": True,
                "CampaignId": None,
                **_stamped(at, owner),
            },
        )
        store.list_emails[name] = list_email
    first_click = last_click = None
    if opened is not None and rng.random() < 0.35:
        first_click = min(now, opened + rng.randint(5, 900))
        later = rng.random() < 0.4
        last_click = min(now, first_click + int(rng.expovariate(1 / DAY))) if later else first_click
    replied = opened is not None and rng.random() < 0.08
    found = store.get(who)
    store.load(
        "ListEmailSentResult",
        {
            "Name": name,
            "ListEmailId": list_email,
            "RecipientId": who,
            "EmailAddress": found[1].get("Email") if found else None,
            "Result": "Sent",
            "Reason": None,
            "ActivityId": task,
            "Headers": None,
            "ThreadIdentifier": None,
            "MessageIdentifier": None,
            "FirstOpenedDate": opened,
            "IsOpened": opened is not None,
            "FirstClickedDate": first_click,
            "LastClickedDate": last_click,
            "IsClicked": first_click is not None,
            "HasReply": replied,
            "IsOpenTracked": True,
            "IsLinkTracked": True,
            **_stamped(max(at, last_click or opened or at), owner),
        },
    )


def _convert(  # noqa: PLR0913  the inputs of one seeded record
    store: Store, rng: random.Random, lead_id: str, lead: dict[str, Any], at: int, *, won: bool
) -> None:
    """Convert a lead at `at` as Salesforce's lead conversion does: a new Account and Contact
    from the lead's standard field mapping (Company, Industry, employees, revenue, Website and
    Country to the Account; the person's fields and Country to the Contact), an Opportunity on
    the Account, and the lead read-only with its Converted ids. The Account's `Type` is left
    empty (the Lead has no such field to map). The Opportunity closes 30 days later, won or
    lost; one closing after `now` is still open; a won one makes the Account a customer at its
    close (`mark_customer`). The Contact is the Opportunity's primary contact role (no `Role`),
    as conversion adds it. The lead's activity moves to the Contact
    afterwards (`_move_converted_activity`)."""
    owner = lead["OwnerId"]
    stamps = _stamped(at, owner)
    account = store.load(
        "Account",
        {
            "Name": lead["Company"],
            "Industry": lead["Industry"],
            "NumberOfEmployees": lead["NumberOfEmployees"],
            "AnnualRevenue": lead["AnnualRevenue"],
            "BillingCountry": lead["Country"],
            "Website": lead["Website"],
            "Type": None,
            "OwnerId": owner,
            **stamps,
        },
    )
    contact = store.load(
        "Contact",
        {
            "FirstName": lead["FirstName"],
            "LastName": lead["LastName"],
            "Name": lead["Name"],
            "Email": lead["Email"],
            "Phone": lead["Phone"],
            "Title": lead["Title"],
            "AccountId": account,
            "LeadSource": lead["LeadSource"],
            "HasOptedOutOfEmail": lead["HasOptedOutOfEmail"],
            "MailingCountry": lead["Country"],
            "OwnerId": owner,
            **stamps,
        },
    )
    amount = float(rng.randint(5, 200) * 1000)
    closes = at + 30 * DAY
    closed = closes <= store.now_epoch
    stage = ("Closed Won" if won else "Closed Lost") if closed else "Proposal"
    opportunity = store.load(
        "Opportunity",
        {
            "Name": f"{lead['Company']} - New Business",
            "AccountId": account,
            "StageName": stage,
            "IsWon": closed and won,
            "IsClosed": closed,
            "Amount": amount,
            "CloseDate": format_date(closes),
            **stamps,
            **({"LastModifiedDate": closes, "SystemModstamp": closes} if closed else {}),
        },
    )
    # conversion names the new Contact on the new Opportunity: primary, no role
    store.load(
        "OpportunityContactRole",
        {
            "OpportunityId": opportunity,
            "ContactId": contact,
            "Role": None,
            "IsPrimary": True,
            **stamps,
        },
    )
    if closed and won:
        mark_customer(store, account, closes, owner)
    # Lead Status is history-tracked in this org: the conversion leaves a LeadHistory row
    store.load(
        "LeadHistory",
        {
            "LeadId": lead_id,
            "Field": "Status",
            "DataType": "DynamicEnum",
            "OldValue": lead["Status"],
            "NewValue": "Closed - Converted",
            "CreatedDate": at,
            "CreatedById": owner,
        },
    )
    lead.update(
        IsConverted=True,
        Status="Closed - Converted",
        ConvertedDate=format_date(at),
        ConvertedAccountId=account,
        ConvertedContactId=contact,
        ConvertedOpportunityId=opportunity,
        LastModifiedDate=at,
        SystemModstamp=max(at, lead["SystemModstamp"]),
    )


#: The Account `Type` this org's automation sets when an Opportunity on the Account is won.
CUSTOMER_TYPE = "Customer - Direct"


def mark_customer(store: Store, account_id: str, at: int, owner: str) -> None:
    """The org's automation on a won Opportunity: the Account's `Type` becomes a customer at
    the close, and (Type being history-tracked here) an `AccountHistory` row records it."""
    account = store.table("Account")[account_id]
    store.load(
        "AccountHistory",
        {
            "AccountId": account_id,
            "Field": "Type",
            "DataType": "DynamicEnum",
            "OldValue": account["Type"],
            "NewValue": CUSTOMER_TYPE,
            "CreatedDate": at,
            "CreatedById": owner,
        },
    )
    account.update(
        Type=CUSTOMER_TYPE,
        LastModifiedDate=at,
        SystemModstamp=max(at, account["SystemModstamp"]),
        LastModifiedById=owner,
    )


#: The lead's activity that conversion moves to its Contact: (object, field naming the person).
_PERSON_ACTIVITY = (
    ("Task", "WhoId"),
    ("Event", "WhoId"),
    ("EmailStatus", "WhoId"),
    ("ListEmailSentResult", "RecipientId"),
)


def _move_converted_activity(store: Store) -> None:
    """Move every converted lead's activity to its Contact, as conversion does: Tasks and Events
    (WhoId to the Contact, WhatId to the Opportunity; those logged before the conversion get it
    as their last modification), campaign memberships (ContactId set; LeadId kept), and the
    email tracking that names the person (EmailStatus, ListEmailSentResult,
    EmailMessageRelation). The Contact's LastActivityDate is the lead's."""
    moved: dict[str, str] = {}
    for lead_id, lead in store.table("Lead").items():
        if not lead.get("IsConverted"):
            continue
        contact, opportunity = lead["ConvertedContactId"], lead["ConvertedOpportunityId"]
        at = int(lead["LastModifiedDate"])  # the conversion is a converted lead's last change
        moved[lead_id] = contact
        for name, ref in _PERSON_ACTIVITY:
            for row_id in list(store.child_ids(name, ref, lead_id)):
                store.repoint(name, row_id, ref, contact)
                row = store.table(name)[row_id]
                if name in ("Task", "Event"):
                    row["WhatId"] = opportunity
                    if row["CreatedDate"] < at:
                        row.update(LastModifiedDate=at, SystemModstamp=at)
        for row_id in store.child_ids("CampaignMember", "LeadId", lead_id):
            store.repoint("CampaignMember", row_id, "ContactId", contact)
        store.table("Contact")[contact]["LastActivityDate"] = lead.get("LastActivityDate")
    for relation in store.table("EmailMessageRelation").values():
        contact = moved.get(str(relation["RelationId"]))
        if contact:
            relation.update(RelationId=contact, RelationObjectType="Contact")


def _contact(
    store: Store, rng: random.Random, now: int, account: str, campaigns: list[str]
) -> None:
    account_row = store.table("Account")[account]
    domain = str(account_row["Website"]).removeprefix("https://www.")
    person = person_fields(rng, domain)
    person.pop("_seniority")
    person.pop("_free_mail")
    countries = next(
        (c for c, _ in COUNTRIES if account_row["BillingCountry"] in c), ("United States",)
    )
    owner = account_row["OwnerId"]
    contact_id = store.load(
        "Contact",
        {
            **person,
            "AccountId": account,
            "Department": rng.choice(("Sales", "Marketing", "IT", "Finance", "Operations", None)),
            "MailingCountry": rng.choice(countries),
            "OwnerId": owner,
            **stamps(rng, now, 700, owner),
        },
    )
    appetite = rng.betavariate(1.2, 3.0)
    engagement, last = _activity(
        store,
        rng,
        now=now,
        who=contact_id,
        appetite=appetite,
        campaigns=campaigns,
        since=now - 700 * DAY,
    )
    contact = store.table("Contact")[contact_id]
    contact["LastActivityDate"] = format_date(last) if last else None
    contact.update(_account_engagement(rng, engagement, 0.5, contact["CreatedDate"], last))
