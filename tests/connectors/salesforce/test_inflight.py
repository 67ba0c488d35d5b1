"""Composite calls noted in the `WriteJournal` and read back after a crash
(`connectors.salesforce.inflight`), and the value comparison behind it (`fields.held`)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from connectors.base import WriteAction
from connectors.errors import BudgetExhausted
from connectors.salesforce.fields import held
from tests.connectors.salesforce.conftest import open_leads
from tests.connectors.salesforce.test_contract_write import _change

APPLIED, GONE = WriteAction.APPLIED, WriteAction.GONE


class MemoryJournal:
    """A `WriteJournal` kept in memory (the engine keeps it in the state store)."""

    def __init__(self) -> None:
        self.notes: dict[str, dict[str, str]] = {}

    def started(self, job: str, rows: Mapping[str, str]) -> None:
        self.notes[job] = dict(rows)

    def jobs(self) -> list[tuple[str, dict[str, str]]]:
        return list(self.notes.items())


class Crash(BaseException):
    """Stands for kill -9."""


def die(seconds: float) -> None:
    raise Crash


@pytest.mark.parametrize(
    ("canonical", "sent", "stored", "same"),
    [
        ("score", 85, 85.0, True),
        ("score", 85, 84.0, False),
        ("score", None, None, True),
        ("score", 0, None, False),
        ("qualified", True, True, True),
        ("qualified", None, False, True),  # a cleared checkbox reads false
        ("qualified", False, True, False),
        ("scored_at", "2026-11-20T12:30:00Z", "2026-11-20T12:30:00.000+0000", True),
        ("scored_at", "2026-11-20T12:30:00Z", "2026-11-20T12:30:01.000+0000", False),
        ("scored_at", None, None, True),
        ("reasons", "a\nb", "a\r\nb", True),
        ("reasons", "", None, True),  # Salesforce stores an empty text as null
        ("reasons", "a", "b", False),
        ("grade", "A", "A", True),
        ("grade", "A", None, False),
    ],
)
def test_a_value_read_back_is_held_when_salesforce_stores_what_was_sent(
    canonical, sent, stored, same
):
    assert held(canonical, sent, stored) is same


def cut_short(sandbox, make_connector, *, after: int) -> tuple[list[str], MemoryJournal]:
    """250 changes written in one composite call of two collections (200 + 50), cut after
    `after` of them, the writer dying at its retry wait: the ids and the journal it left."""
    sandbox.install_leadsync_fields()
    ids = open_leads(sandbox)[:250]
    journal = MemoryJournal()
    sandbox.faults.cut_composite_after = after
    with pytest.raises(Crash):
        make_connector(sandbox, sleep=die).write("lead", [_change(i) for i in ids], journal=journal)
    return ids, journal


def test_a_call_cut_short_is_read_back_and_only_what_it_did_not_write_is_sent(
    make_sandbox, make_connector
):
    sandbox = make_sandbox()
    ids, journal = cut_short(sandbox, make_connector, after=1)
    changes = [_change(i) for i in ids]
    ((note, rows),) = journal.jobs()
    assert note.startswith("composite:") and sorted(rows) == sorted(ids)
    assert sum(sandbox.store.updates.values()) == 200
    edited, deleted = ids[0], ids[1]  # after the crash: someone edits one, deletes another
    sandbox.store.table("Lead")[edited]["Leadsync_Score__c"] = 12.0
    sandbox.store.table("Lead")[deleted]["IsDeleted"] = True

    connector = make_connector(sandbox)
    results = connector.write("lead", changes, journal=journal)
    assert connector.usage.by_endpoint["composite/sobjects/retrieve"] == 1
    assert [r.action for r in results] == [APPLIED, GONE] + [APPLIED] * 248
    # sent again: the edited record, the deleted one (refused) and the 50 never applied
    assert sandbox.store.updates[edited] == 2
    assert sandbox.store.updates[deleted] == 1
    assert sum(sandbox.store.updates.values()) == 200 + 1 + 50
    assert sandbox.store.table("Lead")[edited]["Leadsync_Score__c"] == 77.0


def test_no_read_back_for_its_own_calls_other_values_or_a_single_collection(
    make_sandbox, make_connector
):
    sandbox = make_sandbox()
    sandbox.install_leadsync_fields()
    ids = open_leads(sandbox)[:250]
    journal = MemoryJournal()
    connector = make_connector(sandbox)
    connector.write("lead", [_change(i) for i in ids], journal=journal)
    connector.write("lead", [_change(i) for i in ids], journal=journal)  # its own note
    connector.write("lead", [_change(i) for i in ids[:200]], journal=journal)  # one collection
    assert len(journal.notes) == 2  # a call of one collection is not noted
    other = make_connector(sandbox)
    other.write("lead", [_change(i, score=60) for i in ids], journal=journal)  # other values
    assert "composite/sobjects/retrieve" not in connector.usage.by_endpoint
    assert "composite/sobjects/retrieve" not in other.usage.by_endpoint
    assert sandbox.counters["collections_retrieve"] == 0
    assert sum(sandbox.store.updates.values()) == 250 * 3 + 200


def test_a_call_cut_before_its_first_collection_costs_one_read_back(make_sandbox, make_connector):
    sandbox = make_sandbox()
    ids, journal = cut_short(sandbox, make_connector, after=0)
    assert sum(sandbox.store.updates.values()) == 0
    connector = make_connector(sandbox)
    results = connector.write("lead", [_change(i) for i in ids], journal=journal)
    assert [r.action for r in results] == [APPLIED] * 250
    assert connector.usage.by_endpoint["composite/sobjects/retrieve"] == 1
    assert sum(sandbox.store.updates.values()) == 250


def test_a_read_back_is_counted_in_the_share(make_sandbox, make_connector):
    sandbox = make_sandbox(daily_api_limit=150)  # 20% share: 30 calls in 24 hours
    ids, journal = cut_short(sandbox, make_connector, after=1)
    connector = make_connector(sandbox, daily_used=29)  # the describe takes the last call
    with pytest.raises(
        BudgetExhausted,
        match="reading back 250 records of a composite call cut short needs 1 API calls",
    ):
        connector.write("lead", [_change(i) for i in ids], journal=journal)
    assert sandbox.counters["collections_retrieve"] == 0
