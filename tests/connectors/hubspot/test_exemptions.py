"""Search and association batch reads are exempt from HubSpot's ten-second window; the
association endpoints have a burst limit of their own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.hubspot.reading import ObjectSpec, search_page

from .conftest import live_ids, read_all


def _read_everyone(make_sandbox: Any, make_connector: Any, **limits: int) -> tuple[Any, Any]:
    """Every contact of a 1,200-contact sandbox with `limits`, with their companies' industry
    and their meetings; (records, the connector's usage)."""
    sandbox = make_sandbox(contacts=1200, search_per_second=1000, **limits)
    connector = make_connector(sandbox, search_per_second=1000)
    records = read_all(
        connector,
        since=sandbox.now - timedelta(days=3650),
        fields=["email", "company.industry"],
        event_types=["meeting"],
    )
    assert {r.id for r in records} == live_ids(sandbox)
    assert len(sandbox.store.table("companies").ids) < 200
    return records, connector.usage


def test_searches_and_association_reads_do_not_count_in_the_ten_second_window(
    make_sandbox, make_connector
) -> None:
    # three calls per ten seconds would refuse the fourth search if searches counted there
    _, usage = _read_everyone(make_sandbox, make_connector, rate_limit_10s=3)
    # 1,200 contacts, 200 a search, one more; then one search of the companies changed in the
    # window (every one of them), whose contacts were all read already
    assert usage.by_endpoint["objects.search"] == 7 + 1
    # companies, meetings x 2 groups, and the changed companies' contacts
    assert usage.by_endpoint["associations.batch_read"] == 4 + 1
    # no search or association read was refused for the window (batch reads count in it)
    assert "objects.search 429" not in usage.by_endpoint
    assert "associations.batch_read 429" not in usage.by_endpoint


def test_association_reads_refused_for_their_own_burst_limit_are_retried(
    make_sandbox, make_connector
) -> None:
    # one association read per ten seconds: every read after the first of a window is refused
    records, usage = _read_everyone(make_sandbox, make_connector, association_limit_10s=1)
    # the same five reads as without the limit were admitted, after refusals (attempts count)
    refused = usage.by_endpoint["associations.batch_read 429"]
    assert refused >= 4  # one window admits one: the four after the first were refused first
    assert usage.by_endpoint["associations.batch_read"] - refused == 4 + 1
    assert usage.by_endpoint["objects.search"] == 7 + 1
    # the refused reads' companies and meetings arrived after the retries: as read unrefused
    # (from a sandbox generated later by the backoffs' time, so its dates are later)
    plain, _ = _read_everyone(make_sandbox, make_connector)

    def seen(rs: Any) -> dict[str, Any]:
        return {r.id: (r.properties, [(e.type, e.attributes) for e in r.events]) for r in rs}

    assert seen(records) == seen(plain)
    assert any(r.properties["company.industry"] for r in records)


def test_searches_take_no_slot_of_the_clients_ten_second_budget(make_sandbox, make_api, clock):
    # a Free portal's budget is 100 calls per ten seconds; 150 searches in the same instant go
    # out without a hold, paced only by search's own per-second limit (here set out of reach)
    sandbox = make_sandbox(contacts=10, search_per_second=1000, rate_limit_10s=100)
    api = make_api(sandbox, tier="free", search_per_second=1000)
    contacts = ObjectSpec("contact", "contacts", "lastmodifieddate")
    for _ in range(150):
        assert len(search_page(api, contacts, {"limit": 1})["results"]) == 1
    assert (api.usage.by_endpoint["objects.search"], clock.sleeps) == (150, [])
    # and the budget is whole for ordinary calls of the same instant
    for _ in range(100):
        api.call("properties.read", api.properties_core.get_by_name, "contacts", "email")
    assert clock.sleeps == []
