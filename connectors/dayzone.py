"""A CRM account's day: the time zone its daily API allowance resets in, and messages.

CRM-agnostic: HubSpot resets its daily limit at midnight in the account's time zone
(`connectors.hubspot.account` reads the zone from the Account Info API), and the sync layer
counts the calls of earlier processes from the same midnight (`sync.account_day`). A zone is
kept as the CRM names it plus, for a name this machine's zone database lacks, the fixed UTC
offset the CRM reported with it, so it can be stored and rebuilt (`zone_named`).

Midnights are computed in the zone itself, so a daylight-saving change day is 23 or 25 hours
long, and a zone whose clocks skip midnight starts its day when the clocks jump (a wall time in
a gap is read with the offset before the change, which is that instant).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["UTC_ZONE", "AccountZone", "zone_named"]

#: Longer than any real offset (UTC-12 to UTC+14).
_MAX_OFFSET_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class AccountZone:
    """The account's time zone, by the name the CRM gives it."""

    name: str
    zone: dt.tzinfo

    @property
    def fixed_offset_ms(self) -> int | None:
        """The zone's fixed UTC offset in milliseconds when it is one (a name this machine's
        zone database lacks), None for a named zone: what `zone_named` needs to rebuild it."""
        if not isinstance(self.zone, dt.timezone):
            return None
        offset = self.zone.utcoffset(None)
        return offset // dt.timedelta(milliseconds=1)

    def today(self, now: dt.datetime) -> dt.date:
        """The account's date at `now`."""
        return now.astimezone(self.zone).date()

    def midnight(self, now: dt.datetime) -> dt.datetime:
        """The start of the account's day at `now`, in UTC."""
        return self._start_of(self.today(now))

    def next_midnight(self, now: dt.datetime) -> dt.datetime:
        """The account's next midnight after `now`, in UTC: when the daily limit resets."""
        return self._start_of(self.today(now) + dt.timedelta(days=1))

    def resumes(self, now: dt.datetime) -> str:
        """`resumes at 00:00 America/New_York (05:00 UTC)`."""
        return f"resumes at {self.at(self.next_midnight(now))}"

    def at(self, moment: dt.datetime) -> str:
        """A moment on the account's clock and on UTC's: `00:00 America/New_York (05:00 UTC)`."""
        local = moment.astimezone(self.zone)
        return f"{local:%H:%M} {self.name} ({moment.astimezone(dt.UTC):%H:%M} UTC)"

    def _start_of(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)


UTC_ZONE = AccountZone("UTC", dt.UTC)


def zone_named(name: object, utc_offset_ms: object = None) -> AccountZone | None:
    """The zone `name` names; its fixed `utc_offset_ms` when this machine does not know the
    name (or there is none); None when neither is usable."""
    if isinstance(name, str) and name:
        try:
            return AccountZone(name, ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if (
        isinstance(utc_offset_ms, int)
        and not isinstance(utc_offset_ms, bool)
        and abs(utc_offset_ms) < _MAX_OFFSET_MS
    ):
        fixed = dt.timezone(dt.timedelta(milliseconds=utc_offset_ms))
        return AccountZone(str(name or fixed.tzname(None)), fixed)
    return None
