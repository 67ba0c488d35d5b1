"""Won deals of companies: associations v4 + deal batch reads at HubSpot's batch sizes, won told
apart from lost and open deals by `hs_is_closed_won`, the earliest won close date per company."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from connectors.errors import PermanentError
from connectors.won_deals import WonDealReader
from sandbox.hubspot.store import Row

DAY_MS = 86_400_000


def add_deal(sandbox, company_id: int, stage: str, closed_ms: int) -> int:
    """A deal of `company_id` in the sandbox, as HubSpot would hold it."""
    store = sandbox.store
    table = store.table("deals")
    with store.lock:
        row = Row(store.allocate_id(), closed_ms - 30 * DAY_MS, closed_ms, [])
        table.set_raw(row, "dealstage", stage)
        table.set_raw(row, "closedate", closed_ms)
        table.set_raw(row, "hs_is_closed_won", "true" if stage == "closedwon" else "false")
        table.insert(row)
        store.associate("companies", company_id, "deals", row.id)
    return row.id


def test_won_deals_of_every_company_at_the_minimum_calls(make_sandbox, make_connector):
    sandbox = make_sandbox(contacts=3000, companies=1500, buying_committees=True)
    connector = make_connector(sandbox)
    assert isinstance(make_connector(sandbox), WonDealReader)
    store = sandbox.store
    ids = [str(i) for i in store.table("companies").ids]
    # one company with a lost deal and two won ones: the earlier won close dates the outcome
    several = int(ids[0])
    now = store.now_ms
    add_deal(sandbox, several, "closedlost", now - 90 * DAY_MS)
    add_deal(sandbox, several, "closedwon", now - 10 * DAY_MS)
    add_deal(sandbox, several, "closedwon", now - 40 * DAY_MS)
    deals = len(store.table("deals").ids)

    won = connector.won_deals("company", ids)

    truth = {str(c): o for c, o in store.account_outcomes.items() if o.won}
    assert set(won) == set(truth) | {str(several)}
    for company, outcome in truth.items():
        if company != str(several):
            assert won[company] == datetime.fromtimestamp(outcome.won_at_ms / 1000, UTC)
    assert won[str(several)] == datetime.fromtimestamp((now - 40 * DAY_MS) / 1000, UTC)
    lost_or_open = {
        str(c) for c, targets in store.associations[("companies", "deals")].items() if targets
    } - set(won)
    assert len(lost_or_open) > 100  # companies with only lost or open deals are not won
    assert connector.usage.by_endpoint == {
        "associations.batch_read": math.ceil(len(ids) / 1000),
        "objects.batch_read": math.ceil(deals / 100),
    }


def test_won_deals_are_read_for_companies_only(make_sandbox, make_connector):
    connector = make_connector(make_sandbox(contacts=10))
    with pytest.raises(PermanentError, match="won deals on companies, not on contact records"):
        connector.won_deals("contact", ["1"])
