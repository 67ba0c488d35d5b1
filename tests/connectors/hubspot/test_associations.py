"""Contract: v4 association batch reads and record batch reads at HubSpot's batch sizes."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from connectors.errors import PermanentError
from connectors.hubspot.api import ApiReply, HubSpotApi
from connectors.hubspot.associations import (
    NO_ASSOCIATIONS,
    Link,
    check_associations,
    primary,
    read_associations,
    read_records,
)
from connectors.hubspot.options import HubSpotOptions

from .conftest import live_ids


@pytest.fixture
def make_api(clock):
    made: list[HubSpotApi] = []

    def make(sandbox) -> HubSpotApi:
        options = HubSpotOptions(
            base_url=sandbox.url,
            access_token=SecretStr(sandbox.token),
            tier="enterprise",
            timeout=5.0,
        )
        api = HubSpotApi(options, sleep=clock.sleep, clock=clock)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


def test_a_thousand_ids_a_call_and_records_without_links_are_absent(make_sandbox, make_api) -> None:
    sandbox = make_sandbox(contacts=2500)
    api = make_api(sandbox)
    ids = sorted(live_ids(sandbox), key=int)
    links = read_associations(api, "contacts", "companies", ids)
    assert api.usage.by_endpoint == {"associations.batch_read": 3}
    store = sandbox.store
    expected = {i for i in ids if store.associated("contacts", int(i), "companies")}
    assert set(links) == expected
    assert 0 < len(expected) < len(ids)  # some contacts have no company: a 207, not a failure
    some = next(iter(expected))
    assert [link.to_id for link in links[some]] == [
        str(c) for c in store.associated("contacts", int(some), "companies")
    ]
    assert PRIMARY in links[some][0].type_ids


PRIMARY = 1


def test_each_result_follows_its_own_paging_after(make_sandbox, make_api) -> None:
    sandbox = make_sandbox(contacts=30)
    api = make_api(sandbox)
    store = sandbox.store
    busy, quiet = sorted(live_ids(sandbox), key=int)[:2]
    with store.lock:
        store.associations[("contacts", "meetings")].pop(int(busy), None)
        store.associations[("contacts", "meetings")].pop(int(quiet), None)
        for n in range(250):
            store.associations[("contacts", "meetings")].setdefault(int(busy), []).append(
                900_000 + n
            )
        store.associations[("contacts", "meetings")][int(quiet)] = [800_000]
    links = read_associations(api, "contacts", "meetings", [busy, quiet])
    assert [link.to_id for link in links[busy]] == [str(900_000 + n) for n in range(250)]
    assert [link.to_id for link in links[quiet]] == ["800000"]
    # One call for both, then one for each further page of the busy contact's 100-link pages.
    assert api.usage.by_endpoint == {"associations.batch_read": 3}


class CannedApi:
    """A transport answering every associations call with one canned 207 body."""

    def __init__(self, body: dict[str, object]) -> None:
        self.body = body
        self.post_json = None

    def call(self, endpoint: str, fn: object, *args: object, **kwargs: object) -> ApiReply:
        return ApiReply(207, self.body)


@pytest.mark.parametrize(
    ("error", "raises"),
    [
        ({"category": "OBJECT_NOT_FOUND", "subCategory": NO_ASSOCIATIONS}, None),
        (
            {
                "category": "VALIDATION_ERROR",
                "message": "bad id",
                "context": {"fromObjectId": ["42"]},
            },
            "contacts -> companies refused 42: VALIDATION_ERROR bad id",
        ),
    ],
)
def test_207_errors_other_than_no_associations_fail_naming_them(
    error: dict[str, object], raises: str | None
) -> None:
    api = CannedApi({"status": "COMPLETE", "results": [], "errors": [error]})
    if raises is None:
        assert read_associations(api, "contacts", "companies", ["42"]) == {}  # type: ignore[arg-type]
    else:
        with pytest.raises(PermanentError, match=raises):
            read_associations(api, "contacts", "companies", ["42"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ([], None),
        ([Link("7", frozenset({279}))], "7"),
        ([Link("7", frozenset({279})), Link("8", frozenset({279, 1}))], "8"),
    ],
)
def test_primary_prefers_the_primary_type(links: list[Link], expected: str | None) -> None:
    assert primary(links) == expected


@pytest.mark.parametrize(
    "reply",
    [
        {"results": [{"to": []}]},
        {"results": [{"from": {"id": "1"}, "to": []}, "junk"]},
        {"results": [{"from": "1"}]},
        {"results": {"from": {"id": "1"}}},
        {},
        [],
    ],
)
def test_malformed_association_reply_is_transient(reply: object) -> None:
    from connectors.errors import TransientError

    with pytest.raises(TransientError, match="malformed payload"):
        check_associations(reply)


def test_a_well_formed_association_reply_passes_the_check() -> None:
    check_associations({"results": []})
    check_associations({"results": [{"from": {"id": "1"}, "to": [{"toObjectId": 2}]}]})


def test_record_batch_reads_take_a_hundred_ids_a_call(make_sandbox, make_api) -> None:
    sandbox = make_sandbox(contacts=1200)
    api = make_api(sandbox)
    companies = sorted(sandbox.store.table("companies").ids)
    assert len(companies) > 100
    company_ids = [str(i) for i in companies][:150]
    found = read_records(api, "companies", [*company_ids, "999999999"], ["name", "industry"])
    assert api.usage.by_endpoint == {"objects.batch_read": 2}
    assert set(found) == set(company_ids)
    assert set(found[company_ids[0]]) >= {"name", "industry"}
