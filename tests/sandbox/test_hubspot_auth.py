"""Authentication and rate limits of the HubSpot sandbox: 401/403 bodies, OAuth refresh and
expiry, the rolling 10-second window, the daily counter, the search limit and their headers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from sandbox.hubspot import HubSpotSandbox

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
CONTACTS = "/crm/v3/objects/contacts"


class Clock:
    def __init__(self) -> None:
        self.t = NOW.timestamp()

    def __call__(self) -> float:
        return self.t


def _box(clock: Clock, **kwargs: Any) -> HubSpotSandbox:
    return HubSpotSandbox(contacts=20, seed=3, now=NOW, clock=clock, **kwargs)


@pytest.fixture
def sandbox():
    with _box(Clock(), rate_limit_10s=4, daily_limit=1000) as box:
        yield box


def _get(
    sandbox: HubSpotSandbox, token: str | None, path: str = CONTACTS, **kwargs: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(f"{sandbox.url}{path}", headers=headers, timeout=5, **kwargs)


INVALID = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
    "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


@pytest.mark.parametrize("token", [None, "pat-na1-00000000-0000-0000-0000-000000000000", ""])
def test_invalid_or_missing_token_is_401(sandbox, token):
    response = _get(sandbox, token)
    assert response.status_code == 401
    body = response.json()
    assert sorted(body) == ["category", "correlationId", "message", "status"]
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"] == INVALID


def test_missing_scope_is_403_naming_the_scopes(sandbox):
    token = sandbox.new_token(["crm.objects.contacts.read"])
    assert _get(sandbox, token).status_code == 200
    response = requests.post(
        f"{sandbox.url}{CONTACTS}/batch/update",
        json={"inputs": []},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 403
    body = response.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["message"] == (
        "This app hasn't been granted all required scopes to make this call. Read more about "
        "required scopes here: https://developers.hubspot.com/scopes."
    )
    assert body["errors"] == [
        {
            "message": "One or more of the following scopes are required.",
            "context": {"requiredGranularScopes": ["crm.objects.contacts.write"]},
        }
    ]
    assert body["links"] == {"scopes": "https://developers.hubspot.com/scopes"}
    schema = _get(sandbox, token, "/crm/v3/properties/contacts")
    assert schema.json()["errors"][0]["context"] == {
        "requiredGranularScopes": ["crm.schemas.contacts.read"]
    }


def _refresh(sandbox: HubSpotSandbox, **overrides: str) -> requests.Response:
    form = {
        "grant_type": "refresh_token",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "refresh_token": sandbox.refresh_token,
        **overrides,
    }
    return requests.post(f"{sandbox.url}/oauth/v1/token", data=form, timeout=5)


def test_oauth_refresh_gives_a_30_minute_token_that_then_expires(sandbox):
    response = _refresh(sandbox)
    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["access_token", "expires_in", "refresh_token", "token_type"]
    assert body["expires_in"] == 1800
    assert body["token_type"] == "bearer"
    assert body["refresh_token"] == sandbox.refresh_token
    ok = _get(sandbox, body["access_token"])
    assert ok.status_code == 200
    assert "X-HubSpot-RateLimit-Daily" not in ok.headers  # not sent to OAuth-authenticated calls
    assert ok.headers["X-HubSpot-RateLimit-Max"] == "4"
    sandbox.clock.t += 1800 + 2 * 3600
    expired = _get(sandbox, body["access_token"])
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert (
        expired.json()["message"] == "The OAuth token used to make this call expired 2 hour(s) ago."
    )
    assert expired.json()["context"] == {"expire time": ["2026-11-20T12:30:00.000Z"]}
    fresh = _refresh(sandbox).json()["access_token"]
    assert fresh != body["access_token"]
    assert _get(sandbox, fresh).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "status", "error", "message"),
    [
        (
            {"refresh_token": "na1-nope"},
            "BAD_REFRESH_TOKEN",
            "invalid_grant",
            "refresh token is invalid, expired or revoked",
        ),
        ({"client_id": "nope"}, "BAD_CLIENT_ID", "invalid_client", "missing or unknown client id"),
        (
            {"client_secret": "nope"},
            "BAD_CLIENT_SECRET",
            "invalid_client",
            "missing or invalid client secret",
        ),
        (
            {"grant_type": "password"},
            "BAD_GRANT_TYPE",
            "unsupported_grant_type",
            "grant_type must be refresh_token",
        ),
    ],
)
def test_oauth_refresh_errors(sandbox, overrides, status, error, message):
    """RFC 6749's `error`/`error_description` beside HubSpot's `status`/`message`."""
    response = _refresh(sandbox, **overrides)
    assert response.status_code == 400
    body = response.json()
    assert body == {
        "error": error,
        "error_description": message,
        "status": status,
        "message": message,
        "correlationId": response.headers["X-HubSpot-Correlation-Id"],
    }


def test_rate_limit_headers_on_api_calls_but_not_on_search(sandbox):
    response = _get(sandbox, sandbox.token)
    assert {k: v for k, v in response.headers.items() if k.startswith("X-HubSpot-RateLimit")} == {
        "X-HubSpot-RateLimit-Daily": "1000",
        "X-HubSpot-RateLimit-Daily-Remaining": "999",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Max": "4",
        "X-HubSpot-RateLimit-Remaining": "3",
        "X-HubSpot-RateLimit-Secondly": "1",
        "X-HubSpot-RateLimit-Secondly-Remaining": "0",
    }
    search = requests.post(
        f"{sandbox.url}{CONTACTS}/search",
        json={},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=5,
    )
    assert search.status_code == 200
    assert not [k for k in search.headers if k.startswith("X-HubSpot-RateLimit")]


def test_ten_second_rolling_window_429_and_recovery(sandbox):
    statuses = [_get(sandbox, sandbox.token).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 200]
    limited = _get(sandbox, sandbox.token)
    assert limited.status_code == 429
    body = limited.json()
    assert sorted(body) == [
        "correlationId", "errorType", "message", "policyName", "requestId", "status",
    ]  # fmt: skip
    assert body["status"] == "error"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert "Retry-After" not in limited.headers
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    other = sandbox.new_token()
    assert _get(sandbox, other).status_code == 200  # each app has its own window
    sandbox.clock.t += 9.9
    assert _get(sandbox, sandbox.token).status_code == 429
    sandbox.clock.t += 0.2
    assert _get(sandbox, sandbox.token).status_code == 200


def test_daily_limit_429():
    clock = Clock()
    with _box(clock, rate_limit_10s=100, daily_limit=3) as box:
        assert [_get(box, box.token).status_code for _ in range(3)] == [200, 200, 200]
        response = _get(box, box.token)
        assert response.status_code == 429
        assert response.json()["policyName"] == "DAILY"
        assert response.json()["message"] == "You have reached your daily limit."
        clock.t += 86_400
        assert _get(box, box.token).status_code == 200


def test_search_has_its_own_per_second_limit():
    clock = Clock()
    with _box(clock, rate_limit_10s=100, search_per_second=5) as box:

        def search() -> requests.Response:
            return requests.post(
                f"{box.url}{CONTACTS}/search",
                json={"limit": 1},
                headers={"Authorization": f"Bearer {box.token}"},
                timeout=5,
            )

        assert [search().status_code for _ in range(5)] == [200] * 5
        limited = search()
        assert limited.status_code == 429
        assert limited.json()["policyName"] == "SECONDLY"
        assert _get(box, box.token).status_code == 200  # other endpoints are unaffected
        clock.t += 1.01
        assert search().status_code == 200


@pytest.mark.parametrize(("tier", "burst"), [("starter", 100), ("professional", 150)])
def test_association_reads_have_their_own_ten_second_limit(tier, burst):
    """Outside the general window (`rate_limit_10s=2` here), inside their own, by tier."""
    clock = Clock()
    with _box(clock, rate_limit_10s=2, tier=tier) as box:

        def associations() -> requests.Response:
            return requests.post(
                f"{box.url}/crm/v4/associations/contacts/companies/batch/read",
                json={"inputs": [{"id": "1"}]},
                headers={"Authorization": f"Bearer {box.token}"},
                timeout=5,
            )

        # id 1 is no contact: a 207 naming it among the errors
        assert [associations().status_code for _ in range(burst)] == [207] * burst
        refused = associations()
        assert refused.status_code == 429
        assert refused.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        assert "X-HubSpot-RateLimit-Remaining" not in refused.headers
        # the general window is untouched: both of its calls are still there
        assert [_get(box, box.token).status_code for _ in range(3)] == [200, 200, 429]
        clock.t += 10.01
        assert associations().status_code == 207


def test_oauth_calls_have_no_daily_limit():
    with _box(Clock(), rate_limit_10s=100, daily_limit=2) as box:
        token = _refresh(box).json()["access_token"]
        assert [_get(box, token).status_code for _ in range(4)] == [200, 200, 200, 200]
        assert [_get(box, box.token).status_code for _ in range(3)] == [200, 200, 429]


def test_oauth_calls_have_a_ten_second_limit_of_100_whatever_the_tier():
    with _box(Clock(), tier="enterprise") as box:  # private apps: 190 per ten seconds
        token = _refresh(box).json()["access_token"]
        replies = [_get(box, token) for _ in range(101)]
        assert [r.status_code for r in replies] == [200] * 100 + [429]
        assert replies[0].headers["X-HubSpot-RateLimit-Max"] == "100"
        assert replies[-1].json()["policyName"] == "TEN_SECONDLY_ROLLING"
        assert replies[-1].headers["X-HubSpot-RateLimit-Remaining"] == "0"
        private = _get(box, box.token)  # the private app's window is its own, and larger
        assert (private.status_code, private.headers["X-HubSpot-RateLimit-Max"]) == (200, "190")
