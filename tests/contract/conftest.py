"""One contract, three implementations: the in-memory `FakeCRM` the engine tests use, and the
HubSpot and Salesforce connectors against their sandboxes.

Each `Crm` harness wraps a connector with what a test needs to arrange a case in that CRM (a
user edits or deletes a record, a value the CRM refuses, the CRM's clock); the tests in this
folder then hold every implementation to the same read, write, partial-failure and cursor
behaviour, so the fake the engine is tested against cannot drift from the real connectors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Protocol

import pytest
from pydantic import SecretStr

from connectors.base import Change, Connector
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.outputs import output_fields
from connectors.salesforce import SalesforceConnector, SalesforceOptions
from sandbox.hubspot import HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from tests.connectors.hubspot.conftest import FakeClock
from tests.sync.fakes import FakeCRM

GRADES = ("A", "B", "C", "D")
OUTPUTS = output_fields(GRADES, [f"{g}{t}" for g in GRADES for t in "123"])
SF_NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


class Crm(Protocol):
    """A connector and the means to arrange a case in its CRM."""

    connector: Connector
    kind: str
    fields: list[str]

    def ids(self) -> set[str]:
        """Every live record of `kind`."""
        ...

    def now(self) -> dt.datetime:
        """The CRM's clock."""
        ...

    def advance(self, seconds: int) -> None:
        """Let time pass in the CRM."""
        ...

    def edit(self, count: int) -> list[str]:
        """A user edits `count` records (their modification time moves to now); their ids."""
        ...

    def delete_one(self) -> str:
        """A user deletes a record; its id."""
        ...

    def refused(self, record_id: str) -> Change:
        """A change of the record the CRM will refuse for its values."""
        ...


class FakeHarness:
    kind, fields = "contact", ["points"]

    def __init__(self) -> None:
        self.crm = FakeCRM(120, page_size=50)
        self.connector: Connector = self.crm

    def close(self) -> None:
        self.crm.close()

    def ids(self) -> set[str]:
        return set(self.crm.records)

    def now(self) -> dt.datetime:
        return self.crm.crm_now

    def advance(self, seconds: int) -> None:
        self.crm.crm_now += dt.timedelta(seconds=seconds)

    def edit(self, count: int) -> list[str]:
        edited = sorted(self.crm.records)[-count:]
        for record_id in edited:
            self.crm.touch(record_id, points="64")
        return edited

    def delete_one(self) -> str:
        record_id = sorted(self.crm.records)[5]
        self.crm.delete(record_id)
        return record_id

    def refused(self, record_id: str) -> Change:
        self.crm.reject[record_id] = "Property values were not valid"
        return Change(record_id, {"score": 42, "grade": "B"})


class HubSpotHarness:
    kind, fields = "contact", ["email", "jobtitle"]

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.sandbox = HubSpotSandbox(contacts=250, clock=self.clock).start()
        options = HubSpotOptions(
            base_url=self.sandbox.url,
            access_token=SecretStr(self.sandbox.token),
            tier="enterprise",
            timeout=5.0,
        )
        self.connector: Connector = HubSpotConnector(
            options, sleep=self.clock.sleep, clock=self.clock
        )
        assert self.connector.ensure_schema(self.kind, OUTPUTS, apply=True).ok

    def close(self) -> None:
        self.connector.close()
        self.sandbox.stop()

    def ids(self) -> set[str]:
        table = self.sandbox.store.table("contacts")
        with self.sandbox.store.lock:
            return {str(i) for i in table.ids if not table.rows[i].archived}

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)

    def advance(self, seconds: int) -> None:
        self.clock.advance(seconds)

    def edit(self, count: int) -> list[str]:
        return self.sandbox.mutate(count)

    def delete_one(self) -> str:
        return self.sandbox.archive_contacts(1)[0]

    def refused(self, record_id: str) -> Change:
        return Change(record_id, {"score": 42, "grade": "Z"})  # not an option of the enumeration


class SalesforceHarness:
    kind, fields = "lead", ["Title", "Industry"]

    def __init__(self) -> None:
        self.sandbox = SalesforceSandbox(leads=300, now=SF_NOW).start()
        self.sandbox.install_leadsync_fields()
        options = SalesforceOptions(
            login_url=self.sandbox.url,
            client_id=self.sandbox.client_id,
            client_secret=SecretStr(self.sandbox.client_secret),
            ca_bundle=self.sandbox.ca_file,
            timeout=5.0,
            batch_size=200,  # the smallest batch Salesforce allows: two pages of 300 leads
        )
        self.sleeps: list[float] = []
        self.connector: Connector = SalesforceConnector(options, sleep=self.sleeps.append)

    def close(self) -> None:
        self.connector.close()
        self.sandbox.stop()

    def _leads(self) -> dict[str, dict[str, object]]:
        return self.sandbox.store.table("Lead")

    def ids(self) -> set[str]:
        return {i for i, r in self._leads().items() if not r["IsConverted"] and not r["IsDeleted"]}

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.sandbox.store.now(), dt.UTC)

    def advance(self, seconds: int) -> None:
        self.sandbox.store.advance(seconds)

    def edit(self, count: int) -> list[str]:
        store = self.sandbox.store
        edited = sorted(self.ids())[-count:]
        for record_id in edited:
            errors = store.update(
                "Lead",
                record_id,
                {"Title": "VP Operations"},
                user=self.sandbox.integration_user_id,
                auto_assign=False,
                stamp=store.now(),
            )
            assert errors == []
        return edited

    def delete_one(self) -> str:
        record_id = sorted(self.ids())[5]
        self._leads()[record_id]["IsDeleted"] = True  # in the recycle bin
        return record_id

    def refused(self, record_id: str) -> Change:
        # a validation rule of the org refuses the record as it would stand after the write
        self.sandbox.store.integrity_rule_ids.add(record_id)
        return Change(record_id, {"score": 42, "grade": "B"})


HARNESSES: dict[str, type[FakeHarness] | type[HubSpotHarness] | type[SalesforceHarness]] = {
    "fake": FakeHarness,
    "hubspot": HubSpotHarness,
    "salesforce": SalesforceHarness,
}


@pytest.fixture(params=sorted(HARNESSES))
def crm(request: pytest.FixtureRequest) -> Iterator[Crm]:
    """Each contract test runs once per implementation."""
    harness = HARNESSES[request.param]()
    yield harness
    harness.close()
