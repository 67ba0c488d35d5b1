"""Fixtures: in-process Salesforce sandbox orgs and connectors whose sleeps are recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.outputs import output_fields
from connectors.salesforce import SalesforceConnector, SalesforceOptions
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


@pytest.fixture
def make_connector(sleeps: list[float]) -> Iterator[Callable[..., SalesforceConnector]]:
    opened: list[SalesforceConnector] = []

    def make(sandbox: SalesforceSandbox, **kwargs: Any) -> SalesforceConnector:
        if not {"session_id", "username"} & set(kwargs):
            kwargs.setdefault("client_id", sandbox.client_id)
            kwargs.setdefault("client_secret", sandbox.client_secret)
        kwargs.setdefault("ca_bundle", sandbox.ca_file)
        kwargs.setdefault("sleep", sleeps.append)
        kwargs.setdefault("timeout", 5.0)
        runtime = {name: kwargs.pop(name) for name in RUNTIME if name in kwargs}
        options = SalesforceOptions(login_url=sandbox.url, **secret_strings(kwargs, SECRETS))
        connector = SalesforceConnector(options, **runtime)
        opened.append(connector)
        return connector

    yield make
    for connector in opened:
        connector.close()


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
