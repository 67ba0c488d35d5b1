"""The Salesforce sandbox's buying committees: domain-matched Leads, committees that engage
together, and won Opportunities that agree with the hidden account outcomes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sandbox.salesforce import SalesforceSandbox
from sandbox.salesforce.values import format_date
from scoring.domains import DomainIndex

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_committees_add_matched_leads_and_won_opportunities_as_the_hidden_outcomes():
    sb = SalesforceSandbox(leads=400, accounts=60, buying_committees=True, now=NOW)
    store = sb.store
    # the Accounts of converted leads have their lead's Website too; their outcome is the
    # conversion's Opportunity, not a committee's
    converted = {lead.get("ConvertedAccountId") for lead in store.table("Lead").values()}
    prospects = {i: a for i, a in store.table("Account").items() if i not in converted}
    assert len(prospects) == 60 == len(store.account_outcomes)
    assert set(store.account_outcomes) == set(prospects)
    # the Leads the committees added: after the generator's 400, each on its Account's domain
    added = list(store.table("Lead").values())[400:]
    index = DomainIndex((i, a["Website"]) for i, a in prospects.items())
    matches = [index.match(lead["Email"], lead["Website"]) for lead in added]
    how = Counter(m.why.split(":")[0].split(" domain")[0] for m in matches)
    # on the Account's domain itself, in capitals or on a subdomain (email), by the company
    # Website beside a free-email address, or not at all (a free-email address alone)
    assert how == {"email": 79, "website": 7, "not matched": 1}
    assert all(
        m.account_id is None or prospects[m.account_id]["Name"] == lead["Company"]
        for m, lead in zip(matches, added, strict=True)
    )
    won = {i for i, o in store.account_outcomes.items() if o.won}
    opportunities = [o for o in store.table("Opportunity").values() if o["AccountId"] in prospects]
    assert {o["AccountId"] for o in opportunities if o["IsWon"]} == won
    assert Counter(o["AccountId"] for o in opportunities if o["IsWon"]).most_common(1)[0][1] == 1
    today = format_date(store.now_epoch)
    assert all(o["CloseDate"] <= today for o in opportunities if o["IsWon"])
    in_market = [o for o in store.account_outcomes.values() if o.in_market]
    # 12 Accounts in market with 20 engaged people; 11 of the 13 wins are among them
    in_market_won = sum(1 for o in in_market if o.won)
    assert (len(in_market), sum(o.committee for o in in_market)) == (12, 20)
    assert (len(won), in_market_won) == (13, 11)
