"""Contract: writing scores back through batch/update, record by record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import Change, WriteAction, WriteResult
from connectors.errors import PermanentError
from connectors.hubspot.writing import KnownValues
from connectors.outputs import output_fields
from sandbox.httpserver import Request, Response, SandboxServer
from sandbox.hubspot import HubSpotSandbox

from .conftest import read_all

GRADES = ("A", "B", "C", "D")
LABELS = ("A1", "A2", "B1", "B2", "C1", "D3")
SCORED = datetime(2026, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)


def scored(fit: int = 80, grade: str = "A", **extra: object) -> dict[str, object]:
    return {"fit": fit, "grade": grade, "qualified": True, "scored_at": SCORED, **extra}


@pytest.fixture
def setup(make_sandbox, make_connector):
    sandbox = make_sandbox(contacts=300)
    connector = make_connector(sandbox)
    assert connector.ensure_schema("contact", output_fields(GRADES, LABELS), apply=True).ok
    return sandbox, connector


def spy_updates(sandbox: HubSpotSandbox) -> list[Any]:
    """The bodies of the batch updates the sandbox receives from now on."""
    return sandbox.journal("POST /crm/v3/objects/{object}/batch/update")


def inputs(sent: list[Any]) -> list[list[dict[str, Any]]]:
    return [body["inputs"] for body in sent]


APPLIED = WriteAction.APPLIED


def stored(sandbox, record_id: str, name: str) -> object:
    table = sandbox.store.table("contacts")
    return table.raw(table.rows[int(record_id)], name)


def ok(sandbox, record_id: str) -> WriteResult:
    """An `ok` result carrying the modification time HubSpot now holds for the record, as the
    batch update reply's `updatedAt` reports it."""
    modified = stored(sandbox, record_id, "lastmodifieddate")
    assert isinstance(modified, int)
    return WriteResult(record_id, APPLIED, modified_at=datetime.fromtimestamp(modified / 1000, UTC))


def test_writes_go_100_a_call_and_read_back_as_written(setup) -> None:
    sandbox, connector = setup
    ids = [r.id for r in read_all(connector)][:250]
    sent = spy_updates(sandbox)
    results = connector.write(
        "contact", [Change(i, scored(fit=n % 100)) for n, i in enumerate(ids)]
    )
    assert results == [ok(sandbox, i) for i in ids]
    assert sorted(len(batch) for batch in inputs(sent)) == [50, 100, 100]
    first = next(batch for batch in inputs(sent) if batch[0]["id"] == ids[0])
    assert first[1] == {
        "id": ids[1],
        "properties": {
            "leadsync_fit": "1",
            "leadsync_grade": "A",
            "leadsync_qualified": "true",
            "leadsync_scored_at": "2026-11-20T10:15:30.123Z",
        },
    }
    again = {r.id: r.outputs for r in read_all(connector)}
    assert again[ids[7]] == {
        "fit": "7",
        "grade": "A",
        "qualified": "true",
        "scored_at": "2026-11-20T10:15:30.123Z",
    }


def test_values_hubspot_already_holds_are_never_sent(setup) -> None:
    sandbox, connector = setup
    ids = [r.id for r in read_all(connector)][:3]
    connector.write("contact", [Change(i, scored()) for i in ids])
    read_all(connector)  # what HubSpot holds now is known from this read
    sent = spy_updates(sandbox)
    results = connector.write(
        "contact",
        [Change(ids[0], scored()), Change(ids[1], scored(fit=81)), Change(ids[2], scored())],
    )
    assert [r.action for r in results] == [APPLIED, APPLIED, APPLIED]
    assert [r.message for r in results] == ["unchanged", None, "unchanged"]
    assert inputs(sent) == [[{"id": ids[1], "properties": {"leadsync_fit": "81"}}]]


def test_a_207_is_split_record_by_record(setup) -> None:
    sandbox, connector = setup
    ids = [r.id for r in read_all(connector)][:3]
    results = connector.write(
        "contact",
        [
            Change(ids[0], scored()),
            Change("999999999", scored()),
            Change(ids[1], scored(grade="Z")),
            Change(ids[2], scored(fit=12)),
        ],
    )
    assert [(r.record_id, r.action, r.error_code) for r in results] == [
        (ids[0], APPLIED, None),
        ("999999999", WriteAction.GONE, "OBJECT_NOT_FOUND"),
        (ids[1], WriteAction.DEAD_LETTER, "VALIDATION_ERROR"),
        (ids[2], APPLIED, None),
    ]
    assert "leadsync_grade" in (results[2].message or "")
    assert stored(sandbox, ids[2], "leadsync_fit") == "12"
    assert stored(sandbox, ids[1], "leadsync_fit") is None
    assert connector.usage.by_endpoint["objects.batch_update"] == 1


def test_records_failing_transiently_in_a_207_are_sent_once_more(setup) -> None:
    sandbox, connector = setup
    ids = [r.id for r in read_all(connector)][:100]
    sandbox.faults.set(partial_207=0.3)
    sent = spy_updates(sandbox)
    results = connector.write("contact", [Change(i, scored()) for i in ids])
    assert len(sent) == 2
    retried = {item["id"] for item in inputs(sent)[1]}
    assert 10 < len(retried) < 60
    failed = [r for r in results if not r.ok]
    assert {(r.action, r.error_code) for r in failed} <= {(WriteAction.RETRY, "INTERNAL_ERROR")}
    assert {r.record_id for r in failed} <= retried
    assert len(failed) < len(retried)
    # the second call is named in the result of every record it sent again, and only in those
    (call,) = {c for r in results for c in r.resent}
    assert {r.record_id for r in results if r.resent == (call,)} == retried
    assert (call.endpoint, call.reason) == ("objects.batch_update", "failed with INTERNAL_ERROR")
    for r in results:
        assert (stored(sandbox, r.record_id, "leadsync_grade") == "A") is r.ok


def test_unowned_properties_and_bad_values_fail_without_a_call(setup) -> None:
    sandbox, connector = setup
    ids = [r.id for r in read_all(connector)][:3]
    sent = spy_updates(sandbox)
    results = connector.write(
        "contact",
        [
            Change(ids[0], {"email": "x@y.example"}),
            Change(ids[1], {"fit": "many"}),
            Change(ids[2], {"scored_at": datetime(2026, 1, 1)}),
        ],
    )
    assert [(r.action, r.error_code) for r in results] == [
        (WriteAction.DEAD_LETTER, "NOT_OWNED"),
        (WriteAction.DEAD_LETTER, "INVALID_VALUE"),
        (WriteAction.DEAD_LETTER, "INVALID_VALUE"),
    ]
    assert sent == []


def test_lifecycle_stage_only_moves_forward(setup) -> None:
    sandbox, connector = setup
    table = sandbox.store.table("contacts")
    by_stage: dict[str, str] = {}
    for row in table.rows.values():
        by_stage.setdefault(str(table.raw(row, "lifecyclestage")), str(row.id))
    lead, customer = by_stage["lead"], by_stage["customer"]
    sent = spy_updates(sandbox)
    results = connector.write(
        "contact",
        [
            Change(lead, {"lifecyclestage": "marketingqualifiedlead"}),
            Change(customer, {"lifecyclestage": "marketingqualifiedlead"}),
        ],
    )
    assert [r.action for r in results] == [APPLIED, APPLIED]
    assert inputs(sent) == [
        [{"id": lead, "properties": {"lifecyclestage": "marketingqualifiedlead"}}]
    ]
    assert stored(sandbox, lead, "lifecyclestage") == "marketingqualifiedlead"
    assert stored(sandbox, customer, "lifecyclestage") == "customer"
    assert connector.usage.by_endpoint["objects.batch_read"] == 1  # stages were not known yet


def test_a_batch_sent_again_after_a_dropped_connection_names_that_call(setup) -> None:
    sandbox, connector = setup
    ids = [r.id for r in read_all(connector)][:100]
    sent = spy_updates(sandbox)
    sandbox.faults.queue("reset")  # the batch's connection drops without an answer
    results = connector.write("contact", [Change(i, scored()) for i in ids])
    assert [r.action for r in results] == [APPLIED] * 100
    assert [len(batch) for batch in inputs(sent)] == [100, 100]
    (call,) = {c for r in results for c in r.resent}
    assert [r.resent for r in results] == [(call,)] * 100
    assert connector.write("contact", [Change(i, scored(fit=81)) for i in ids]) == [
        ok(sandbox, i) for i in ids
    ]  # nothing sent again: no call named
    assert call.endpoint == "objects.batch_update"
    assert call.reason.startswith("HubSpot objects.batch_update: ")


def test_a_batch_refused_for_rate_is_not_a_write_sent_again(setup) -> None:
    sandbox, connector = setup
    ids = [r.id for r in read_all(connector)][:5]
    sandbox.faults.queue("429")
    results = connector.write("contact", [Change(i, scored()) for i in ids])
    assert [(r.action, r.resent) for r in results] == [(APPLIED, ())] * 5
    assert connector.usage.rate_limited == 1


def test_a_batch_failing_beyond_the_retries_calls_for_an_outage_pause(setup) -> None:
    sandbox, connector = setup
    ids = [r.id for r in read_all(connector)][:5]
    sandbox.faults.queue(*["503"] * 6)
    results = connector.write("contact", [Change(i, scored()) for i in ids])
    assert {(r.action, r.error_code) for r in results} == {(WriteAction.PAUSE_OUTAGE, "TRANSIENT")}
    assert {len(r.resent) for r in results} == {5}  # sent six times in all
    assert connector.write("contact", [Change(i, scored()) for i in ids]) == [
        ok(sandbox, i) for i in ids
    ]


class RejectsBadIds:
    """A loopback batch/update endpoint rejecting a whole batch (400) holding a bad id."""

    def __init__(self, bad: set[str], unavailable: int = 0) -> None:
        self.bad = bad
        self.unavailable = unavailable  # the first requests answered 503
        self.batches: list[list[str]] = []
        self.server = SandboxServer(self.dispatch).start()

    def dispatch(self, request: Request) -> Response:
        ids = [item["id"] for item in json.loads(request.body)["inputs"]]
        self.batches.append(ids)
        if len(self.batches) <= self.unavailable:
            return Response(503, {"status": "error", "category": "SERVICE_UNAVAILABLE",
                                  "message": "Service Unavailable"})  # fmt: skip
        if self.bad & set(ids):
            return Response(400, {"status": "error", "category": "VALIDATION_ERROR",
                                  "message": "Property values were not valid"})  # fmt: skip
        return Response(200, {"status": "COMPLETE", "results": [{"id": i} for i in ids]})


def test_a_whole_batch_rejection_is_halved_until_the_bad_record_is_alone(make_connector) -> None:
    fake = RejectsBadIds({"3"})
    try:
        connector = make_connector(fake.server, access_token="pat-test")
        results = connector.write("contact", [Change(str(i), {"fit": i}) for i in range(1, 5)])
    finally:
        fake.server.stop()
    assert [(r.record_id, r.action, r.error_code) for r in results] == [
        ("1", APPLIED, None),
        ("2", APPLIED, None),
        ("3", WriteAction.DEAD_LETTER, "VALIDATION_ERROR"),
        ("4", APPLIED, None),
    ]
    assert fake.batches == [["1", "2", "3", "4"], ["1", "2"], ["3", "4"], ["3"], ["4"]]


def test_a_call_sent_again_then_refused_whole_is_named_on_every_record_it_carried(
    make_connector,
) -> None:
    fake = RejectsBadIds({"3"}, unavailable=1)
    try:
        connector = make_connector(fake.server, access_token="pat-test")
        results = connector.write("contact", [Change(str(i), {"fit": i}) for i in range(1, 5)])
    finally:
        fake.server.stop()
    assert fake.batches == [["1", "2", "3", "4"]] * 2 + [["1", "2"], ["3", "4"], ["3"], ["4"]]
    (call,) = {c for r in results for c in r.resent}
    assert [(r.record_id, r.action, r.resent) for r in results] == [
        ("1", APPLIED, (call,)),
        ("2", APPLIED, (call,)),
        ("3", WriteAction.DEAD_LETTER, (call,)),
        ("4", APPLIED, (call,)),
    ]
    assert call.endpoint == "objects.batch_update"


def test_duplicate_changes_for_one_record_are_merged(setup) -> None:
    sandbox, connector = setup
    record = read_all(connector)[0].id
    sent = spy_updates(sandbox)
    results = connector.write(
        "contact", [Change(record, {"fit": 1}), Change(record, {"fit": 2, "grade": "B"})]
    )
    assert results == [ok(sandbox, record), ok(sandbox, record)]
    assert inputs(sent) == [
        [{"id": record, "properties": {"leadsync_fit": "2", "leadsync_grade": "B"}}]
    ]


def test_an_unknown_kind_is_refused(setup) -> None:
    _, connector = setup
    with pytest.raises(PermanentError, match="no record kind 'lead'"):
        connector.write("lead", [])


def test_known_values_are_a_bounded_lru() -> None:
    known = KnownValues(capacity=2)
    known.remember("1", {"leadsync_fit": "1"})
    known.remember("2", {"leadsync_fit": "2"})
    known.remember("1", {"leadsync_grade": "A"})  # refreshes "1"
    known.remember("3", {"leadsync_fit": "3"})
    assert (known.get("1"), known.get("2"), known.get("3")) == (
        {"leadsync_fit": "1", "leadsync_grade": "A"},
        None,
        {"leadsync_fit": "3"},
    )
    assert len(known) == 2
