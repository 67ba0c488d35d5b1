"""The HubSpot account's day: its time zone, from the Account Info API.

HubSpot resets the daily limit at midnight in the account's time zone ("The daily limits reset
at midnight based on the time zone setting of the HubSpot account", developers.hubspot.com/
apisbytier), which `GET /account-info/v3/details` reports as `timeZone` (an IANA name such as
`US/Eastern`) with `utcOffsetMilliseconds` (OpenAPI spec `Account/Account Info/.../v3/
accountInfo.json`). The connector asks once per process, and only when a day boundary decides
something: a connection with a `daily_budget` (from its first call, so the count rolls at the
account's midnight), or once HubSpot reports little of the day's allowance left (before it is
spent: a spent allowance refuses that call too), unless it was given the zone an earlier
process learned (`sync.account_day` keeps it per connection). Without it the day is UTC's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.dayzone import UTC_ZONE, AccountZone, zone_named

__all__ = ["DETAILS_PATH", "AccountZone", "zone_of"]

DETAILS_PATH = "/account-info/v3/details"
#: Look the zone up once HubSpot reports at most this share of the day's allowance left.
LOW_SHARE = 0.05


def zone_of(details: Mapping[str, Any]) -> AccountZone:
    """The zone an account details reply names; its fixed UTC offset when the name is not a
    zone this machine knows, UTC when neither is usable."""
    zone = zone_named(details.get("timeZone"), details.get("utcOffsetMilliseconds"))
    return UTC_ZONE if zone is None else zone


def low(limit: int | None, remaining: int | None) -> bool:
    """Whether HubSpot's report leaves at most `LOW_SHARE` of the day's allowance."""
    if limit is None or remaining is None or limit <= 0:
        return False
    return remaining <= limit * LOW_SHARE
