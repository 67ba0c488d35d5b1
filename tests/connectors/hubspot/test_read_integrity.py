"""Nothing lost, nothing twice: reads against the sandbox with faults on and contacts changing.

What "every contact once" means, precisely (ids of contacts):

* full read: a contact live from the start of the walk to its end is read exactly once; one
  created or deleted (archived) during the walk at most once; no other id is read. Changes to
  properties do not move a contact in a full read (it pages by id).
* incremental read (a sequential walk, so "read before the change" is the pages yielded so far):
  a contact modified since `since` and untouched during the walk is read exactly once; one
  touched during the walk once more if it had been read before the touch, else once; one
  created during the walk once; one deleted during the walk only if read before.
* resuming from the cursor of the last page handed out, after a failure mid-walk, reads every
  contact the first attempt did not hand out exactly once and none it did.

Reads here resume the way the sync engine does when retries run out (`engine_pages`), so
a seed whose faults outlast the connector's retries still has to keep these promises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import Page
from connectors.errors import PermanentError, TransientError
from connectors.hubspot import reading
from connectors.hubspot.cursor import FullState, decode, encode
from connectors.hubspot.reading import ObjectSpec, plan_chains
from sandbox.httpserver import Request, Response, SandboxServer

from .conftest import FakeClock, TickingClock, live_ids, read_all, stamp_all

CONTACTS = ObjectSpec("contact", "contacts", "lastmodifieddate")
LIST = "GET /crm/v3/objects/{object}"
SEARCH = "POST /crm/v3/objects/{object}/search"
#: Every kind of failure a HubSpot call can meet, a few percent each (timeouts: the sandbox
#: holds the request longer than the connector waits).
FAULTS = {
    "rate_429": 0.04,
    "burst_429": 3,
    "error_500": 0.02,
    "error_502": 0.02,
    "error_503": 0.02,
    "error_504": 0.02,
    "reset": 0.03,
    "timeout": 0.02,
    "timeout_s": 0.6,
}


@pytest.fixture
def clock() -> FakeClock:
    return TickingClock(0.5)


@pytest.fixture
def split_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "PAGES_PER_CHAIN", 4)


def faulty(make_sandbox: Any, seed: int, **kwargs: Any) -> Any:
    sandbox = make_sandbox(seed=seed, **kwargs)
    sandbox.faults.set(**FAULTS)
    return sandbox


def engine_pages(connector: Any, *, since: datetime | None) -> Iterator[Page]:
    """Pages as the sync engine reads them: after a `TransientError` (retries exhausted), read
    again from the cursor of the last page handed out."""
    token: str | None = None
    for _ in range(20):
        try:
            for page in connector.iter_pages("contact", ["email"], [], since=since, resume=token):
                yield page
                token = page.cursor or token
            return
        except TransientError:
            continue
    raise AssertionError("20 restarts without reaching the end")


def failures(sandbox: Any, label: str) -> Counter[str]:
    """Answers other than 200 the sandbox gave on one endpoint ("0": connection dropped)."""
    counts = sandbox.request_counts().get(label, {})
    return Counter({status: n for status, n in counts.items() if status != "200"})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_full_read_with_faults_and_changes_reads_every_contact_once(
    make_sandbox, make_connector, split_often, seed
) -> None:
    sandbox = faulty(make_sandbox, seed, contacts=2000, archived_contacts=40)
    connector = make_connector(sandbox, timeout=0.4)
    at_start = live_ids(sandbox)
    walk = engine_pages(connector, since=None)
    before: list[Page] = []
    for page in walk:  # one chain for the first PAGES_PER_CHAIN + 1 pages, then the split
        before.append(page)
        state = decode(page.cursor or "", "contacts")
        if isinstance(state, FullState) and len(state.chains) > 1:
            break
    assert isinstance(state, FullState)
    assert len(state.chains) == 6  # the premise: a split read
    later = sandbox.now + timedelta(hours=1)
    sandbox.mutate(100, at=later)
    created = set(sandbox.create_contacts(30, at=later))
    archived = set(sandbox.archive_contacts(30, at=later))
    seen = Counter(r.id for page in [*before, *walk] for r in page.records)
    assert [i for i, n in seen.items() if n > 1] == []
    assert at_start - archived - set(seen) == set()
    assert set(seen) - at_start - created == set()
    assert failures(sandbox, LIST)  # faults did happen


@pytest.mark.parametrize("seed", [4, 5])
def test_incremental_read_with_faults_and_changes_reads_every_contact_once(
    make_sandbox, make_connector, seed
) -> None:
    sandbox = faulty(make_sandbox, seed, contacts=1500, search_per_second=1000)
    base = int(sandbox.now.timestamp() * 1000) - 60_000
    stamp_all(sandbox, [base, base + 1000, base + 2000])  # 500 records share each stamp
    connector = make_connector(sandbox, timeout=0.4)
    walk = engine_pages(connector, since=datetime.fromtimestamp(base / 1000, UTC))
    first = next(walk)
    read_before = {r.id for r in first.records}
    matching = live_ids(sandbox)
    later = sandbox.now + timedelta(hours=1)
    touched = set(sandbox.mutate(200, at=later))
    created = set(sandbox.create_contacts(20, at=later))
    archived = set(sandbox.archive_contacts(20, at=later))
    seen = Counter(r.id for page in [first, *walk] for r in page.records)
    expected = Counter(
        {i: 1 for i in matching - archived}
        | {i: 1 for i in archived & read_before}
        | {i: 1 for i in touched - archived}
        | {i: 1 for i in created}
    )
    # A contact touched after the walk passed it is not read again in this walk: its new
    # modification time is after the walk began, so the next run reads it.
    assert seen == expected
    assert len(touched & read_before) > 0  # both kinds of touched contacts occur
    assert failures(sandbox, SEARCH)


def test_resuming_after_a_chain_fails_mid_walk_reads_the_rest_once(
    make_sandbox, make_connector, split_often
) -> None:
    sandbox = make_sandbox(seed=6, contacts=2000)
    connector = make_connector(sandbox)
    walk = connector.iter_pages("contact", ["email"], [], since=None)
    handed_out: list[str] = []
    cursor = None
    for page in walk:
        handed_out += [r.id for r in page.records]
        cursor = page.cursor
        if len(handed_out) >= 500:
            break
    sandbox.faults.set(error_503=1.0)  # every chain's next call fails until retries run out
    with pytest.raises(TransientError, match="503"):
        for page in walk:
            handed_out += [r.id for r in page.records]
            cursor = page.cursor
    assert isinstance(decode(cursor or "", "contacts"), FullState)
    sandbox.faults.clear()
    created = set(sandbox.create_contacts(10))
    rest = [r.id for r in read_all(connector, fields=["email"], resume=cursor)]
    assert len(rest) == len(set(rest))
    assert set(handed_out) & set(rest) == set()
    assert Counter(handed_out + rest) == Counter(live_ids(sandbox))
    assert created <= set(rest)  # the last chain has no upper bound


# -- guards: a list that does not page by id must not be split, nor silently lose records --


def rows(*ids: int) -> list[dict[str, Any]]:
    return [{"id": str(i), "properties": {}} for i in ids]


@pytest.mark.parametrize(
    ("after", "first"),
    [
        ("100", rows(5001, 5002, 5100)),  # an offset, not an id
        ("5200", rows(5001, 5100, 5002)),  # first page out of id order
        ("MTAx", rows(1, 2)),  # not a number at all
    ],
)
def test_no_split_unless_the_first_page_pages_by_id(make_sandbox, make_api, after, first):
    api = make_api(make_sandbox(contacts=10))
    chains = plan_chains(
        api, CONTACTS, after, last=first, read=len(first), latency=1.0, max_chains=4
    )
    assert chains == ((after, None, None),)
    assert api.usage.calls == 0  # not even the search for the top id


class ListScript:
    """A loopback server answering list calls by their `after` from a dict of
    after -> (ids, next after)."""

    def __init__(self, pages: dict[str | None, tuple[list[int], str | None]]) -> None:
        self.pages = pages
        self.asked: list[str | None] = []
        self.server = SandboxServer(self.dispatch).start()

    def dispatch(self, request: Request) -> Response:
        after = request.query.get("after", [None])[0]
        self.asked.append(after)
        ids, following = self.pages[after]
        body: dict[str, Any] = {"results": rows(*ids)}
        if following is not None:
            body["paging"] = {"next": {"after": following}}
        return Response(200, body)


@pytest.mark.parametrize(
    ("chain", "pages", "message"),
    [
        (  # a smaller id after a larger one: a range chain would stop early
            ("100", 100, 300),
            {"100": ([150, 120], "151")},
            "ascending id order",
        ),
        (  # ids below the cursor asked for
            ("100", 100, 300),
            {"100": ([101, 102], "103"), "103": ([50, 60], "61")},
            "ascending id order",
        ),
        (  # a next cursor behind the page
            ("100", 100, None),
            {"100": ([101, 150], "120")},
            "ascending id order",
        ),
        (  # a cursor that is not an id in the middle of a range chain
            ("100", 100, 300),
            {"100": ([101, 102], "MTAz")},
            "ascending id order",
        ),
        (  # the same cursor again: would loop, reading the page forever
            (None, None, None),
            {None: ([1, 2], "3"), "3": ([3, 4], "3")},
            "returned its own cursor",
        ),
    ],
)
def test_a_list_breaking_its_order_stops_the_read(make_connector, chain, pages, message):
    script = ListScript(pages)
    try:
        connector = make_connector(script.server, access_token="pat-test")
        resume = encode(FullState("contacts", (chain,)))
        with pytest.raises(PermanentError, match=message):
            read_all(connector, resume=resume)
    finally:
        script.server.stop()


def test_one_unsplit_chain_needs_no_id_order(make_connector):
    script = ListScript({None: ([9, 3], "MTAw"), "MTAw": ([7, 1], None)})
    try:
        connector = make_connector(script.server, access_token="pat-test")
        resume = encode(FullState("contacts", ((None, None, None),)))
        assert [r.id for r in read_all(connector, resume=resume)] == ["9", "3", "7", "1"]
        assert script.asked == [None, "MTAw"]
    finally:
        script.server.stop()
