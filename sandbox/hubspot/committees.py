"""Buying committees: companies in market, whose people engage together, and the hidden
account-level outcome (a won deal) that the breadth of that engagement predicts.

`add_buying_committees(store, seed=...)` runs after `generator.generate` with its own random
stream, so the data of every contact outside a committee stays as the seed made it. A company
is in market with probability `in_market`; then each of its contacts joins the committee with
probability 0.6 and shows a visit within the last 12 days (a fresh
`hs_analytics_last_visit_timestamp`, more page views, `lastmodifieddate` moved). A company wins a
deal with probability `sigmoid(-3 + 4 * in_market + 0.4 * committee people)`, dated after `now`
(hidden in `Store.account_outcomes`), so a backtest can show that counting engaged people
separates the companies that buy.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sandbox.hubspot.store import Store

DAY = 86_400_000


@dataclass(frozen=True)
class AccountOutcome:
    """The hidden outcome of one company (ground truth for account backtests)."""

    won: bool
    won_at_ms: int | None
    in_market: bool
    committee: int


def add_buying_committees(store: Store, *, seed: int, in_market: float = 0.25) -> None:
    """Mark companies in market, make their committees engage, draw each company's outcome."""
    rng = random.Random(seed * 7919 + 13)
    now = store.now_ms
    companies = store.table("companies")
    contacts = store.table("contacts")
    for company_id in list(companies.ids):
        market = rng.random() < in_market
        committee = 0
        if market:
            for contact_id in store.associated("companies", company_id, "contacts"):
                row = contacts.rows.get(contact_id)
                if row is None or row.archived or rng.random() >= 0.6:
                    continue
                committee += 1
                seen = now - int(rng.uniform(0, 12) * DAY)
                views = int(contacts.raw(row, "hs_analytics_num_page_views") or 0)
                contacts.set_raw(row, "hs_analytics_last_visit_timestamp", seen)
                contacts.set_raw(row, "hs_analytics_num_page_views", str(views + rng.randint(2, 9)))
                contacts.touch(row, max(row.updated, seen))
        chance = 1 / (1 + math.exp(-(-3.0 + 4.0 * market + 0.4 * committee)))
        won = rng.random() < chance
        won_at = now + rng.randrange(5 * DAY, 90 * DAY) if won else None
        store.account_outcomes[company_id] = AccountOutcome(won, won_at, market, committee)
    contacts.version += 1
