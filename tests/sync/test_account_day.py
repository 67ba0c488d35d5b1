"""The CRM's daily window: calls of earlier processes counted from the HubSpot account's midnight
in its own time zone (as last learned), daylight-saving days, an unknown zone, and the zone a
run learns kept for the next process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.model_loader import parse_model
from config.settings import ConnectionSettings, Settings
from connectors.base import ApiUsage, Page
from connectors.dayzone import AccountZone
from connectors.hubspot import HubSpotConnector
from sync.account_day import ZONE_RECHECK, daily_window
from sync.daemon import Daemon
from sync.engine import Engine, RunOptions
from sync.state.records import RunCounts, RunStatus, StoredZone
from sync.state.store import StateStore
from tests.sync.fakes import POINTS_MODEL, FakeCRM, fake_score

LA = "America/Los_Angeles"


def hubspot(**hub: object) -> ConnectionSettings:
    return ConnectionSettings.model_validate(
        {
            "name": "hs",
            "crm": "hubspot",
            "hubspot": {"access_token": "t", **hub},
            "objects": [{"kind": "contact", "model": "m.yaml"}],
        }
    )


def salesforce() -> ConnectionSettings:
    return ConnectionSettings.model_validate(
        {
            "name": "hs",
            "crm": "salesforce",
            "salesforce": {
                "login_url": "https://login.example",
                "client_id": "c",
                "client_secret": "s",
            },
            "objects": [{"kind": "lead", "model": "m.yaml"}],
        }
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def record_run(store: StateStore, started: str, calls: int) -> None:
    run_id = store.start_run(
        "hs", "contact", mode="incremental", dry_run=False, started_at=at(started),
        model_version="v1",
    )  # fmt: skip
    store.finish_run(
        run_id,
        status=RunStatus.SUCCEEDED,
        counts=RunCounts(api_calls=calls),
        finished_at=at(started) + timedelta(minutes=5),
    )
    store.record_api_calls(
        "hs", command="sync", run_id=run_id, calls=calls, rate_limited=0, at=at(started)
    )


def know_zone(store: StateStore, name: str, seen: str, offset_ms: int | None = None) -> None:
    store.remember_account_zone("hs", StoredZone(name, offset_ms, at(seen)))


@pytest.mark.parametrize(
    ("day", "now", "since", "resets", "calls", "note"),
    [
        # winter, Pacific Standard Time (UTC-8): 07:30 UTC is still the day before
        ("2026-01-15", "2026-01-16 03:00", "2026-01-15 08:00", "2026-01-16 08:00", 40, "08:00"),
        # summer, Pacific Daylight Time (UTC-7): both calls are today's
        ("2026-07-15", "2026-07-16 03:00", "2026-07-15 07:00", "2026-07-16 07:00", 340, "07:00"),
        # clocks spring forward on 8 March: a 23-hour day, begun in PST, ending in PDT
        ("2026-03-08", "2026-03-09 06:30", "2026-03-08 08:00", "2026-03-09 07:00", 40, "07:00"),
        # clocks fall back on 1 November: a 25-hour day, 07:30 UTC next day is still in it
        ("2026-11-01", "2026-11-02 07:30", "2026-11-01 07:00", "2026-11-02 08:00", 340, "08:00"),
    ],
)
def test_a_los_angeles_portals_day_starts_at_its_midnight(
    store, day, now, since, resets, calls, note
) -> None:
    record_run(store, f"{day} 07:30", 300)
    record_run(store, f"{day} 08:30", 40)
    know_zone(store, LA, now)
    window = daily_window(store, hubspot(daily_budget=1000), at(now))
    assert (window.since, window.resets_at, window.calls) == (at(since), at(resets), calls)
    assert (window.label, window.note) == (
        "today",
        f"the account's day resets at 00:00 America/Los_Angeles ({note} UTC)",
    )
    assert window.given_zone == AccountZone(LA, ZoneInfo(LA))


def test_the_first_hour_of_the_day_after_spring_forward(store) -> None:
    record_run(store, "2026-03-09 06:50", 300)  # 23:50 PDT on the 8th
    record_run(store, "2026-03-09 07:10", 5)  # 00:10 PDT on the 9th
    know_zone(store, LA, "2026-03-09 07:30")
    window = daily_window(store, hubspot(), at("2026-03-09 07:30"))
    assert (window.since, window.calls) == (at("2026-03-09 07:00"), 5)


@pytest.mark.parametrize(
    ("now", "since", "resets", "calls"),
    [
        # 23:00 in Tokyo (UTC+9): the day began at 15:00 UTC the day before
        ("2026-01-15 14:00", "2026-01-14 15:00", "2026-01-15 15:00", 347),
        # 00:30 in Tokyo on the 16th: a new day, nothing spent yet
        ("2026-01-15 15:30", "2026-01-15 15:00", "2026-01-16 15:00", 0),
    ],
)
def test_a_tokyo_portals_day_starts_the_utc_evening_before(
    store, now, since, resets, calls
) -> None:
    record_run(store, "2026-01-14 14:30", 5)  # 23:30 on the 14th in Tokyo
    record_run(store, "2026-01-14 16:00", 7)  # 01:00 on the 15th in Tokyo
    record_run(store, "2026-01-15 07:30", 300)
    record_run(store, "2026-01-15 08:30", 40)
    know_zone(store, "Asia/Tokyo", "2026-01-15 12:00")
    window = daily_window(store, hubspot(), at(now))
    assert (window.since, window.resets_at, window.calls) == (at(since), at(resets), calls)
    assert window.note == "the account's day resets at 00:00 Asia/Tokyo (15:00 UTC)"


def test_an_unknown_zone_counts_the_last_24_hours_and_says_so(store) -> None:
    record_run(store, "2026-01-15 02:59", 1000)  # more than 24 hours before
    record_run(store, "2026-01-15 07:30", 300)
    record_run(store, "2026-01-15 08:30", 40)
    window = daily_window(store, hubspot(), at("2026-01-16 03:00"))
    assert (window.since, window.calls, window.zone, window.resets_at) == (
        at("2026-01-15 03:00"), 340, None, None,
    )  # fmt: skip
    assert window.given_zone is None
    assert window.label == "in the last 24 h"
    assert window.note == (
        "the HubSpot account's time zone is not known yet, so the last 24 hours count; "
        "a run with a daily_budget, or `leadsync doctor`, learns it"
    )


def test_salesforce_counts_a_rolling_24_hours_without_a_note(store) -> None:
    record_run(store, "2026-01-15 02:59", 1000)
    record_run(store, "2026-01-15 07:30", 300)
    know_zone(store, LA, "2026-01-16 03:00")  # never read for Salesforce
    window = daily_window(store, salesforce(), at("2026-01-16 03:00"))
    assert (window.calls, window.zone, window.label, window.note) == (
        300, None, "in the last 24 h", "",
    )  # fmt: skip


def test_a_zone_older_than_a_day_still_places_the_day_but_is_asked_again(store) -> None:
    record_run(store, "2026-01-15 07:30", 300)
    record_run(store, "2026-01-15 08:30", 40)
    now = at("2026-01-16 03:00")
    know_zone(store, LA, "2026-01-15 03:01")  # 23 h 59 min ago
    assert daily_window(store, hubspot(), now).given_zone == AccountZone(LA, ZoneInfo(LA))
    know_zone(store, LA, (now - ZONE_RECHECK).isoformat()[:16])
    stale = daily_window(store, hubspot(), now)
    assert (stale.calls, stale.given_zone, stale.fresh) == (40, None, False)


def test_a_zone_name_this_machine_lacks_uses_the_offset_hubspot_gave(store) -> None:
    record_run(store, "2026-01-15 03:30", 300)
    record_run(store, "2026-01-15 04:30", 40)
    know_zone(store, "Mars/Olympus", "2026-01-15 12:00", offset_ms=-14_400_000)
    window = daily_window(store, hubspot(), at("2026-01-15 12:00"))
    assert (window.since, window.calls) == (at("2026-01-15 04:00"), 40)
    assert window.note == "the account's day resets at 00:00 Mars/Olympus (04:00 UTC)"


TOKYO = AccountZone("Asia/Tokyo", ZoneInfo("Asia/Tokyo"))


class ZoneLearningCRM(FakeCRM):
    """A CRM whose connector was `given` a zone, or looks up `learns` during its first read."""

    def __init__(self, *, given: AccountZone | None = None, learns: AccountZone = TOKYO) -> None:
        super().__init__(20)
        self._usage = ApiUsage(account_zone=given)
        self.learns = learns

    def iter_pages(self, *args: Any, **kwargs: Any) -> Iterator[Page]:
        if self._usage.account_zone is None:
            self._usage.account_zone = self.learns
        return super().iter_pages(*args, **kwargs)


def run_once(store: StateStore, crm: FakeCRM) -> None:
    engine = Engine(
        store, crm, connection="hs", scorer=fake_score, clock=lambda: crm.crm_now,
        sleep=lambda s: True,
    )  # fmt: skip
    engine.run("contact", parse_model(POINTS_MODEL), RunOptions(full=True, chunk_size=100))


def test_a_run_keeps_the_zone_its_connector_looked_up(store) -> None:
    assert store.account_zone("hs") is None
    run_once(store, ZoneLearningCRM())
    (run,) = store.runs("hs")
    assert run.finished_at is not None
    assert store.account_zone("hs") == StoredZone("Asia/Tokyo", None, run.finished_at)


def test_a_run_does_not_store_a_zone_it_was_given(store) -> None:
    run_once(store, ZoneLearningCRM(given=TOKYO))
    assert store.account_zone("hs") is None


def test_a_fixed_offset_zone_is_stored_with_its_offset(store) -> None:
    run_once(
        store, ZoneLearningCRM(learns=AccountZone("Mars/Olympus", timezone(-timedelta(hours=4))))
    )
    stored = store.account_zone("hs")
    assert stored is not None
    assert (stored.time_zone, stored.utc_offset_ms) == ("Mars/Olympus", -14_400_000)
    window = daily_window(store, hubspot(), stored.seen_at)
    assert window.given_zone == AccountZone("Mars/Olympus", timezone(-timedelta(hours=4)))


def test_the_daemon_seeds_a_connectors_cap_from_the_accounts_midnight(store) -> None:
    record_run(store, "2026-01-15 07:30", 300)
    record_run(store, "2026-01-15 08:30", 40)
    know_zone(store, LA, "2026-01-15 20:00")
    conn = {
        "name": "hs",
        "crm": "hubspot",
        "hubspot": {"access_token": "t", "daily_budget": 1000},
        "objects": [{"kind": "contact", "model": "m.yaml"}],
    }
    settings = Settings.model_validate({"connections": [conn], "daemon": {"port": 0}})
    daemon = Daemon(settings, {}, store, clock=lambda: at("2026-01-16 03:00"))
    connector = daemon.connector_factory(settings.connections[0])
    try:
        assert isinstance(connector, HubSpotConnector)
        # 340 since 00:00 UTC-day would be 0; since the Pacific midnight (08:00 UTC) it is 40
        assert connector.usage.daily_used == 40
        # the zone an earlier process learned is taken, not asked again
        assert connector.account_zone() == AccountZone(LA, ZoneInfo(LA))
        assert connector.usage.calls == 0
    finally:
        connector.close()
        daemon.shutdown()
