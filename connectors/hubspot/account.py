"""The HubSpot account's day: its time zone, when its daily API limit resets, and messages.

HubSpot resets the daily limit at midnight in the account's time zone ("The daily limits reset
at midnight based on the time zone setting of the HubSpot account", developers.hubspot.com/
apisbytier), which `GET /account-info/v3/details` reports as `timeZone` (an IANA name such as
`US/Eastern`) with `utcOffsetMilliseconds` (OpenAPI spec `Account/Account Info/.../v3/
accountInfo.json`). The connector asks once per process, and only when a day boundary decides
something: a connection with a `daily_budget` (from its first call, so the count rolls at the
account's midnight), or once HubSpot reports little of the day's allowance left (before it is
spent: a spent allowance refuses that call too). Without it the day is UTC's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DETAILS_PATH", "AccountZone", "zone_of"]

DETAILS_PATH = "/account-info/v3/details"
#: Look the zone up once HubSpot reports at most this share of the day's allowance left.
LOW_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class AccountZone:
    """The account's time zone, by the name HubSpot gives it."""

    name: str
    zone: dt.tzinfo

    def today(self, now: dt.datetime) -> dt.date:
        """The account's date at `now`."""
        return now.astimezone(self.zone).date()

    def next_midnight(self, now: dt.datetime) -> dt.datetime:
        """The account's next midnight after `now`, in UTC: when the daily limit resets."""
        tomorrow = self.today(now) + dt.timedelta(days=1)
        midnight = dt.datetime.combine(tomorrow, dt.time(), tzinfo=self.zone)
        return midnight.astimezone(dt.UTC)

    def resumes(self, now: dt.datetime) -> str:
        """`resumes at 00:00 America/New_York (05:00 UTC)`."""
        return f"resumes at 00:00 {self.name} ({self.next_midnight(now):%H:%M} UTC)"


UTC_ZONE = AccountZone("UTC", dt.UTC)


def zone_of(details: Mapping[str, Any]) -> AccountZone:
    """The zone an account details reply names; its fixed UTC offset when the name is not a
    zone this machine knows, UTC when neither is usable."""
    name = details.get("timeZone")
    if isinstance(name, str) and name:
        try:
            return AccountZone(name, ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = details.get("utcOffsetMilliseconds")
    if isinstance(offset, int) and not isinstance(offset, bool) and abs(offset) < 86_400_000:
        fixed = dt.timezone(dt.timedelta(milliseconds=offset))
        return AccountZone(str(name or fixed.tzname(None)), fixed)
    return UTC_ZONE


def low(limit: int | None, remaining: int | None) -> bool:
    """Whether HubSpot's report leaves at most `LOW_SHARE` of the day's allowance."""
    if limit is None or remaining is None or limit <= 0:
        return False
    return remaining <= limit * LOW_SHARE
