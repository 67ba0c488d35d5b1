"""Paging HubSpot objects: full reads through the list endpoint, incremental through search.

Full reads use `GET /crm/v3/objects/{type}` (100 a page, `after` cursor). One list chain at a
time is latency-bound (one call in flight), so a long read whose `after` cursors are record ids,
as HubSpot's list cursors are, is split into a few id-range chains read concurrently; each
chain drops ids outside its `[lo, hi)`, so nothing is read twice and at most one extra page per
chain (plus one search for the top id and the total) is spent. The read goes on as one chain
for `PAGES_PER_CHAIN` pages after the first and is split only if it goes on past them: a
split needs a read that long (at most one chain per `PAGES_PER_CHAIN` pages), so a shorter read
never makes the search, however slow the calls. (It was made whenever latency asked for
chains, and wasted when the read then proved too short to split: the demo's 7 calls instead of
6 under load.)

Splitting is sound only while the list pages in ascending id order with cursors that are ids
(a chain stops at its first id >= hi, and would lose later smaller ids otherwise). So every
page read before the split must show it (ids ascending, cursor >= its last id) or the read
stays one chain, and a range chain that meets a page breaking the order, or a cursor that does
not advance, fails with `PermanentError` instead of losing or repeating records silently. One
unsplit chain only needs its cursors to advance.

Incremental reads use search: records modified at or after the lower bound, 200 a query,
sorted by `hs_object_id` and paged by `hs_object_id > i` (keyset, never `after`), so they never
meet the 10,000-result cap, a page is never shared with the previous one, and a walk of M
records costs `ceil(M / 200)` queries (one more when M is a multiple of 200). Search allows one
sort, so a walk ordered by modification time had to re-read every record sharing a full page's
newest timestamp (HubSpot's batch writes give many records one), up to half a page a query. A
record modified during the walk keeps its id, so it stays in the result set and is never
skipped; if the walk had already passed it, the next run reads it, because the engine's
watermark never passes the time this walk began.

HubSpot refuses a search whose request body is longer than 3,000 characters (400; "Search the
CRM", Limits), and the body names every property read: a model group with long custom property
names gets there. Such a walk searches for the ids alone and reads each page's records by batch
read, 100 a call (`MAX_SEARCH_BODY`; `ceil(M / 200)` queries plus `ceil(M / 100)` batch reads).
"""

from __future__ import annotations

import itertools
import json
import math
import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.errors import PermanentError, TransientError
from connectors.hubspot.api import HubSpotApi, batch_path
from connectors.hubspot.cursor import FullState, IncrementalState

__all__ = [
    "LIST_LIMIT",
    "SEARCH_LIMIT",
    "ObjectSpec",
    "batch_read_page",
    "check_results",
    "plan_chains",
    "read_full",
    "read_incremental",
]

LIST_LIMIT = 100
SEARCH_LIMIT = 200
#: The longest search request body HubSpot takes, in characters (as the SDK sends it).
MAX_SEARCH_BODY = 3000
#: Records a batch read takes.
BATCH_READ_LIMIT = 100
#: At most one extra call per this many pages for splitting a full read (keeps overhead <= 2%).
PAGES_PER_CHAIN = 50

Raw = dict[str, Any]
#: A chain of a full read: its next cursor and its id range `[lo, hi)` (None: unbounded).
Chain = tuple[str | None, int | None, int | None]


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """A record kind as HubSpot names it."""

    kind: str
    object_type: str
    modified: str


_NO_PROPERTIES: dict[str, Any] = {}


def check_results(data: Any) -> None:
    """Raise TransientError unless `data` is `{"results": [{"id": ..., "properties": {...}}]}`."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise TransientError("HubSpot reply has no results list (malformed payload)")
    # exact types (orjson makes nothing else), checked the cheap way: this runs on every record
    for item in results:
        if item.__class__ is dict:
            rid = item.get("id").__class__
            if (rid is str or rid is int) and item.get(
                "properties", _NO_PROPERTIES
            ).__class__ is dict:
                continue
        raise TransientError("HubSpot reply has a malformed record (no id or properties)")


def _next_after(data: Raw) -> str | None:
    paging = data.get("paging")
    after = (paging or {}).get("next", {}).get("after") if isinstance(paging, dict) else None
    return None if after in (None, "") else str(after)


def _id(record: Raw) -> int:
    return int(record["id"])


def _numeric(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _ascending(ids: Sequence[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(ids))


def list_page(
    api: HubSpotApi, spec: ObjectSpec, properties: Sequence[str], after: str | None
) -> tuple[list[Raw], str | None]:
    """One page of the list endpoint and the next `after` (None at the end)."""
    kwargs: dict[str, Any] = {"limit": LIST_LIMIT, "properties": list(properties)}
    if after is not None:
        kwargs["after"] = after
    reply = api.call(
        "objects.list", api.objects_basic.get_page, spec.object_type, check=check_results, **kwargs
    )
    return list(reply.data["results"]), _next_after(reply.data)


def batch_read_page(
    api: HubSpotApi,
    object_type: str,
    ids: Sequence[str],
    properties: Sequence[str],
    *,
    with_history: Sequence[str] = (),
) -> list[Raw]:
    """One `POST /crm/v3/objects/{type}/batch/read` of `ids` (at most 100; the caller splits),
    with `properties` and, for `with_history`, `propertiesWithHistory`; the records HubSpot
    has (ids it no longer has are left out), checked like every read reply."""
    body: Raw = {"inputs": [{"id": i} for i in ids], "properties": list(properties)}
    if with_history:
        body["propertiesWithHistory"] = list(with_history)
    reply = api.call(
        "objects.batch_read",
        api.post_json,
        batch_path(object_type, "read"),
        orjson.dumps(body),
        check=check_results,
    )
    return list(reply.data["results"])


def search_page(api: HubSpotApi, spec: ObjectSpec, body: Raw) -> Raw:
    """One search request (counted against the search endpoints' own per-second limit)."""
    reply = api.call(
        "objects.search",
        api.objects_search.do_search,
        spec.object_type,
        body,
        search=True,
        check=check_results,
    )
    data: Raw = reply.data
    return data


# -- full reads ---------------------------------------------------------------------------


def read_full(
    api: HubSpotApi,
    spec: ObjectSpec,
    properties: Sequence[str],
    state: FullState | None,
    *,
    max_chains: int,
) -> Iterator[tuple[list[Raw], FullState | None]]:
    """Every live record of `spec`, page by page, with the state that resumes after each page.

    A fresh read (or one resumed in its one unsplit chain) goes on as one chain for
    `PAGES_PER_CHAIN` pages after the first; only a read still going after them, in ascending
    id order, may be split (`plan_chains`), so shorter reads never pay for the search of the top id,
    whatever the latency. A resumed read counts only the records it read itself, so it may
    plan a chain or two more than the rest needs (each costs at most one call).
    """
    read = 0
    if state is None:
        results, after = list_page(api, spec, properties, None)
        if after is None:
            yield results, None
            return
        chains: Sequence[Chain] = ((after, None, None),)
        yield results, FullState(spec.object_type, tuple(chains))
        read = len(results)
        if not _by_id(results, after):
            max_chains = 1
    else:
        chains = state.chains
    if max_chains > 1 and len(chains) == 1 and chains[0][1:] == (None, None):
        chains = yield from _lead(api, spec, properties, chains, read=read, max_chains=max_chains)
    yield from _run_chains(api, spec, properties, chains)


def _lead(  # noqa: PLR0913  keyword-only inputs of one plan
    api: HubSpotApi,
    spec: ObjectSpec,
    properties: Sequence[str],
    chains: Sequence[Chain],
    *,
    read: int,
    max_chains: int,
) -> Generator[tuple[list[Raw], FullState | None], None, Sequence[Chain]]:
    """Read one unsplit chain for `PAGES_PER_CHAIN` pages; the chains for the rest: none at
    the end, else the read split by `plan_chains` when every page showed ascending ids."""
    lead = _run_chains(api, spec, properties, chains, max_pages=PAGES_PER_CHAIN)
    last: list[Raw] = []
    ordered = True
    while True:
        try:
            page, page_state = next(lead)
        except StopIteration as stop:
            rest: tuple[Chain, ...] = stop.value
            break
        following = page_state.chains[0][0] if page_state is not None else None
        read, last = read + len(page), page
        ordered = ordered and _by_id(page, following)
        yield page, page_state
    if not rest or not ordered or rest[0][0] is None:
        return rest
    return plan_chains(
        api,
        spec,
        rest[0][0],
        last=last,
        read=read,
        latency=api.last_latency,
        max_chains=max_chains,
    )


def _by_id(page: Sequence[Raw], after: str | None) -> bool:
    """Whether a page shows the list paging by id: ids ascending, next cursor an id past them."""
    ids = [_id(r) for r in page]
    cursor = _numeric(after)
    if after is not None and cursor is None:
        return False
    return _ascending(ids) and (cursor is None or not ids or cursor >= ids[-1])


def plan_chains(  # noqa: PLR0913  keyword-only inputs of one plan
    api: HubSpotApi,
    spec: ObjectSpec,
    after: str,
    *,
    last: Sequence[Raw],
    read: int,
    latency: float,
    max_chains: int,
) -> tuple[tuple[str | None, int | None, int | None], ...]:
    """Split the rest of a full read into id ranges, enough to keep the rate budget busy.

    `after` is the next cursor, `last` the page read last, `read` the records read so far
    (`read_full` plans after `PAGES_PER_CHAIN + 1` pages) and `latency` the seconds a call
    took. Returns `(after, lo, hi)` chains (`FullState.chains`): the one chain
    `((after, None, None),)` unless the list pages by id and the budget allows several calls
    in flight, else id ranges `[lo, hi)`, the last open-ended. One search for the top id and
    the total, then at most one chain per `PAGES_PER_CHAIN` pages of the whole read, no more
    than `max_chains` and no more than pages left; each range chain may read one page beyond
    its range.
    """
    single = ((after, None, None),)
    lo = _numeric(after)
    if lo is None or max_chains <= 1 or not _by_id(last, after):
        return single  # not paged by id: ranges would lose records
    rate = api.window.limit / api.window.window
    wanted = math.ceil(rate * latency * 2)
    if wanted <= 1:
        return single
    top_reply = search_page(
        api,
        spec,
        {
            "sorts": [{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
            "properties": ["hs_object_id"],
            "limit": 1,
        },
    )
    top_results = top_reply["results"]
    total = int(top_reply.get("total") or 0)
    if not top_results:
        return single
    top = _id(top_results[0])
    pages_left = math.ceil(max(0, total - read) / LIST_LIMIT)
    pages = math.ceil(read / LIST_LIMIT) + pages_left
    count = min(max_chains, wanted, 1 + pages // PAGES_PER_CHAIN, pages_left)
    if count <= 1 or top < lo:
        return single
    bounds = [lo + (top + 1 - lo) * j // count for j in range(count)]
    chains: list[tuple[str | None, int | None, int | None]] = [(after, None, bounds[1])]
    for j in range(1, count):
        hi = bounds[j + 1] if j + 1 < count else None
        # Start one id early and drop it: correct whether `after` is inclusive or not.
        chains.append((str(bounds[j] - 1), bounds[j], hi))
    return tuple(chains)


_DONE = object()


def _check_order(
    spec: ObjectSpec,
    after: str | None,
    floor: int | None,
    results: Sequence[Raw],
    following: str | None,
) -> int | None:
    """The id floor after one page of a range chain; PermanentError when the page breaks the
    ascending id order that id ranges rely on (ranges would then lose records)."""
    ids = [_id(r) for r in results]
    nxt = _numeric(following)
    if (
        not _ascending(ids)
        or (floor is not None and ids and ids[0] < floor)
        or (following is not None and nxt is None)
        or (nxt is not None and ids and nxt < ids[-1])
    ):
        raise PermanentError(
            f"HubSpot's {spec.object_type} list did not page in ascending id order "
            f"(after={after}: ids {ids[:1]}..{ids[-1:]}, next after={following}); a split "
            "full read cannot be trusted, so it stops here"
        )
    if nxt is not None:
        return nxt
    return ids[-1] if ids else floor


def _run_chains(  # noqa: PLR0915  threads, queue and stop handling read best as one unit
    api: HubSpotApi,
    spec: ObjectSpec,
    properties: Sequence[str],
    chains: Sequence[tuple[str | None, int | None, int | None]],
    *,
    max_pages: int | None = None,
) -> Generator[tuple[list[Raw], FullState | None], None, tuple[Chain, ...]]:
    """Read `chains` on threads, yielding pages as they arrive with the state after each.

    With `max_pages`, each chain stops after that many pages; the chains' positions then are
    the generator's return value (empty when every chain reached its end).
    """
    if not chains:
        return ()
    positions: dict[int, tuple[str | None, int | None, int | None]] = dict(enumerate(chains))
    pages: queue.Queue[Any] = queue.Queue(maxsize=2 * len(chains))
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def run(index: int, after: str | None, lo: int | None, hi: int | None) -> None:
        ranged = lo is not None or hi is not None
        floor = _numeric(after)  # every id still to come is at least this
        read = 0
        try:
            while not stop.is_set():
                results, following = list_page(api, spec, properties, after)
                if following is not None and following == after:
                    raise PermanentError(
                        f"HubSpot's {spec.object_type} list returned its own cursor "
                        f"after={after} as the next one; stopping instead of looping"
                    )
                if ranged:
                    floor = _check_order(spec, after, floor, results, following)
                kept = [
                    r
                    for r in results
                    if (lo is None or _id(r) >= lo) and (hi is None or _id(r) < hi)
                ]
                beyond = hi is not None and any(_id(r) >= hi for r in results)
                next_id = _numeric(following)
                done = (
                    following is None
                    or beyond
                    or (hi is not None and next_id is not None and next_id >= hi)
                )
                put((index, kept, None if done else following))
                read += 1
                if done or (max_pages is not None and read >= max_pages):
                    break
                after = following
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((index, exc, None))
        finally:
            put((index, _DONE, None))

    workers = [
        threading.Thread(target=run, args=(i, *chain), name=f"hubspot-chain-{i}", daemon=True)
        for i, chain in enumerate(chains)
    ]
    for worker in workers:
        worker.start()
    running = len(workers)
    try:
        while running:
            index, payload, following = pages.get()
            if payload is _DONE:
                running -= 1
                continue
            if isinstance(payload, BaseException):
                raise payload
            _, lo, hi = positions[index]
            if following is None:
                positions.pop(index, None)
            else:
                positions[index] = (following, lo, hi)
            if payload:
                remaining = tuple(positions[k] for k in sorted(positions))
                yield payload, FullState(spec.object_type, remaining) if remaining else None
    finally:
        stop.set()
    return tuple(positions[k] for k in sorted(positions))


# -- incremental reads --------------------------------------------------------------------


def _filter(name: str, operator: str, value: int) -> Raw:
    return {"propertyName": name, "operator": operator, "value": str(value)}


def read_incremental(
    api: HubSpotApi,
    spec: ObjectSpec,
    properties: Sequence[str],
    state: IncrementalState,
) -> Iterator[tuple[list[Raw], IncrementalState]]:
    """Records modified at or after `state.t` with ids above `state.i`, by id, each once; when
    naming `properties` would make a search body too long, the search finds the ids and batch
    reads fetch the records (`MAX_SEARCH_BODY`)."""
    t, i = state.t, state.i
    slim = False
    while True:
        body: Raw = {
            "filterGroups": [
                {"filters": [_filter(spec.modified, "GTE", t), _filter("hs_object_id", "GT", i)]}
            ],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": [spec.modified] if slim else list(properties),
            "limit": SEARCH_LIMIT,
        }
        # the SDK sends `json.dumps(body)`: its length is what HubSpot counts
        if not slim and len(json.dumps(body)) > MAX_SEARCH_BODY:
            slim = True
            continue
        results = search_page(api, spec, body)["results"]
        if not results:
            return
        top = max(_id(r) for r in results)
        if top <= i:
            raise PermanentError(
                f"HubSpot search made no progress past hs_object_id {i} "
                f"({spec.modified} >= {t}); the search index may be inconsistent"
            )
        i = top
        found = len(results)
        if slim:
            results = _read_found(api, spec, results, properties)
        yield results, IncrementalState(spec.object_type, t, i)
        if found < SEARCH_LIMIT:
            return


def _read_found(
    api: HubSpotApi, spec: ObjectSpec, found: Sequence[Raw], properties: Sequence[str]
) -> list[Raw]:
    """The records a slim search found, with `properties`, in the search's order (a record
    archived in between is left out, as the batch read leaves it out)."""
    ids = [str(r["id"]) for r in found]
    read: dict[str, Raw] = {}
    for start in range(0, len(ids), BATCH_READ_LIMIT):
        chunk = ids[start : start + BATCH_READ_LIMIT]
        for record in batch_read_page(api, spec.object_type, chunk, properties):
            read[str(record["id"])] = record
    return [read[rid] for rid in ids if rid in read]
