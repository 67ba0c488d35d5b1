"""The window a connection's CRM counts its daily API allowance over, and the calls earlier
processes of the connection made in it.

HubSpot's daily limit resets at midnight in the account's time zone, which only the Account
Info API says. The connector looks it up when a day boundary decides something (a
`daily_budget`, or little of HubSpot's allowance left) and reports it in `ApiUsage.account_zone`;
`remember_zone` keeps it per connection in the state store (`account_zones`). Later processes
count the day's calls from that midnight (`daily_window`), and a zone seen within
`ZONE_RECHECK` is handed to their connector, which then does not ask again: one Account Info
call per connection a day at most, however many processes run. An older zone still places the
day; only the connector asks again, so a changed account setting is noticed within a day by
the processes that start after it (`leadsync sync`, the tools). The daemon builds its connector
once, which asks at most once, so a running daemon notices a changed zone when it restarts.

While no zone is known (a connection never run with a `daily_budget`, or a store from before
zones were kept) the last 24 hours are counted: whatever the account's zone, its day began
within them (but for the extra hour of a daylight-saving change day), so a `daily_budget` is
never overspent for want of the zone. Salesforce counts its allowance over a rolling 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from config.settings import ConnectionSettings
from connectors.base import ApiUsage
from connectors.dayzone import AccountZone, zone_named
from sync.state.records import StoredZone
from sync.state.store import StateStore

__all__ = ["ZONE_RECHECK", "DailyWindow", "daily_window", "remember_zone"]

#: A stored zone older than this is still used to place the day, but the connector asks again.
ZONE_RECHECK = timedelta(days=1)
ROLLING = timedelta(days=1)


@dataclass(frozen=True)
class DailyWindow:
    """Where a connection's daily allowance stands at some moment.

    `since`: the start of the window (UTC); `calls`: the API calls runs of the connection
    started in it recorded; `zone`: the CRM account's time zone, when known (HubSpot);
    `resets_at`: that zone's next midnight (None for a rolling window); `fresh`: the zone was
    seen within `ZONE_RECHECK`.
    """

    since: datetime
    calls: int
    zone: AccountZone | None = None
    resets_at: datetime | None = None
    fresh: bool = False
    hubspot: bool = False

    @property
    def given_zone(self) -> AccountZone | None:
        """The zone a new connector takes as known (it asks HubSpot only without one)."""
        return self.zone if self.fresh else None

    @property
    def label(self) -> str:
        """`today` for an account's day, `in the last 24 h` for a rolling window."""
        return "today" if self.zone is not None else "in the last 24 h"

    @property
    def note(self) -> str:
        """When the window resets, in the account's zone and in UTC, or why it is 24 hours
        (empty for Salesforce, whose window always is)."""
        if self.zone is not None and self.resets_at is not None:
            return f"the account's day resets at {self.zone.at(self.resets_at)}"
        if self.hubspot:
            return (
                "the HubSpot account's time zone is not known yet, so the last 24 hours count; "
                "a run with a daily_budget, or `leadsync doctor`, learns it"
            )
        return ""


def daily_window(
    store: StateStore,
    conn: ConnectionSettings,
    now: datetime,
    *,
    looked_up: AccountZone | None = None,
) -> DailyWindow:
    """The CRM's current daily window for `conn` at `now` and the calls recorded in it: since
    the HubSpot account's last midnight, in the zone just `looked_up` or else as last learned,
    otherwise over the last 24 hours."""
    hubspot = conn.crm == "hubspot"
    zone, fresh = looked_up, True
    if zone is None and hubspot:
        stored = store.account_zone(conn.name)
        if stored is not None:
            zone = zone_named(stored.time_zone, stored.utc_offset_ms)
            fresh = now - stored.seen_at < ZONE_RECHECK
    if zone is None:
        since = now - ROLLING
        return DailyWindow(since, store.api_calls_since(conn.name, since), hubspot=hubspot)
    since = zone.midnight(now)
    return DailyWindow(
        since,
        store.api_calls_since(conn.name, since),
        zone=zone,
        resets_at=zone.next_midnight(now),
        fresh=fresh,
        hubspot=True,
    )


def remember_zone(store: StateStore, connection: str, zone: AccountZone, *, now: datetime) -> None:
    """Keep `zone`, just looked up from the CRM, as `connection`'s account time zone."""
    store.remember_account_zone(
        connection, StoredZone(zone.name, zone.fixed_offset_ms, seen_at=now)
    )


def learned_zone(before: AccountZone | None, usage: ApiUsage) -> AccountZone | None:
    """The zone a connector looked up since its usage reported `before`, if it did."""
    if usage.account_zone is None or before is not None:
        return None
    return usage.account_zone
