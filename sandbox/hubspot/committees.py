"""Buying committees: companies in market, whose people engage together, and the hidden
account-level outcome (a won deal) that the breadth of that engagement predicts.

`add_buying_committees(store, seed=...)` runs after `generator.generate` with its own random
stream, so the data of every contact outside a committee stays as the seed made it. A company
is in market with probability `in_market`; then each of its contacts joins the committee with
probability 0.6 and shows a visit within the last 12 days (a fresh
`hs_analytics_last_visit_timestamp`, more page views, `lastmodifieddate` moved). A company wins a
deal with probability `sigmoid(-3 + 4 * in_market + 0.4 * committee people)` (the truth kept in
`Store.account_outcomes`), so a backtest can show that counting engaged people separates the
companies that buy.

The outcome is also in the CRM, as a real portal keeps it: deals associated with their company
(`companies -> deals`, type 342; `deals -> companies`, 341). A won company has one deal in the
default pipeline's `closedwon` stage (`hs_is_closed_won` true), closed between its committee's
last visit and `now` (a company won outside a committee: within the last 30 days), so every
visit precedes the close and a backtest scoring at the close date keeps them. Companies that
did not win get, from a second random stream, a `closedlost` deal (30%) or an open one (20%,
closing after `now`) or none, so reading outcomes must tell a won deal from other deals.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sandbox.hubspot.store import Row, Store

DAY = 86_400_000
#: Open deals' stages (the default pipeline's, before its closed ones).
OPEN_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "contractsent")


@dataclass(frozen=True)
class AccountOutcome:
    """The hidden outcome of one company (ground truth for account backtests)."""

    won: bool
    #: The close date of the won deal (epoch ms, at or before the store's `now`).
    won_at_ms: int | None
    in_market: bool
    committee: int


def add_buying_committees(store: Store, *, seed: int, in_market: float = 0.25) -> None:
    """Mark companies in market, make their committees engage, draw each company's outcome."""
    rng = random.Random(seed * 7919 + 13)
    deals = random.Random(seed * 7919 + 17)
    now = store.now_ms
    companies = store.table("companies")
    contacts = store.table("contacts")
    for company_id in list(companies.ids):
        market = rng.random() < in_market
        committee = 0
        last_visit = now - 30 * DAY
        if market:
            for contact_id in store.associated("companies", company_id, "contacts"):
                row = contacts.rows.get(contact_id)
                if row is None or row.archived or rng.random() >= 0.6:
                    continue
                committee += 1
                seen = now - int(rng.uniform(0, 12) * DAY)
                last_visit = max(last_visit, seen)
                views = int(contacts.raw(row, "hs_analytics_num_page_views") or 0)
                contacts.set_raw(row, "hs_analytics_last_visit_timestamp", seen)
                contacts.set_raw(row, "hs_analytics_num_page_views", str(views + rng.randint(2, 9)))
                contacts.touch(row, max(row.updated, seen))
        chance = 1 / (1 + math.exp(-(-3.0 + 4.0 * market + 0.4 * committee)))
        won = rng.random() < chance
        won_at = None
        if won:  # the same draw as ever, so the streams of later companies stay as they were
            share = (rng.randrange(5 * DAY, 90 * DAY) - 5 * DAY) / (85 * DAY)
            won_at = last_visit + int(share * (now - last_visit))
        store.account_outcomes[company_id] = AccountOutcome(won, won_at, market, committee)
        _add_deal(store, deals, company_id, won_at)
    contacts.version += 1


def _add_deal(store: Store, rng: random.Random, company_id: int, won_at: int | None) -> None:
    """The company's deal as HubSpot keeps it: closed won at `won_at`, else lost, open or none."""
    draw = rng.random()
    if won_at is not None:
        stage, closed = "closedwon", won_at
    elif draw < 0.3:
        stage, closed = "closedlost", store.now_ms - int(rng.uniform(1, 120) * DAY)
    elif draw < 0.5:
        stage, closed = rng.choice(OPEN_STAGES), store.now_ms + int(rng.uniform(5, 90) * DAY)
    else:
        return
    table = store.table("deals")
    now = store.now_ms
    created = min(closed - int(rng.uniform(20, 90) * DAY), now - DAY)
    row = Row(store.allocate_id(), created, min(closed, now), [])
    values = {
        "dealname": f"Deal {company_id}",
        "pipeline": "default",
        "dealstage": stage,
        "closedate": closed,
        "amount": str(rng.randrange(5, 200) * 1000),
        "hs_is_closed_won": "true" if stage == "closedwon" else "false",
        "hs_is_closed_lost": "true" if stage == "closedlost" else "false",
    }
    for name, value in values.items():
        table.set_raw(row, name, value)
    table.insert(row)
    store.associate("companies", company_id, "deals", row.id)
