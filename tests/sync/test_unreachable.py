"""Nothing listening at the configured URL: a misconfiguration, named at once, not an outage."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from connectors.errors import TransientError, Unreachable
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.retry import RetryPolicy
from connectors.salesforce import SalesforceConnector, SalesforceOptions
from sync.engine import Engine, RunOptions
from sync.outage import Contact, Outage, OutagePolicy
from sync.state.records import OutboxEntry, RunCounts
from tests.sync.fakes import FakeModel
from tests.sync.test_e2e_hubspot import FakeTime
from tests.sync.test_engine import recorder

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


NO_JITTER = RetryPolicy(jitter=lambda: 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hubspot(url: str, fake: FakeTime) -> HubSpotConnector:
    options = HubSpotOptions(base_url=url, access_token=SecretStr("t"), retry_policy=NO_JITTER)
    return HubSpotConnector(options, sleep=fake.sleep, clock=fake.clock)


def salesforce(url: str, fake: FakeTime) -> SalesforceConnector:
    options = SalesforceOptions(
        login_url=url, client_id="c", client_secret=SecretStr("s"), retry_policy=NO_JITTER
    )
    return SalesforceConnector(options, sleep=fake.sleep, clock=fake.clock)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            hubspot,
            "HubSpot objects.list: cannot connect to {url} (connection refused); check base_url",
        ),
        (
            salesforce,
            "Salesforce token endpoint: cannot connect to {url} (connection refused); "
            "check login_url",
        ),
    ],
)
def test_a_run_that_never_reached_the_crm_fails_within_its_retries_naming_the_url(
    store, build, message
):
    url = f"http://127.0.0.1:{free_port()}"
    fake = FakeTime()
    pauses: list[float] = []
    engine = Engine(store, build(url, fake), connection="acme", sleep=recorder(pauses))
    result = engine.run("contact", FakeModel(), RunOptions(full=True))
    assert result.status == "failed"
    assert result.error == "Unreachable: " + message.format(url=url)
    assert pauses == []  # no outage pause
    assert fake.slept == [0.25, 0.5, 1.0, 2.0, 4.0]  # the connector's own retries only


def test_unreachable_after_the_crm_answered_is_an_outage():
    waits: list[float] = []
    contact = Contact()
    outage = Outage(OutagePolicy(5, 600), recorder(waits), "x", contact)
    with pytest.raises(Unreachable):
        outage.wait(Unreachable("cannot connect"))
    outage.reset()  # the CRM answered once
    outage.wait(Unreachable("cannot connect"))
    outage.wait(TransientError("503"))
    assert waits == [5, 10]


def test_writes_left_by_a_crash_meeting_no_crm_fail_the_run_without_a_pause(store):
    url = f"http://127.0.0.1:{free_port()}"
    fake = FakeTime()
    run_id = store.start_run(
        "acme", "contact", mode="full", dry_run=False, started_at=NOW, model_version="v1"
    )
    payload = '{"new": {"score": 5}, "old": {}, "reasons": ["new"]}'
    store.save_page(
        run_id,
        "acme",
        "contact",
        cursor=None,
        outbox=[OutboxEntry("1", payload, "v1", run_id)],
        scores=[],
        counts=RunCounts(),
        now=NOW,
    )
    pauses: list[float] = []
    engine = Engine(store, hubspot(url, fake), connection="acme", sleep=recorder(pauses))
    result = engine.run("contact", FakeModel(), RunOptions(full=True))
    assert (result.status, result.error_type) == ("failed", "Unreachable")
    assert pauses == []
    assert [e.record_id for e in store.pending("acme", "contact")] == ["1"]
