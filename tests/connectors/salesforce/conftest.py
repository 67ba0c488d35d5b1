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


def expected_email_events(
    sandbox: SalesforceSandbox, lead_id: str, *, list_email: bool = True
) -> list[tuple[str, dt.datetime, str]]:
    """The email events of one lead, straight from the org's EmailMessage, EmailStatus and
    ListEmailSentResult rows (unless `list_email` is false); a list-email result's open or click
    gives way to one of the same Task from the other two."""
    window = int(NOW.timestamp()) - 365 * 86_400
    window -= window % 86_400  # LAST_N_DAYS starts at midnight
    store = sandbox.store
    expected: list[tuple[str, int, str]] = []
    for relation in store.table("EmailMessageRelation").values():
        message = store.table("EmailMessage")[relation["EmailMessageId"]]
        if relation["RelationId"] != lead_id or message["MessageDate"] < window:
            continue
        if relation["RelationType"] == "FromAddress" and message["Incoming"]:
            expected.append(("email_reply", message["MessageDate"], "EmailMessage"))
        if relation["RelationType"] == "ToAddress" and not message["Incoming"]:
            opens = {message["FirstOpenedDate"], message["LastOpenedDate"]} - {None}
            expected += [("email_open", at, "EmailMessage") for at in opens]
            if message["FirstLinkClickedDate"]:
                expected.append(("email_click", message["FirstLinkClickedDate"], "EmailMessage"))
    for status in store.table("EmailStatus").values():
        if (
            status["WhoId"] == lead_id
            and status["TimesOpened"]
            and status["LastOpenDate"] >= window
        ):
            opens = {status["FirstOpenDate"], status["LastOpenDate"]}
            expected += [("email_open", at, "EmailStatus") for at in opens]
    covered = {
        (message["ActivityId"], kind)
        for message in store.table("EmailMessage").values()
        if message["ActivityId"]
        for kind, field in (
            ("email_open", "FirstOpenedDate"),
            ("email_click", "FirstLinkClickedDate"),
        )
        if message[field]
    } | {
        (status["TaskId"], "email_open")
        for status in store.table("EmailStatus").values()
        if status["TimesOpened"] and status["LastOpenDate"] >= window
    }
    for result in store.table("ListEmailSentResult").values() if list_email else ():
        if result["RecipientId"] != lead_id or result["CreatedDate"] < window:
            continue
        task = result["ActivityId"]
        if result["FirstOpenedDate"] and (task, "email_open") not in covered:
            expected.append(("email_open", result["FirstOpenedDate"], "ListEmailSentResult"))
        clicks = {result["FirstClickedDate"], result["LastClickedDate"]} - {None}
        if (task, "email_click") not in covered:
            expected += [("email_click", at, "ListEmailSentResult") for at in clicks]
        if result["HasReply"]:
            expected.append(("email_reply", result["CreatedDate"], "ListEmailSentResult"))
    return sorted(
        (kind, dt.datetime.fromtimestamp(at, dt.UTC), source) for kind, at, source in expected
    )
