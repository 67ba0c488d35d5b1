"""Fixtures: in-process HubSpot sandboxes and connectors sharing one fake clock.

The sandbox's rate windows, token expiry and write timestamps and the connector's budgets and
retry sleeps all read the same `FakeClock`; sleeping advances it, so tests that wait for a
rate window or back off never really sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.hubspot.api import HubSpotApi
from sandbox.hubspot import HubSpotSandbox
from tests.connectors.options import secret_strings

START = 1_795_000_000.0  # 2026-11-18
#: `make_connector` arguments for the connector itself; all others are `HubSpotOptions` fields.
RUNTIME = ("daily_used", "zone", "sleep", "clock")
SECRETS = ("access_token", "client_secret", "refresh_token")


class FakeClock:
    """Seconds since the epoch that move only when someone sleeps (thread-safe)."""

    def __init__(self, start: float = START) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class TickingClock(FakeClock):
    """A fake clock that also moves `tick` seconds whenever it is read, so a call takes time as
    the connector measures it and full reads are split into id-range chains."""

    def __init__(self, tick: float) -> None:
        super().__init__()
        self.tick = tick

    def __call__(self) -> float:
        with self._lock:
            self._now += self.tick
            return self._now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sandbox(clock: FakeClock) -> Iterator[Callable[..., HubSpotSandbox]]:
    started: list[HubSpotSandbox] = []

    def make(**kwargs: Any) -> HubSpotSandbox:
        kwargs.setdefault("clock", clock)
        sandbox = HubSpotSandbox(**kwargs).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


def _options(sandbox: Any, clock: FakeClock, kwargs: dict[str, Any]) -> HubSpotOptions:
    """Options for `sandbox` from `kwargs`; the runtime arguments are left in `kwargs`."""
    if "access_token" not in kwargs and "refresh_token" not in kwargs:
        kwargs["access_token"] = sandbox.token
    kwargs.setdefault("tier", "enterprise")
    kwargs.setdefault("clock", clock)
    kwargs.setdefault("sleep", clock.sleep)
    kwargs.setdefault("timeout", 5.0)
    if sandbox.ca_file:
        kwargs.setdefault("ca_bundle", sandbox.ca_file)
    options = {name: kwargs.pop(name) for name in list(kwargs) if name not in RUNTIME}
    return HubSpotOptions(base_url=sandbox.url, **secret_strings(options, SECRETS))


def _opening(clock: FakeClock, build: Callable[..., Any], opened: list[Any]) -> Callable[..., Any]:
    """`make(sandbox, **kwargs)`: `build(options, **runtime)` on `sandbox`, kept in `opened`."""

    def make(sandbox: Any, **kwargs: Any) -> Any:
        built = build(_options(sandbox, clock, kwargs), **kwargs)
        opened.append(built)
        return built

    return make


@pytest.fixture
def make_connector(clock: FakeClock) -> Iterator[Callable[..., HubSpotConnector]]:
    opened: list[HubSpotConnector] = []
    yield _opening(clock, HubSpotConnector, opened)
    for connector in opened:
        connector.close()


@pytest.fixture
def make_api(clock: FakeClock) -> Iterator[Callable[..., HubSpotApi]]:
    """A `HubSpotApi` of its own on a sandbox, as `make_connector` would configure it: for
    tests of the reading and schema functions, and for arranging the CRM as another client
    of the account would."""
    opened: list[HubSpotApi] = []
    yield _opening(clock, HubSpotApi, opened)
    for api in opened:
        api.close()


def read_all(connector: HubSpotConnector, **kwargs: Any) -> list[Any]:
    """Every record of every page of one `iter_pages` call."""
    kwargs.setdefault("since", None)
    kind = kwargs.pop("kind", "contact")
    fields = kwargs.pop("fields", ["email", "jobtitle"])
    event_types = kwargs.pop("event_types", [])
    return [
        record
        for page in connector.iter_pages(kind, fields, event_types, **kwargs)
        for record in page.records
    ]


def live_ids(sandbox: HubSpotSandbox) -> set[str]:
    """Ids of the sandbox's live (not archived) contacts."""
    table = sandbox.store.table("contacts")
    with sandbox.store.lock:
        return {str(i) for i in table.ids if not table.rows[i].archived}


def stamp_all(sandbox: HubSpotSandbox, stamps: list[int]) -> None:
    """Put every contact on one of a handful of modification timestamps."""
    table = sandbox.store.table("contacts")
    with sandbox.store.lock:
        for n, row in enumerate(list(table.rows.values())):
            table.touch(row, stamps[n % len(stamps)])
        table.version += 1
