"""The Account Info API: the account's time zone and its private apps' daily usage.

Shapes from the OpenAPI spec `Account/Account Info/.../v3/accountInfo.json`:
`GET /account-info/v3/details` answers a `PortalInformationResponse` (`portalId`, `timeZone`,
`utcOffset`, `utcOffsetMilliseconds`, `accountType`, currencies, `dataHostingLocation`,
`uiDomain`); `GET /account-info/v3/api-usage/daily/private-apps` a `results` list of `ApiUsage`
(`name`, `usageLimit`, `currentUsage`, `collectedAt`, `fetchStatus`, `resetsAt`). HubSpot's daily
limit resets at midnight in the account's time zone (developers.hubspot.com/apisbytier), which
is when `resetsAt` falls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sandbox.httpserver import Request, Response
from sandbox.hubspot.auth import Auth
from sandbox.hubspot.limits import RateLimiter

__all__ = ["PORTAL_ID", "AccountInfoApi", "next_midnight"]

PORTAL_ID = 12345678


def next_midnight(now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The first midnight of `zone` after `now`, in UTC."""
    local = now.astimezone(zone)
    tomorrow = local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AccountInfoApi:
    """Account details and daily usage of one sandbox account."""

    def __init__(
        self, *, time_zone: str, limits: RateLimiter, auth: Auth, clock: Callable[[], float]
    ) -> None:
        self.time_zone = time_zone
        self.zone = ZoneInfo(time_zone)
        self._limits = limits
        self._auth = auth
        self._clock = clock

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._clock(), dt.UTC)

    def details(self, _request: Request) -> Response:
        """`GET /account-info/v3/details`."""
        offset = self._now().astimezone(self.zone).utcoffset() or dt.timedelta()
        ms = int(offset.total_seconds() * 1000)
        sign = "-" if ms < 0 else "+"
        minutes = abs(ms) // 60_000
        return Response(
            200,
            {
                "portalId": PORTAL_ID,
                "accountType": "STANDARD",
                "timeZone": self.time_zone,
                "utcOffset": f"{sign}{minutes // 60:02d}:{minutes % 60:02d}",
                "utcOffsetMilliseconds": ms,
                "companyCurrency": "USD",
                "additionalCurrencies": [],
                "dataHostingLocation": "na1",
                "uiDomain": "app.hubspot.com",
            },
        )

    def private_app_usage(self, request: Request) -> Response:
        """`GET /account-info/v3/api-usage/daily/private-apps`: the calling app's day."""
        token = self._auth.authenticate(request)
        used = 0 if isinstance(token, Response) else self._limits.used_today(token.app)
        now = self._now()
        usage = {
            "name": "private-apps-api-calls-daily",
            "usageLimit": self._limits.daily,
            "currentUsage": used,
            "collectedAt": _iso(now),
            "fetchStatus": "SUCCESS",
            "resetsAt": _iso(next_midnight(now, self.zone)),
        }
        return Response(200, {"results": [usage]})
