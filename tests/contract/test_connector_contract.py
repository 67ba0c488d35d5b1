"""The connector contract, held against every implementation (see `conftest.py`): the fake CRM
the engine tests use, HubSpot and Salesforce against their sandboxes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from connectors.base import Change, Page, WriteAction
from scoring.types import Record
from tests.contract.conftest import Crm

SCORED_AT = dt.datetime(2026, 11, 20, 10, 15, 30, tzinfo=dt.UTC)


def pages(crm: Crm, *, since: dt.datetime | None = None, resume: str | None = None) -> list[Page]:
    return list(crm.connector.iter_pages(crm.kind, crm.fields, [], since=since, resume=resume))


def ids(pages_or_records: Iterable[Page] | Iterable[Record]) -> list[str]:
    out: list[str] = []
    for item in pages_or_records:
        out += [r.id for r in item.records] if isinstance(item, Page) else [item.id]
    return out


def scored(score: int, grade: str) -> dict[str, object]:
    return {"score": score, "grade": grade, "scored_at": SCORED_AT}


def test_a_full_read_returns_every_record_once(crm: Crm) -> None:
    read = pages(crm)
    records = [r for page in read for r in page.records]
    assert sorted(ids(records)) == sorted(crm.ids())
    assert {r.kind for r in records} == {crm.kind}
    assert all(
        r.updated_at is not None and r.updated_at.utcoffset() == dt.timedelta(0) for r in records
    )
    assert len(read) >= 2  # the cases below need more than one page


def test_a_full_read_resumes_after_a_page_without_loss_or_repeat(crm: Crm) -> None:
    first, *rest = pages(crm)
    assert first.cursor is not None
    resumed = pages(crm, resume=first.cursor)
    assert ids([first, *resumed]) == ids([first, *rest])


def test_an_incremental_read_returns_exactly_the_records_changed_since(crm: Crm) -> None:
    crm.advance(600)
    since = crm.now()
    crm.advance(60)
    edited = crm.edit(3)
    assert sorted(ids(pages(crm, since=since))) == sorted(edited)
    crm.advance(60)
    assert ids(pages(crm, since=crm.now())) == []


def test_written_values_are_read_back_as_outputs(crm: Crm) -> None:
    targets = sorted(crm.ids())[:3]
    changes = [Change(rid, scored(40 + n, "B")) for n, rid in enumerate(targets)]
    results = crm.connector.write(crm.kind, changes)
    assert [(r.record_id, r.action) for r in results] == [
        (rid, WriteAction.APPLIED) for rid in targets
    ]
    outputs = {r.id: r.outputs for page in pages(crm) for r in page.records if r.id in targets}
    # CRMs answer in their own types ("42", 42.0): the engine's planning coerces them
    assert {rid: (float(str(o["score"])), o["grade"]) for rid, o in outputs.items()} == {
        rid: (40.0 + n, "B") for n, rid in enumerate(targets)
    }


def test_a_failure_is_per_record_and_says_what_to_do(crm: Crm) -> None:
    deleted = crm.delete_one()
    good, refused, other = sorted(crm.ids())[:3]
    changes = [
        Change(good, scored(71, "A")),
        Change(deleted, scored(71, "A")),
        crm.refused(refused),
        Change(other, scored(12, "D")),
    ]
    results = crm.connector.write(crm.kind, changes)
    assert [(r.record_id, r.action) for r in results] == [
        (good, WriteAction.APPLIED),
        (deleted, WriteAction.GONE),
        (refused, WriteAction.DEAD_LETTER),
        (other, WriteAction.APPLIED),
    ]
    assert all(r.error_code and r.message for r in results if not r.ok)
    grades = {r.id: r.outputs.get("grade") for page in pages(crm) for r in page.records}
    assert (grades[good], grades[other]) == ("A", "D")
