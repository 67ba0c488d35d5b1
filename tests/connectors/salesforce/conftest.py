"""Fixtures: in-process Salesforce sandbox orgs and connectors whose sleeps are recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.outputs import output_fields
from connectors.retry import RetryPolicy
from connectors.salesforce import SalesforceConnector, SalesforceOptions
from connectors.salesforce.client import SalesforceApi
from sandbox.salesforce import SalesforceSandbox
from scoring.types import EVENT_TYPES
from tests.connectors.options import secret_strings

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
FIELDS = [
    "Title",
    "Industry",
    "NumberOfEmployees",
    "AnnualRevenue",
    "Country",
    "LeadSource",
    "Rating",
    "HasOptedOutOfEmail",
]
GRADES = ("A", "B", "C", "D")
OUTPUTS = output_fields(GRADES, [f"{g}{t}" for g in GRADES for t in "123"])
ALL_EVENTS = list(EVENT_TYPES)
#: `make_connector` arguments for the connector itself; all others are `SalesforceOptions` fields.
RUNTIME = ("daily_used", "sleep", "clock")
SECRETS = ("client_secret", "session_id")
#: The default retry policy with its jitter fixed, so tests assert exact backoff waits.
NO_JITTER = RetryPolicy(jitter=lambda: 0.0)


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SalesforceSandbox]]:
    started: list[SalesforceSandbox] = []

    def make(**kwargs: Any) -> SalesforceSandbox:
        kwargs.setdefault("leads", 300)
        kwargs.setdefault("now", NOW)
        sandbox = SalesforceSandbox(**kwargs).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _options(sandbox: SalesforceSandbox, sleeps: list[float], kwargs: dict[str, Any]):
    """Options for `sandbox` from `kwargs`; the runtime arguments are left in `kwargs`."""
    if not {"session_id", "username"} & set(kwargs):
        kwargs.setdefault("client_id", sandbox.client_id)
        kwargs.setdefault("client_secret", sandbox.client_secret)
    kwargs.setdefault("ca_bundle", sandbox.ca_file)
    kwargs.setdefault("sleep", sleeps.append)
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("retry_policy", NO_JITTER)
    options = {name: kwargs.pop(name) for name in list(kwargs) if name not in RUNTIME}
    return SalesforceOptions(login_url=sandbox.url, **secret_strings(options, SECRETS))


def _opening(
    sleeps: list[float], build: Callable[..., Any], opened: list[Any]
) -> Callable[..., Any]:
    """`make(sandbox, **kwargs)`: `build(options, **runtime)` on `sandbox`, kept in `opened`."""

    def make(sandbox: SalesforceSandbox, **kwargs: Any) -> Any:
        built = build(_options(sandbox, sleeps, kwargs), **kwargs)
        opened.append(built)
        return built

    return make


@pytest.fixture
def make_connector(sleeps: list[float]) -> Iterator[Callable[..., SalesforceConnector]]:
    opened: list[SalesforceConnector] = []
    yield _opening(sleeps, SalesforceConnector, opened)
    for connector in opened:
        connector.close()


@pytest.fixture
def make_api(sleeps: list[float]) -> Iterator[Callable[..., SalesforceApi]]:
    """A `SalesforceApi` of its own on a sandbox org, configured as `make_connector` would:
    another client of the org, for arranging it the way an admin would."""
    opened: list[SalesforceApi] = []
    yield _opening(sleeps, SalesforceApi, opened)
    for api in opened:
        api.session.close()


def read_all(connector: SalesforceConnector, **kwargs: Any) -> list[Any]:
    """Every record of every page of one `iter_pages` call."""
    kwargs.setdefault("since", None)
    kind = kwargs.pop("kind", "lead")
    fields = kwargs.pop("fields", FIELDS)
    event_types = kwargs.pop("event_types", [])
    return [
        record
        for page in connector.iter_pages(kind, fields, event_types, **kwargs)
        for record in page.records
    ]


def open_leads(sandbox: SalesforceSandbox) -> list[str]:
    """Ids of the sandbox's unconverted leads, ascending."""
    return [i for i, r in sandbox.store.table("Lead").items() if not r["IsConverted"]]


def converted_leads(sandbox: SalesforceSandbox) -> list[str]:
    """Ids of the sandbox's converted leads, ascending."""
    return [i for i, r in sandbox.store.table("Lead").items() if r["IsConverted"]]
