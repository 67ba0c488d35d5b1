"""The HubSpot account's day: its time zone from the Account Info API and when it ends."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from connectors.hubspot.account import AccountZone, zone_of


@pytest.mark.parametrize(
    ("name", "now", "midnight", "text"),
    [
        (
            "America/New_York",
            datetime(2026, 12, 5, 20, 0, tzinfo=UTC),
            datetime(2026, 12, 6, 5, 0, tzinfo=UTC),
            "resumes at 00:00 America/New_York (05:00 UTC)",
        ),
        (  # summer time
            "US/Eastern",
            datetime(2026, 7, 1, 3, 59, tzinfo=UTC),
            datetime(2026, 7, 1, 4, 0, tzinfo=UTC),
            "resumes at 00:00 US/Eastern (04:00 UTC)",
        ),
        (
            "Asia/Kolkata",
            datetime(2026, 12, 5, 18, 30, tzinfo=UTC),
            datetime(2026, 12, 6, 18, 30, tzinfo=UTC),
            "resumes at 00:00 Asia/Kolkata (18:30 UTC)",
        ),
    ],
)
def test_the_accounts_day_ends_at_its_midnight(name, now, midnight, text) -> None:
    zone = zone_of({"timeZone": name})
    assert zone.name == name
    assert zone.next_midnight(now) == midnight
    assert zone.resumes(now) == text


def test_an_unknown_zone_name_falls_back_to_the_reported_offset_then_utc() -> None:
    fixed = zone_of({"timeZone": "Mars/Olympus", "utcOffsetMilliseconds": -14_400_000})
    assert fixed.name == "Mars/Olympus"
    assert fixed.zone == timezone(timedelta(hours=-4))
    assert fixed.today(datetime(2026, 12, 6, 3, 0, tzinfo=UTC)) == date(2026, 12, 5)
    assert zone_of({}) == AccountZone("UTC", UTC)


def get(sandbox: Any, path: str) -> Any:
    request = urllib.request.Request(
        sandbox.url + path, headers={"Authorization": f"Bearer {sandbox.token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_the_sandbox_serves_account_details_and_daily_usage(make_sandbox, clock) -> None:
    sandbox = make_sandbox(contacts=5, time_zone="America/New_York", daily_limit=500)
    details = get(sandbox, "/account-info/v3/details")
    assert {k: details[k] for k in ("timeZone", "utcOffset", "utcOffsetMilliseconds")} == {
        "timeZone": "America/New_York",
        "utcOffset": "-05:00",  # the test clock's 2026-11-18 is standard time
        "utcOffsetMilliseconds": -18_000_000,
    }
    usage = get(sandbox, "/account-info/v3/api-usage/daily/private-apps")["results"]
    assert [(u["name"], u["usageLimit"], u["currentUsage"], u["fetchStatus"]) for u in usage] == [
        ("private-apps-api-calls-daily", 500, 2, "SUCCESS")
    ]
    now = datetime.fromtimestamp(clock(), UTC)
    assert usage[0]["resetsAt"] == f"{(now + timedelta(days=1)).date()}T05:00:00.000Z"
