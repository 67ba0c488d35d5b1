"""Seeded faults and the `/_sandbox/` control API of the HubSpot sandbox."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from typing import Any

import pytest
import requests

from sandbox.hubspot import Faults, HubSpotSandbox

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
CONTACTS = "/crm/v3/objects/contacts"


class Clock:
    def __init__(self) -> None:
        self.t = NOW.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def sandbox():
    with HubSpotSandbox(contacts=30, seed=9, now=NOW, clock=Clock(), rate_limit_10s=10_000) as box:
        yield box


def _session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


MIXED = {"rate_429": 0.1, "burst_429": 2, "error_500": 0.05, "error_502": 0.05, "error_503": 0.05,
         "error_504": 0.05}  # fmt: skip


def _statuses(box: HubSpotSandbox, n: int = 60) -> list[int]:
    with _session(box.token) as http:
        return [http.get(f"{box.url}{CONTACTS}", params={"limit": 1}).status_code for _ in range(n)]


def test_same_seed_same_faults_other_seed_other_faults():
    runs = []
    for seed in (4, 4, 5):
        with HubSpotSandbox(contacts=5, seed=seed, now=NOW, rate_limit_10s=10_000) as box:
            box.faults.set(**MIXED)
            runs.append(_statuses(box))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {429, 500, 502, 503, 504, 200} <= set(runs[0]) | set(runs[2])
    # A 429 burst: every drawn 429 is followed by another one (burst_429=2).
    first = runs[0]
    starts = [i for i, s in enumerate(first) if s == 429 and (i == 0 or first[i - 1] != 429)]
    assert starts
    assert all(first[i + 1] == 429 for i in starts if i + 1 < len(first))


def test_latency_is_a_seeded_lognormal_around_the_median():
    faults = Faults(seed=1, latency_ms=80)
    draws = [faults.draw().latency_s for _ in range(4000)]
    # 80 ms * exp(0.35 * N(0, 1)) from the seeded generator: the same waits on every run
    assert [round(d, 6) for d in draws[:3]] == [0.125574, 0.132865, 0.054585]
    assert round(statistics.median(draws), 6) == 0.07982
    assert (round(min(draws), 6), round(max(draws), 6)) == (0.022591, 0.263017)


def test_queue_forces_outcomes_in_order_and_bodies_are_hubspots(sandbox):
    sandbox.faults.queue("429", "500", "503", None)
    with _session(sandbox.token) as http:
        responses = [http.get(f"{sandbox.url}{CONTACTS}") for _ in range(4)]
    assert [r.status_code for r in responses] == [429, 500, 503, 200]
    assert responses[0].json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert responses[1].json()["category"] == "INTERNAL_ERROR"
    assert responses[2].json()["category"] == "SERVICE_UNAVAILABLE"


def test_connection_reset(sandbox):
    sandbox.faults.queue("reset")
    with _session(sandbox.token) as http, pytest.raises(requests.ConnectionError):
        http.get(f"{sandbox.url}{CONTACTS}")
    assert sandbox.request_counts()[f"GET {CONTACTS.replace('contacts', '{object}')}"] == {"0": 1}


def test_timeout_holds_the_request_past_the_client_timeout(sandbox):
    # The held request is released when the sandbox stops, so the test waits only for the
    # client's own 50 ms read timeout, never for the sandbox's hold
    sandbox.faults.set(timeout_s=3600)
    sandbox.faults.queue("timeout")
    with _session(sandbox.token) as http:
        with pytest.raises(requests.ReadTimeout):
            http.get(f"{sandbox.url}{CONTACTS}", timeout=0.05)
        assert http.get(f"{sandbox.url}{CONTACTS}", timeout=5).status_code == 200


def test_partial_failures_make_207_with_retryable_errors(sandbox):
    sandbox.faults.set(partial_207=0.5)
    ids = [str(i) for i in sandbox.store.table("contacts").ids[:20]]
    with _session(sandbox.token) as http:
        response = http.post(
            f"{sandbox.url}{CONTACTS}/batch/update",
            json={"inputs": [{"id": i, "properties": {"jobtitle": "CEO"}} for i in ids]},
        )
    assert response.status_code == 207
    body = response.json()
    failed = [e["context"]["ids"][0] for e in body["errors"]]
    done = [r["id"] for r in body["results"]]
    assert sorted(failed + done, key=int) == ids
    assert 0 < len(failed) < 20
    assert {e["category"] for e in body["errors"]} == {"INTERNAL_ERROR"}
    table = sandbox.store.table("contacts")
    assert {table.raw(table.rows[int(i)], "jobtitle") for i in done} == {"CEO"}


def test_token_expiry_fault_expires_oauth_tokens_only(sandbox):
    token = requests.post(
        f"{sandbox.url}/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "refresh_token": sandbox.refresh_token,
        },
        timeout=5,
    ).json()["access_token"]
    sandbox.faults.queue("expire", "expire")
    with _session(token) as http:
        first = http.get(f"{sandbox.url}{CONTACTS}")
        assert first.status_code == 401
        assert first.json()["category"] == "EXPIRED_AUTHENTICATION"
        assert http.get(f"{sandbox.url}{CONTACTS}").status_code == 401
    with _session(sandbox.token) as http:
        assert http.get(f"{sandbox.url}{CONTACTS}").status_code == 200


def test_control_api(sandbox):
    base = f"{sandbox.url}/_sandbox"
    assert requests.get(f"{base}/health", timeout=5).json() == {
        "status": "ok", "contacts": 30, "seed": 9,
    }  # fmt: skip
    set_faults = requests.post(
        f"{base}/faults", json={"rates": {"error_502": 1.0}, "seed": 3}, timeout=5
    ).json()
    assert set_faults["rates"]["error_502"] == 1.0
    assert set_faults["seed"] == 3
    assert (
        requests.post(f"{base}/faults", json={"rates": {"nope": 1}}, timeout=5).status_code == 400
    )
    with _session(sandbox.token) as http:
        assert http.get(f"{sandbox.url}{CONTACTS}").status_code == 502
        requests.post(f"{base}/faults", json={"clear": True}, timeout=5)
        assert http.get(f"{sandbox.url}{CONTACTS}").status_code == 200
        assert http.get(f"{sandbox.url}/crm/v3/objects/contacts/1/nope").status_code == 404
    counts = requests.get(f"{base}/requests", timeout=5).json()
    assert counts == {
        "total": 3,
        "byEndpoint": {
            "GET (unknown)": {"404": 1},
            "GET /crm/v3/objects/{object}": {"200": 1, "502": 1},
        },
    }
    assert requests.delete(f"{base}/requests", timeout=5).status_code == 204
    assert requests.get(f"{base}/requests", timeout=5).json()["total"] == 0


def _modified_at(
    sandbox: HubSpotSandbox, http: requests.Session, stamp: str, properties: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The contacts whose `lastmodifieddate` is `stamp`, found by search."""
    body: dict[str, Any] = {
        "filterGroups": [
            {"filters": [{"propertyName": "lastmodifieddate", "operator": "EQ", "value": stamp}]}
        ],
        "limit": 100,
    }
    if properties:
        body["properties"] = list(properties)
    results: list[dict[str, Any]] = http.post(f"{sandbox.url}{CONTACTS}/search", json=body).json()[
        "results"
    ]
    return results


def test_mutate_bumps_modification_dates_and_adds_activity(sandbox):
    table = sandbox.store.table("contacts")
    before = {i: table.text(table.rows[i], "hs_analytics_num_page_views") for i in table.ids}
    response = requests.post(
        f"{sandbox.url}/_sandbox/mutate", json={"count": 5, "at": "2026-11-20T12:05:00Z"}, timeout=5
    ).json()
    ids = response["ids"]
    assert len(ids) == 5
    assert response["at"] == "2026-11-20T12:05:00.000Z"
    with _session(sandbox.token) as http:
        found = _modified_at(
            sandbox,
            http,
            "2026-11-20T12:05:00.000Z",
            ["hs_analytics_num_page_views", "hs_analytics_last_visit_timestamp"],
        )
    assert sorted(r["id"] for r in found) == sorted(ids)
    for record in found:
        old = int(before[int(record["id"])] or 0)
        assert int(record["properties"]["hs_analytics_num_page_views"]) > old
        assert (
            record["properties"]["hs_analytics_last_visit_timestamp"] == "2026-11-20T12:05:00.000Z"
        )


def test_mutate_is_reproducible_and_reset_regenerates(sandbox):
    first = sandbox.mutate(4)
    sandbox.reset()
    assert sandbox.mutate(4) == first
    requests.post(f"{sandbox.url}/_sandbox/reset", json={"seed": 10}, timeout=5)
    assert sandbox.store.seed == 10
    outcomes = requests.get(f"{sandbox.url}/_sandbox/outcomes", timeout=5).json()
    assert len(outcomes) == 30
    assert set(next(iter(outcomes.values()))) == {"converted", "converted_at", "fit", "engagement"}


def test_create_and_archive_contacts_through_the_control_api(sandbox):
    table = sandbox.store.table("contacts")
    top = max(table.ids)
    reply = requests.post(
        f"{sandbox.url}/_sandbox/mutate",
        json={"create": 3, "archive": 2, "at": "2026-11-20T12:05:00Z"},
        timeout=5,
    ).json()
    assert reply["ids"] == []  # no activity unless `count` is given
    created, archived = reply["created"], reply["archived"]
    assert [int(i) for i in created] == list(
        range(sandbox.store.next_id - 3, sandbox.store.next_id)
    )
    assert min(int(i) for i in created) > top
    assert len(archived) == 2 and not set(archived) & set(created)
    with _session(sandbox.token) as http:
        live = http.get(f"{sandbox.url}{CONTACTS}", params={"limit": "100"}).json()["results"]
        gone = http.get(
            f"{sandbox.url}{CONTACTS}", params={"limit": "100", "archived": "true"}
        ).json()["results"]
        new = http.get(
            f"{sandbox.url}{CONTACTS}/{created[0]}",
            params={"properties": "email,lifecyclestage,hs_analytics_num_page_views,createdate"},
        ).json()
        searched = _modified_at(sandbox, http, "2026-11-20T12:05:00.000Z")
    assert len(live) == 30 + 3 - 2
    assert [r["id"] for r in live[-3:]] == created
    assert not {r["id"] for r in live} & set(archived)
    assert sorted(r["id"] for r in gone) == sorted(archived)
    assert all(r["archivedAt"] == "2026-11-20T12:05:00.000Z" for r in gone)
    assert new["createdAt"] == "2026-11-20T12:05:00.000Z"
    assert new["properties"]["createdate"] == "2026-11-20T12:05:00.000Z"
    assert new["properties"]["email"].startswith(f"new{created[0]}@")
    assert new["properties"]["lifecyclestage"] == "lead"
    assert new["properties"]["hs_analytics_num_page_views"] is None
    assert sorted(r["id"] for r in searched) == sorted(created)  # not the archived


@pytest.mark.parametrize(
    "body", [{"create": -1}, {"archive": "2"}, {"count": True}, {"create": 1.5}]
)
def test_mutate_rejects_bad_counts(sandbox, body):
    reply = requests.post(f"{sandbox.url}/_sandbox/mutate", json=body, timeout=5)
    assert reply.status_code == 400
    assert "must be a non-negative integer" in reply.json()["message"]
