"""Contract: reading contacts from the HubSpot sandbox through the connector and the real SDK."""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta

import pytest
import requests

from connectors.errors import PermanentError, TransientError
from connectors.hubspot import reading
from connectors.hubspot.cursor import FullState, encode
from connectors.hubspot.reading import ObjectSpec, list_page, plan_chains
from sandbox.httpserver import Request, Response, SandboxServer

from .conftest import TickingClock, live_ids, read_all, stamp_all

CONTACTS = ObjectSpec("contact", "contacts", "lastmodifieddate")


def test_full_read_pages_to_the_end_with_one_call_per_100(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=1234)
    connector = make_connector(sandbox)
    pages = list(connector.iter_pages("contact", ["email", "jobtitle"], [], since=None))
    ids = [r.id for p in pages for r in p.records]
    assert len(ids) == len(set(ids))
    assert set(ids) == live_ids(sandbox)
    assert all(len(p.records) <= 100 for p in pages)
    assert [p.cursor is None for p in pages] == [False] * (len(pages) - 1) + [True]
    assert connector.usage.by_endpoint == {"objects.list": math.ceil(len(ids) / 100)}
    record = pages[0].records[0]
    assert set(record.properties) == {"email", "jobtitle"}
    assert record.kind == "contact"
    assert record.updated_at is not None
    assert record.updated_at.tzinfo is UTC
    assert record.outputs == {}


def test_full_read_requests_only_model_fields_and_outputs(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=50)
    connector = make_connector(sandbox)
    sent = sandbox.journal("GET /crm/v3/objects/{object}")
    read_all(connector, fields=["jobtitle"])
    assert [query["properties"] for query in sent] == [
        [
            "jobtitle",
            "lastmodifieddate",
            "leadsync_changes",
            "leadsync_fit",
            "leadsync_grade",
            "leadsync_interest",
            "leadsync_label",
            "leadsync_model_version",
            "leadsync_qualified",
            "leadsync_reasons",
            "leadsync_score",
            "leadsync_scored_at",
            "lifecyclestage",
        ]
    ]


def test_resuming_from_any_page_cursor_reads_the_rest_once(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=450)
    connector = make_connector(sandbox)
    pages = list(connector.iter_pages("contact", ["email"], [], since=None))
    for cut in (1, 3):
        before = [r.id for p in pages[:cut] for r in p.records]
        after = read_all(make_connector(sandbox), fields=["email"], resume=pages[cut - 1].cursor)
        ids = before + [r.id for r in after]
        assert len(ids) == len(set(ids)) == len(live_ids(sandbox))


def test_id_range_chains_read_everything_once(
    make_sandbox, make_connector, make_api, monkeypatch
) -> None:
    sandbox = make_sandbox(contacts=2000)
    connector = make_connector(sandbox)
    api = make_api(sandbox)
    properties = ["email", "lastmodifieddate"]
    first, after = list_page(api, CONTACTS, properties, None)
    assert after is not None
    monkeypatch.setattr(reading, "PAGES_PER_CHAIN", 5)
    chains = plan_chains(
        api, CONTACTS, after, last=first, read=len(first), latency=0.5, max_chains=4
    )
    assert len(chains) == 4
    assert chains[0][:2] == (after, None)
    assert chains[-1][2] is None  # the last chain is open-ended: new records are read too
    assert all(a[2] == b[1] for a, b in itertools.pairwise(chains))
    rest = read_all(connector, fields=["email"], resume=encode(FullState("contacts", chains)))
    ids = [r["id"] for r in first] + [r.id for r in rest]
    assert len(ids) == len(set(ids))
    assert set(ids) == live_ids(sandbox)
    list_calls = connector.usage.by_endpoint["objects.list"]
    assert list_calls <= math.ceil(len(ids) / 100) + len(chains)


@pytest.mark.parametrize(
    ("contacts", "expected"),
    [
        (250, {"objects.list": 3}),
        # 51 pages: the first and PAGES_PER_CHAIN more, none left to split
        (5_100, {"objects.list": 51}),
        # the one search that cannot pay: a single page after the 51st (nothing to split)
        (5_150, {"objects.list": 52, "objects.search": 1}),
        # two pages left: one search, the rest split into 2 chains (the first reads 1 page past)
        (5_300, {"objects.list": 54, "objects.search": 1}),
    ],
)
def test_a_full_read_searches_for_the_top_id_only_when_it_splits(
    make_sandbox, make_connector, contacts, expected
) -> None:
    slow = TickingClock(0.5)  # every call takes 0.5 s as the connector measures it
    sandbox = make_sandbox(contacts=contacts, clock=slow)
    connector = make_connector(sandbox, clock=slow, sleep=slow.sleep)
    ids = [r.id for r in read_all(connector, fields=["email"])]
    assert len(ids) == len(set(ids)) == contacts
    assert connector.usage.by_endpoint == expected


def test_a_non_numeric_list_cursor_keeps_one_chain(make_sandbox, make_api) -> None:
    api = make_api(make_sandbox(contacts=10))
    chains = plan_chains(api, CONTACTS, "MTAx", last=[], read=0, latency=1.0, max_chains=4)
    assert chains == (("MTAx", None, None),)
    assert api.usage.calls == 0


def test_25000_records_on_five_timestamps_nothing_lost_nothing_twice(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=25_000)
    base = int(sandbox.now.timestamp() * 1000)
    stamps = [base - 5000 * k for k in range(5)]
    stamp_all(sandbox, stamps)
    connector = make_connector(sandbox, overlap_s=0)
    since = datetime.fromtimestamp(min(stamps) / 1000, UTC)
    pages = list(connector.iter_pages("contact", ["email"], [], since=since))
    ids = [r.id for p in pages for r in p.records]
    assert len(ids) == len(set(ids)) == 25_000
    assert ids == sorted(ids, key=int)
    usage = connector.usage
    # 200 a query by id whatever the timestamps, one more to see the end (25,000 = 125 x 200).
    assert usage.by_endpoint == {"objects.search": 126}
    assert usage.rate_limited == 0


def test_incremental_returns_only_records_modified_since(
    make_sandbox, make_connector, clock
) -> None:
    sandbox = make_sandbox(contacts=500)
    later = sandbox.now + timedelta(hours=1)
    touched = set(sandbox.mutate(30, at=later))
    connector = make_connector(sandbox, overlap_s=0)
    records = read_all(connector, since=later - timedelta(minutes=1))
    assert {r.id for r in records} == touched
    assert {r.updated_at for r in records} == {later.replace(microsecond=0)}


def test_overlap_rereads_just_before_since(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=300)
    at = sandbox.now + timedelta(hours=1)
    touched = set(sandbox.mutate(10, at=at))
    since = at + timedelta(seconds=60)
    assert read_all(make_connector(sandbox, overlap_s=0), since=since) == []
    assert {r.id for r in read_all(make_connector(sandbox, overlap_s=120), since=since)} == touched


def test_incremental_resume_mid_block_reads_the_rest_once(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=1500)
    base = int(sandbox.now.timestamp() * 1000)
    stamp_all(sandbox, [base, base + 1000])
    connector = make_connector(sandbox, overlap_s=0)
    since = datetime.fromtimestamp(base / 1000, UTC)
    pages = list(connector.iter_pages("contact", ["email"], [], since=since))
    for cut in (1, 2, 5):
        before = [r.id for p in pages[:cut] for r in p.records]
        rest = read_all(make_connector(sandbox), since=since, resume=pages[cut - 1].cursor)
        ids = before + [r.id for r in rest]
        assert len(ids) == len(set(ids)) == 1500


def test_records_modified_during_the_walk_are_not_lost(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=1000)
    connector = make_connector(sandbox, overlap_s=0)
    since = sandbox.now - timedelta(days=3650)
    walk = connector.iter_pages("contact", ["email"], [], since=since)
    first = next(walk)
    at = sandbox.now + timedelta(hours=1)
    moved = set(sandbox.mutate(200, at=at))
    rest = [r for page in walk for r in page.records]
    seen = {r.id for r in first.records} | {r.id for r in rest}
    assert seen == live_ids(sandbox)
    passed = {r.id for r in first.records}
    assert {r.id for r in rest} >= moved - passed  # read with their new values
    # the ones the walk had passed are read by the next walk, which starts before `at`
    again = {r.id for r in read_all(make_connector(sandbox, overlap_s=0), since=at)}
    assert again == moved


class Scripted:
    """A loopback server answering the list endpoint from a script of (status, body) pairs."""

    def __init__(self, *answers: tuple[int, bytes]) -> None:
        self.answers = list(answers)
        self.requests = 0
        self.server = SandboxServer(self.dispatch).start()

    def dispatch(self, request: Request) -> Response:
        self.requests += 1
        status, body = self.answers.pop(0) if self.answers else (200, b'{"results": []}')
        return Response(status, body)


GOOD = b'{"results": [{"id": "1", "properties": {"email": "a@b.example"}}]}'


@pytest.mark.parametrize(
    ("answers", "requests"),
    [
        ([(200, b'{"results": [{"id": "1", "prop')] * 2 + [(200, GOOD)], 3),
        ([(200, b"<html>oops</html>"), (200, GOOD)], 2),
        ([(200, b'{"results": [{"properties": {}}]}'), (200, GOOD)], 2),
        ([(200, b'{"results": "nope"}'), (200, GOOD)], 2),
        ([(502, b"<html>502 Bad Gateway</html>"), (200, GOOD)], 2),
    ],
)
def test_malformed_replies_are_retried_then_read(make_connector, answers, requests) -> None:
    server = Scripted(*answers)
    try:
        connector = make_connector(server.server, access_token="pat-test")
        assert [r.id for r in read_all(connector)] == ["1"]
        assert server.requests == requests
    finally:
        server.server.stop()


def test_a_persistently_malformed_reply_surfaces_as_transient(make_connector) -> None:
    server = Scripted(*[(200, b'{"results": [')] * 10)
    try:
        connector = make_connector(server.server, access_token="pat-test")
        with pytest.raises(TransientError, match="not JSON"):
            read_all(connector)
        assert server.requests == 6
    finally:
        server.server.stop()


def test_a_request_hubspot_rejects_is_a_permanent_error(make_sandbox, make_connector) -> None:
    connector = make_connector(make_sandbox(contacts=10))
    forged = encode(FullState("contacts", (("not-a-cursor", None, None),)))
    with pytest.raises(PermanentError, match="400 VALIDATION_ERROR: Invalid after"):
        read_all(connector, resume=forged)
    assert connector.usage.calls == 1  # not retried


#: Enough property names (custom ones are often this long) to pass a search body's 3,000
#: characters; HubSpot ignores names it does not know, as the sandbox does.
LONG_NAMES = [f"custom_engagement_signal_from_the_marketing_team_{n:03d}" for n in range(60)]


def test_a_search_too_long_for_hubspot_finds_ids_then_batch_reads_them(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=500)
    later = sandbox.now + timedelta(hours=1)
    touched = set(sandbox.mutate(250, at=later))
    since = later - timedelta(minutes=1)
    plain = make_connector(sandbox, overlap_s=0)
    expected = {r.id: r.properties for r in read_all(plain, since=since)}
    assert plain.usage.by_endpoint == {"objects.search": 2}
    connector = make_connector(sandbox, overlap_s=0)
    records = read_all(connector, since=since, fields=["email", "jobtitle", *LONG_NAMES])
    # in id order, each once, with the values a short search gives
    assert [r.id for r in records] == sorted(touched, key=int)
    assert {r.id: {k: r.properties[k] for k in ("email", "jobtitle")} for r in records} == expected
    assert {r.properties[LONG_NAMES[0]] for r in records} == {None}
    # two searches of ids (200, then 50), and the records 100 a batch read: 2 + 1
    assert connector.usage.by_endpoint == {"objects.search": 2, "objects.batch_read": 3}


def test_the_sandbox_refuses_a_search_body_over_3000_characters(make_sandbox) -> None:
    sandbox = make_sandbox(contacts=5)
    pad = {"limit": 1, "properties": ["email"], "query": ""}
    fixed = len(json.dumps(pad))

    def search(chars: int) -> requests.Response:
        body = dict(pad, query="x" * (chars - fixed))
        text = json.dumps(body)
        assert len(text) == chars
        return requests.post(
            f"{sandbox.url}/crm/v3/objects/contacts/search",
            data=text,
            headers={
                "Authorization": f"Bearer {sandbox.token}",
                "Content-Type": "application/json",
            },
            timeout=5,
        )

    assert search(3000).status_code == 200
    refused = search(3001)
    assert refused.status_code == 400
    assert refused.json()["category"] == "VALIDATION_ERROR"
    assert refused.json()["message"] == (
        "The search request body is 3001 characters long. The maximum is 3000."
    )
