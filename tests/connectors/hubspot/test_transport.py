"""Contract: limits, retries, auth, TLS and usage through the connector and the real SDK."""

from __future__ import annotations

import urllib.request
from datetime import UTC
from types import SimpleNamespace
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from connectors.base import Change
from connectors.dayzone import AccountZone
from connectors.errors import AuthError, BudgetExhausted, MissingPermission, PermanentError
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.retry import RetryPolicy
from sandbox.hubspot.auth import ALL_SCOPES

from .conftest import read_all


def statuses(sandbox) -> dict[str, int]:
    """Requests the sandbox answered, by status, over every endpoint."""
    totals: dict[str, int] = {}
    for counts in sandbox.request_counts().values():
        for status, count in counts.items():
            totals[status] = totals.get(status, 0) + count
    return totals


def external_call(sandbox) -> None:
    """One plain-HTTP call with the sandbox's token, as another integration would make."""
    request = urllib.request.Request(
        f"{sandbox.url}/crm/v3/objects/contacts?limit=1",
        headers={"Authorization": f"Bearer {sandbox.token}"},
    )
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 200


def test_429s_are_retried_and_counted(make_sandbox, make_connector, clock) -> None:
    sandbox = make_sandbox(contacts=150)
    connector = make_connector(sandbox, retry_policy=RetryPolicy(jitter=lambda: 0.0))
    sandbox.faults.queue("429", "429")
    assert len(read_all(connector)) == 150
    usage = connector.usage
    assert usage.rate_limited == 2
    assert usage.by_endpoint == {"objects.list": 4, "objects.list 429": 2}
    assert statuses(sandbox) == {"429": 2, "200": 2}
    # The refusals came with calls left in the window (X-HubSpot-RateLimit-Remaining): not the
    # window's doing, so the refused call alone pauses, for half a slot's spacing (10 s / 190
    # calls, jitter fixed at 0), and nothing else waits.
    assert clock.sleeps == [10 / 190 / 2] * 2


def test_a_429_of_a_full_window_closes_it_for_a_growing_backoff(
    make_sandbox, make_connector, clock
) -> None:
    sandbox = make_sandbox(contacts=150, rate_limit_10s=4)
    for _ in range(4):  # another integration spends the whole window
        external_call(sandbox)
    connector = make_connector(sandbox, retry_policy=RetryPolicy(jitter=lambda: 0.0))
    assert len(read_all(connector)) == 150
    assert statuses(sandbox) == {"200": 4 + 2, "429": 1}
    # Refused with none left: the window closes for 0.25 s (the backoff's first step), and the
    # headers' count holds the four calls the other client made for one window from then.
    assert clock.sleeps == [0.25, 9.75]


def test_the_budget_keeps_429s_away_under_load(make_sandbox, make_connector, clock) -> None:
    sandbox = make_sandbox(contacts=3000, rate_limit_10s=20)
    connector = make_connector(sandbox, tier="starter")  # 100/10 s, corrected to 20 by headers
    started = clock()
    ids = [r.id for r in read_all(connector)]
    connector.write("contact", [Change(i, {"model_version": "v1"}) for i in ids])
    assert statuses(sandbox).get("429", 0) == 0
    calls = connector.usage.calls
    assert calls == 30 + 30  # list pages of 100, batch updates of 100
    # 61 calls at 20 per 10 s cannot take less than 20 s of (fake) time.
    assert clock() - started >= (calls - 20) / 20 * 10


def test_calls_made_by_another_client_are_held_from_the_headers(
    make_sandbox, make_connector, clock
) -> None:
    sandbox = make_sandbox(contacts=1500, rate_limit_10s=20)
    for _ in range(15):  # another integration on the same app spends 15 of the 20
        external_call(sandbox)
    connector = make_connector(sandbox)
    assert len(read_all(connector)) == 1500
    # no 429: the connector adopted the server's limit of 20 (not its tier's 190) and held
    # the 15 calls it did not make
    assert statuses(sandbox) == {"200": 15 + 15}


def test_5xx_resets_and_timeouts_are_retried(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=40)
    sandbox.faults.set(timeout_s=2.0)
    connector = make_connector(sandbox, timeout=0.5)
    sandbox.faults.queue("500", "reset", "502", "timeout", "504")
    assert len(read_all(connector)) == 40
    usage = connector.usage
    assert (usage.calls, usage.errors) == (6, 5)


def oauth_connector(make_connector, sandbox):
    """A connector authenticated as the sandbox's OAuth app installation."""
    return make_connector(
        sandbox,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        refresh_token=sandbox.refresh_token,
    )


def test_oauth_tokens_are_refreshed_before_expiry_and_once_after_a_401(
    make_sandbox, make_connector, clock
) -> None:
    sandbox = make_sandbox(contacts=30)
    connector = oauth_connector(make_connector, sandbox)
    read_all(connector)
    assert connector.usage.by_endpoint == {"oauth.token": 1, "objects.list": 1}
    sandbox.auth.expire_all()  # HubSpot revoked or expired the token early
    read_all(connector)
    assert connector.usage.by_endpoint == {"oauth.token": 2, "objects.list": 3}
    clock.advance(1800 - 30)  # within a minute of expiry: refreshed before the call
    read_all(connector)
    assert connector.usage.by_endpoint == {"oauth.token": 3, "objects.list": 4}
    assert statuses(sandbox) == {"200": 6, "401": 1}


def test_a_second_401_after_refreshing_is_an_auth_error(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=30)
    connector = oauth_connector(make_connector, sandbox)
    sandbox.faults.queue(None, "expire", None, "expire")  # token, list 401, token, list 401
    with pytest.raises(AuthError, match="EXPIRED_AUTHENTICATION"):
        read_all(connector)
    assert connector.usage.by_endpoint == {"oauth.token": 2, "objects.list": 2}


def test_a_bad_refresh_token_is_an_auth_error_without_secrets(make_sandbox, make_connector):
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(
        sandbox,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        refresh_token="na1-not-a-refresh-token",
    )
    with pytest.raises(AuthError, match="BAD_REFRESH_TOKEN") as caught:
        read_all(connector)
    message = str(caught.value)
    for secret in (sandbox.client_secret, "na1-not-a-refresh-token"):
        assert secret not in message
    assert sandbox.client_secret not in repr(connector)


def test_an_unknown_private_app_token_is_an_auth_error(make_sandbox, make_connector) -> None:
    connector = make_connector(make_sandbox(contacts=5), access_token="pat-na1-unknown")
    with pytest.raises(AuthError, match="401 INVALID_AUTHENTICATION") as caught:
        read_all(connector)
    assert "pat-na1-unknown" not in str(caught.value)
    assert connector.usage.calls == 1


def test_no_credentials_at_all_is_refused() -> None:
    with pytest.raises(AuthError, match="private-app access token, or client_id"):
        HubSpotConnector(HubSpotOptions(base_url="http://127.0.0.1:9"))


def test_a_missing_write_scope_names_the_scope(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=5)
    token = sandbox.new_token(ALL_SCOPES - {"crm.objects.contacts.write"})
    connector = make_connector(sandbox, access_token=token)
    record = read_all(connector)[0]
    with pytest.raises(MissingPermission, match=r"scope\(s\): crm.objects.contacts.write"):
        connector.write("contact", [Change(record.id, {"fit": 1})])


def test_the_daily_budget_stops_calls_before_they_are_made(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=500)
    connector = make_connector(sandbox, daily_budget=3)
    with pytest.raises(BudgetExhausted, match="daily API budget of 3 calls"):
        read_all(connector)
    assert sandbox.calls == 3
    assert connector.usage.daily_used == 3


ZONE = {"account.details": 1}


@pytest.mark.parametrize(
    ("used", "calls"),
    [
        (0, ZONE | {"objects.list": 4}),
        (3, ZONE | {"objects.list": 1}),
        (4, ZONE),
        (5, {}),  # a process started on a spent day makes no call at all
        (7, {}),
    ],
)
def test_the_daily_budget_counts_calls_earlier_processes_made_today(
    make_sandbox, make_connector, used, calls
) -> None:
    sandbox = make_sandbox(contacts=1000)
    connector = make_connector(sandbox, daily_budget=5, daily_used=used)
    with pytest.raises(BudgetExhausted, match="daily API budget of 5 calls"):
        read_all(connector)
    # the account's time zone is asked first (it says when the cap resets), within the cap
    assert connector.usage.by_endpoint == calls
    assert sandbox.calls == sum(calls.values())


@pytest.mark.parametrize(
    ("budget", "daily_limit", "message", "calls"),
    [
        # our own cap: the zone is asked with the first call
        (3, 1000, "daily API budget of 3 calls", {"account.details": 1, "objects.list": 2}),
        # HubSpot's allowance: asked when at most 5% of it is left (here 2 of 40)
        (
            None,
            40,
            "the CRM's daily API allowance is spent",
            {"objects.list": 39, "account.details": 1},
        ),
    ],
)
def test_a_spent_day_says_when_the_accounts_day_ends(
    make_sandbox, make_connector, budget, daily_limit, message, calls
) -> None:
    sandbox = make_sandbox(contacts=5000, daily_limit=daily_limit, time_zone="Asia/Kolkata")
    connector = make_connector(sandbox, daily_budget=budget)
    with pytest.raises(BudgetExhausted) as caught:
        read_all(connector)
    assert str(caught.value).startswith(message)
    assert str(caught.value).endswith("; resumes at 00:00 Asia/Kolkata (18:30 UTC)")
    resume = caught.value.resume_at
    assert resume is not None
    assert (resume.hour, resume.minute, resume.tzinfo) == (18, 30, UTC)
    assert connector.usage.by_endpoint == calls


TOKYO = AccountZone("Asia/Tokyo", ZoneInfo("Asia/Tokyo"))


@pytest.mark.parametrize(
    ("used", "calls"),
    [
        (0, {"objects.list": 3}),
        (3, {}),  # a spent day: no call, and still the time it resumes
    ],
)
def test_a_zone_an_earlier_process_learned_is_not_asked_again(
    make_sandbox, make_connector, used, calls
) -> None:
    sandbox = make_sandbox(contacts=1000, time_zone="Asia/Tokyo")
    connector = make_connector(sandbox, daily_budget=3, daily_used=used, zone=TOKYO)
    with pytest.raises(BudgetExhausted) as caught:
        read_all(connector)
    assert str(caught.value) == (
        "daily API budget of 3 calls for this connection is spent; raise daily_budget or wait "
        "for the next day; resumes at 00:00 Asia/Tokyo (15:00 UTC)"
    )
    assert connector.usage.by_endpoint == calls
    assert connector.account_zone() == TOKYO
    assert connector.usage.account_zone is None  # given, not learned: nothing new to keep
    assert sandbox.calls == sum(calls.values())


def test_the_zone_a_connector_looks_up_is_reported_for_the_store(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=10, time_zone="America/Los_Angeles")
    connector = make_connector(sandbox)
    assert connector.usage.account_zone is None
    zone = connector.account_zone()
    assert zone == AccountZone("America/Los_Angeles", ZoneInfo("America/Los_Angeles"))
    assert connector.usage.account_zone == zone
    assert connector.usage.by_endpoint == {"account.details": 1}
    assert connector.account_zone() == zone  # asked once
    assert sandbox.calls == 1


def test_hubspots_daily_headers_stop_calls_at_zero(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=500, daily_limit=2)
    connector = make_connector(sandbox)
    with pytest.raises(BudgetExhausted, match="daily API allowance is spent"):
        read_all(connector)
    assert statuses(sandbox) == {"200": 2}
    assert (connector.usage.daily_used, connector.usage.daily_limit) == (2, 2)


def test_hubspots_daily_429_is_budget_exhausted_not_retried(make_sandbox, make_connector):
    sandbox = make_sandbox(contacts=500, daily_limit=2)
    for _ in range(2):  # another integration spends the day's allowance first
        external_call(sandbox)
    connector = make_connector(sandbox)
    with pytest.raises(BudgetExhausted, match="429 DAILY"):
        read_all(connector)
    assert statuses(sandbox) == {"200": 2, "429": 1}


def test_tls_with_the_sandbox_ca_bundle(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=20, tls=True)
    assert sandbox.url.startswith("https://")
    assert len(read_all(make_connector(sandbox))) == 20
    untrusting = make_connector(sandbox, ca_bundle=None)
    with pytest.raises(PermanentError, match="set ca_bundle"):
        read_all(untrusting)


def test_an_https_base_url_on_a_plain_http_server_fails_at_once_naming_it(
    make_sandbox, make_connector, clock
) -> None:
    """A TLS handshake answered in plain HTTP is a misconfigured base_url, not an outage: it
    used to be a TransientError ("TLS failure") that runs retried for `outage.max_pause`."""
    sandbox = make_sandbox(contacts=5)
    port = urlsplit(sandbox.url).port
    wrong = SimpleNamespace(url=f"https://127.0.0.1:{port}", token=sandbox.token, ca_file=None)
    connector = make_connector(wrong)
    with pytest.raises(PermanentError) as info:
        read_all(connector)
    assert str(info.value) == (
        f"HubSpot objects.list: https://127.0.0.1:{port} does not answer in TLS (it speaks "
        "plain HTTP); check base_url (http:// for a server without TLS)"
    )
    assert clock.sleeps == []  # no retry waited


def test_usage_counts_calls_by_endpoint(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=10)
    connector = make_connector(sandbox)
    record = read_all(connector)[0]
    connector.fetch("contact", [record.id, "999999999"], ["email"], [])
    usage = connector.usage
    assert usage.by_endpoint == {"objects.list": 1, "objects.batch_read": 1}
    assert (usage.calls, usage.rate_limited, usage.errors) == (2, 0, 0)
    assert usage.daily_limit == 1_000_000


def test_fetch_reads_records_by_id_in_order(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=10)
    connector = make_connector(sandbox)
    ids = [r.id for r in read_all(connector)]
    fetched = connector.fetch("contact", [ids[3], "999999999", ids[1]], ["email"], [])
    assert [r.id for r in fetched] == [ids[3], ids[1]]


def test_429s_of_exempt_association_reads_back_off(make_sandbox, make_connector, clock) -> None:
    """An association batch read is exempt from the ten-second window and its replies carry no
    window count, so a 429 shows no room left: it backs off (growing), not a slot's spacing."""
    sandbox = make_sandbox(contacts=150)
    connector = make_connector(sandbox, retry_policy=RetryPolicy(jitter=lambda: 0.0))
    ids = [r.id for r in read_all(connector)][:10]
    sandbox.faults.queue(None, "429", "429")  # the contacts' batch read goes through
    records = connector.fetch("contact", ids, ["company.industry"], [])
    assert sorted(r.id for r in records) == sorted(ids)
    assert statuses(sandbox)["429"] == 2
    # the backoff's first two steps (0.25 s, then 0.5 s), not 10 s / 190 / 2 each
    assert clock.sleeps == [0.25, 0.5]


def test_an_oauth_app_budgets_100_calls_per_ten_seconds_on_any_tier(make_sandbox, make_connector):
    sandbox = make_sandbox(contacts=30)
    # before any reply's headers could say so: HubSpot holds OAuth apps to 100
    assert repr(oauth_connector(make_connector, sandbox)) == "HubSpotConnector(tier_limit=100)"
    private = make_connector(sandbox, tier="enterprise")
    assert repr(private) == "HubSpotConnector(tier_limit=190)"
