"""Buying committees: Accounts in market, whose people engage together, and the hidden
account-level outcome (a won Opportunity) that the breadth of that engagement predicts.

`add_buying_committees(store, seed=...)` runs after `generator.generate` with its own random
streams, so every record the generator made stays as the seed made it. For each prospect Account
(one with a Website that no lead's conversion made) it adds 0-3 unconverted Leads on the
Account's domain, addressed as real Leads are: `jo@acme.com`, in capitals (`JO@ACME.COM`), on a
subdomain (`jo@eu.acme.com`), or from a free-email address with the company Website
(`www.acme.com`) or without one (that Lead matches no Account). An Account is in market with
probability `in_market`; then each of its people (Contacts and those Leads) joins the committee
with probability 0.6 and shows one engagement within the last 12 days: a meeting (Event), a call
Task or a campaign response (CampaignMember). The Account wins with probability
`sigmoid(-3 + 4 * in_market + 0.4 * committee people)` (the truth kept in
`Store.account_outcomes`).

The outcome is also in the org, as Salesforce keeps it: an Opportunity on the Account
(`AccountId`). A won Account has one `Closed Won` Opportunity (`IsWon` true) whose `CloseDate`
falls between its committee's last engagement and `now`, and the org's automation makes it a
customer then (`Type`, with its `AccountHistory` row: `generator.mark_customer`); the others
get, from a second random stream, a `Closed Lost` one (30%), an open one closing after `now`
(20%) or none. Every such Opportunity names the people in the deal as OpportunityContactRoles,
drawn from a third stream among the Account's Contacts (Leads cannot hold one): a Contact who
engaged with the committee joins with probability 0.8, any other with 0.3, the first one is
primary; so a Contact's engagement predicts its role on a won deal without deciding it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from sandbox.salesforce.generator import (
    call_task,
    mark_customer,
    meeting_event,
    person_fields,
    stamps,
)
from sandbox.salesforce.schema import CONTACT_ROLES
from sandbox.salesforce.store import Store
from sandbox.salesforce.values import format_date
from sandbox.salesforce.vocabulary import FREE_MAIL

DAY = 86_400


@dataclass(frozen=True)
class AccountOutcome:
    """The hidden outcome of one Account (ground truth for account backtests)."""

    won: bool
    #: The close date of the won Opportunity (epoch seconds, at or before the store's `now`).
    won_at: int | None
    in_market: bool
    committee: int


def add_buying_committees(store: Store, *, seed: int, in_market: float = 0.25) -> None:
    """Add domain-matched Leads, mark Accounts in market, make their committees engage, draw
    each Account's outcome and record it as an Opportunity."""
    rng = random.Random(seed * 7919 + 23)
    deals = random.Random(seed * 7919 + 29)
    roles = random.Random(seed * 7919 + 31)
    now = store.now_epoch
    with store.lock:
        contacts: dict[str, list[str]] = {}
        for contact_id, row in store.table("Contact").items():
            if row.get("AccountId"):
                contacts.setdefault(str(row["AccountId"]), []).append(contact_id)
        converted = {
            str(lead["ConvertedAccountId"])
            for lead in store.table("Lead").values()
            if lead.get("IsConverted")
        }
        for account_id, account in list(store.table("Account").items()):
            website = account.get("Website")
            if not website or account_id in converted:
                continue  # a converted lead's Account: its outcome is its lead's Opportunity
            domain = str(website).removeprefix("https://www.")
            people = contacts.get(account_id, []) + [
                _lead(store, rng, now, account, domain) for _ in range(rng.choice((0, 1, 1, 2, 3)))
            ]
            market = rng.random() < in_market
            committee = 0
            engaged: set[str] = set()
            last = now - 30 * DAY
            if market:
                for person in people:
                    if rng.random() >= 0.6:
                        continue
                    committee += 1
                    engaged.add(person)
                    at = now - int(rng.uniform(0, 12) * DAY)
                    last = max(last, at)
                    _engage(store, rng, person, at)
            chance = 1 / (1 + math.exp(-(-3.0 + 4.0 * market + 0.4 * committee)))
            won_at = None
            if rng.random() < chance:
                won_at = last + int(rng.random() * (now - last))
            store.account_outcomes[account_id] = AccountOutcome(
                won_at is not None, won_at, market, committee
            )
            opportunity = _opportunity(store, deals, account_id, account, won_at)
            if opportunity is not None:
                _contact_roles(store, roles, opportunity, contacts.get(account_id, []), engaged)


def _lead(store: Store, rng: random.Random, now: int, account: dict[str, Any], domain: str) -> str:
    person = person_fields(rng, domain)
    person.pop("_seniority")
    person.pop("_free_mail")
    local = f"{person['FirstName'].lower()}.{person['LastName'].lower()}"
    website = None
    roll = rng.random()
    if roll < 0.55:
        email = f"{local}@{domain}"
    elif roll < 0.7:
        email = f"{local}@{domain}".upper()
    elif roll < 0.85:
        email = f"{local}@{rng.choice(('eu', 'us', 'mail'))}.{domain}"
    elif roll < 0.95:
        email, website = f"{local}@{rng.choice(FREE_MAIL)}", f"www.{domain}"
    else:
        email = f"{local}@{rng.choice(FREE_MAIL)}"
    owner = str(account["OwnerId"])
    return store.load(
        "Lead",
        {
            **person,
            "Email": email,
            "Company": account["Name"],
            "Industry": account["Industry"],
            "NumberOfEmployees": account["NumberOfEmployees"],
            "AnnualRevenue": None,
            "Country": account["BillingCountry"],
            "State": None,
            "City": None,
            "Website": website,
            "Status": "Open - Not Contacted",
            "Rating": None,
            "IsConverted": False,
            "OwnerId": owner,
            **stamps(rng, now, 300, owner),
        },
    )


def _engage(store: Store, rng: random.Random, who: str, at: int) -> None:
    """One engagement of a committee member at `at`: a meeting, a call or a campaign reply."""
    owner = rng.choice(store.sales_users)
    base = {
        "OwnerId": owner,
        "CreatedDate": at,
        "CreatedById": owner,
        "LastModifiedDate": at,
        "LastModifiedById": owner,
        "SystemModstamp": at,
    }
    kind = rng.choice(("meeting", "call", "campaign"))
    if kind == "meeting":
        subject = rng.choice(("Discovery call", "Product demo", "Pricing review"))
        meeting_event(store, base, who=who, at=at, minutes=30, subject=subject)
    elif kind == "call":
        seconds = rng.randint(120, 1800)
        call_task(store, base, who=who, at=at, seconds=seconds, disposition="Connected")
    else:
        campaigns = list(store.table("Campaign"))
        field = "LeadId" if who.startswith("00Q") else "ContactId"
        store.load(
            "CampaignMember",
            {
                **base,
                "CampaignId": rng.choice(campaigns),
                field: who,
                "Status": "Responded",
                "HasResponded": True,
                "FirstRespondedDate": format_date(at),
            },
        )


def _opportunity(
    store: Store,
    rng: random.Random,
    account_id: str,
    account: dict[str, Any],
    won_at: int | None,
) -> str | None:
    """The Account's Opportunity (its id): won at `won_at`, else lost, open or none."""
    now = store.now_epoch
    draw = rng.random()
    if won_at is not None:
        stage, closed = "Closed Won", won_at
    elif draw < 0.3:
        stage, closed = "Closed Lost", now - int(rng.uniform(1, 120) * DAY)
    elif draw < 0.5:
        stage, closed = (
            rng.choice(("Prospecting", "Qualification", "Proposal")),
            now + int(rng.uniform(5, 90) * DAY),
        )
    else:
        return None
    created = min(closed - int(rng.uniform(20, 90) * DAY), now - DAY)
    owner = str(account["OwnerId"])
    opportunity = store.load(
        "Opportunity",
        {
            "Name": f"{account['Name']} - New Business",
            "AccountId": account_id,
            "StageName": stage,
            "IsWon": stage == "Closed Won",
            "IsClosed": stage.startswith("Closed"),
            "Amount": float(rng.randint(5, 200) * 1000),
            "CloseDate": format_date(closed),
            "CreatedDate": created,
            "CreatedById": owner,
            "LastModifiedDate": min(closed, now),
            "LastModifiedById": owner,
            "SystemModstamp": min(closed, now),
        },
    )
    if won_at is not None:
        mark_customer(store, account_id, won_at, owner)
    return opportunity


def _contact_roles(
    store: Store, rng: random.Random, opportunity: str, contacts: list[str], engaged: set[str]
) -> None:
    """The Opportunity's contact roles: each of the Account's Contacts joins the deal with
    probability 0.8 when it engaged with the committee, 0.3 otherwise (people who never
    answered still sign, approve or use); the first to join is the primary one."""
    deal = store.table("Opportunity")[opportunity]
    primary = True
    for contact in contacts:
        if rng.random() >= (0.8 if contact in engaged else 0.3):
            continue
        store.load(
            "OpportunityContactRole",
            {
                "OpportunityId": opportunity,
                "ContactId": contact,
                "Role": rng.choice(CONTACT_ROLES),
                "IsPrimary": primary,
                "CreatedDate": deal["CreatedDate"],
                "CreatedById": deal["CreatedById"],
                "LastModifiedDate": deal["CreatedDate"],
                "LastModifiedById": deal["CreatedById"],
                "SystemModstamp": deal["CreatedDate"],
            },
        )
        primary = False
