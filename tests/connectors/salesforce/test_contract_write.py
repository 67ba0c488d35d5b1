"""Writing through the connector against the sandbox org: composite packing and its call counts,
per-record results, lock retries, converted leads, the assignment-rule header, Bulk API 2.0 with
failed rows, fields hidden by field-level security, and `ensure_schema`."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.base import Change, WriteAction
from connectors.errors import BudgetExhausted, MissingPermission
from connectors.outputs import output_fields
from connectors.retry import RetryPolicy
from sandbox.salesforce import SalesforceSandbox
from sandbox.salesforce.ids import case_safe
from tests.connectors.salesforce.conftest import GRADES, NOW, OUTPUTS, converted_leads, open_leads

APPLIED, DEAD = WriteAction.APPLIED, WriteAction.DEAD_LETTER

SCORED_AT = dt.datetime(2026, 11, 20, 12, 30, tzinfo=dt.UTC)


def _change(record_id: str, score: int = 77) -> Change:
    return Change(
        record_id,
        {
            "fit": 80,
            "interest": 70,
            "score": score,
            "grade": "A",
            "label": "A2",
            "qualified": True,
            "reasons": "Title: VP (+25)\nPricing page (+10)",
            "changes": "",
            "scored_at": SCORED_AT,
            "model_version": "v1-abc",
        },
    )


@pytest.fixture(scope="module")
def big_sandbox():
    with SalesforceSandbox(leads=2700, now=NOW) as sandbox:
        sandbox.install_leadsync_fields()
        yield sandbox


@pytest.mark.parametrize(
    ("count", "composite", "collections"),
    [(1, 0, 1), (200, 0, 1), (201, 1, 0), (1000, 1, 0), (1001, 1, 1), (2500, 3, 0)],
)
def test_writes_cost_ceil_n_over_1000_calls(
    big_sandbox, make_connector, count, composite, collections
):
    sandbox = big_sandbox
    connector = make_connector(sandbox)
    ids = open_leads(sandbox)[:count]
    used = sandbox.api_used
    results = connector.write("lead", [_change(i) for i in ids])
    assert [r.action for r in results] == [APPLIED] * count
    assert sandbox.api_used - used == -(-count // 1000) + 1  # + the describe that checks fields
    assert connector.usage.by_endpoint.get("composite", 0) == composite
    assert connector.usage.by_endpoint.get("composite/sobjects", 0) == collections
    row = sandbox.store.table("Lead")[ids[-1]]
    assert (row["Leadsync_Score__c"], row["Leadsync_Label__c"], row["Leadsync_Qualified__c"]) == (
        77.0,
        "A2",
        True,
    )
    assert row["Leadsync_Scored_At__c"] == int(SCORED_AT.timestamp())
    assert row["Leadsync_Reasons__c"] == "Title: VP (+25)\nPricing page (+10)"


def test_partial_failures_are_reported_per_record(make_sandbox, make_connector, sleeps):
    sandbox = make_sandbox(leads=300)
    sandbox.install_leadsync_fields()
    connector = make_connector(sandbox)
    good, integrity, shortened = open_leads(sandbox)[:3]
    converted = converted_leads(sandbox)[0]
    sandbox.store.integrity_rule_ids.add(integrity)
    assert connector.write("lead", [_change(good)])[0].ok
    # An admin shortens a field after the connector described it: Salesforce refuses the value.
    sandbox.store.sobject("Lead").field("Leadsync_Model_Version__c").length = 3
    changes = [
        _change(good, score=1),
        _change(converted),
        Change(integrity, {"score": 5}),
        _change("00Q5g00000zzzzzZZZ"),
        _change(case_safe("00Q5g00000zzzzz")),
        Change(shortened, {"model_version": "v1-abc"}),
        _change(good, score=2),
    ]
    results = connector.write("lead", changes)
    assert [(r.record_id, r.action, r.error_code) for r in results] == [
        (good, DEAD, "STRING_TOO_LONG"),  # the same record twice: one write, the last wins
        (converted, WriteAction.GONE, "CANNOT_UPDATE_CONVERTED_LEAD"),
        (integrity, DEAD, "FIELD_INTEGRITY_EXCEPTION"),
        ("00Q5g00000zzzzzZZZ", DEAD, "MALFORMED_ID"),  # wrong case-safe suffix
        (case_safe("00Q5g00000zzzzz"), DEAD, "INVALID_CROSS_REFERENCE_KEY"),
        (shortened, DEAD, "STRING_TOO_LONG"),
        (good, DEAD, "STRING_TOO_LONG"),
    ]
    assert results[1].message == "cannot reference converted lead"
    assert sleeps == []  # nothing retryable


def test_locked_rows_are_retried_until_they_succeed(make_sandbox, make_connector, sleeps):
    sandbox = make_sandbox(leads=300)
    sandbox.install_leadsync_fields()
    policy = RetryPolicy(attempts=4, base=1.0, cap=8.0, jitter=lambda: 0.0)
    connector = make_connector(sandbox, retry_policy=policy)
    ids = open_leads(sandbox)[:300]
    sandbox.store.locked[ids[3]] = 2
    sandbox.store.locked[ids[250]] = 1
    used = sandbox.api_used
    results = connector.write("lead", [_change(i) for i in ids])
    assert {r.action for r in results} == {APPLIED}
    assert (
        sandbox.api_used - used == 1 + 3
    )  # describe, then a call, a retry of 2 records, a retry of 1
    assert sleeps == [0.5, 1.0]  # the retry layer's backoff, its jitter fixed at 0
    # each record's result names the calls that sent it again: the two locked ones in a call
    # of their own, then the one still locked alone
    resent = {r.record_id: [(c.endpoint, c.reason) for c in r.resent] for r in results if r.resent}
    assert resent == {
        ids[3]: [
            ("composite/sobjects", "2 records failed with UNABLE_TO_LOCK_ROW"),
            ("composite/sobjects", "1 records failed with UNABLE_TO_LOCK_ROW"),
        ],
        ids[250]: [("composite/sobjects", "2 records failed with UNABLE_TO_LOCK_ROW")],
    }
    assert results[3].resent[0] is results[250].resent[0]  # one call, shared


def test_a_composite_call_cut_short_and_sent_again_names_that_call_in_every_result(
    make_sandbox, make_connector, sleeps
):
    sandbox = make_sandbox(leads=600)
    sandbox.install_leadsync_fields()
    connector = make_connector(sandbox)
    ids = open_leads(sandbox)[:551]
    sandbox.faults.cut_composite_after = 1  # one collection applied, then the connection drops
    results = connector.write("lead", [_change(i) for i in ids])
    assert {r.action for r in results} == {APPLIED}
    assert sandbox.counters["composite"] == 2
    assert sleeps == [0.25]
    (call,) = {c for r in results for c in r.resent}
    assert all(r.resent == (call,) for r in results)
    assert call.endpoint == "composite"
    assert call.reason.startswith("Salesforce composite: ")


def test_a_call_refused_for_rate_is_not_a_write_sent_again(make_sandbox, make_connector, sleeps):
    sandbox = make_sandbox(leads=100)
    sandbox.install_leadsync_fields()
    connector = make_connector(sandbox)
    ids = open_leads(sandbox)[:5]
    assert connector.write("lead", [_change(ids[0])])[0].ok  # the fields described
    sandbox.faults.script.extend(["concurrent"])  # refused before Salesforce acted on it
    results = connector.write("lead", [_change(i) for i in ids])
    assert [(r.action, r.resent) for r in results] == [(APPLIED, ())] * 5
    assert (connector.usage.rate_limited, connector.usage.by_endpoint["composite/sobjects"]) == (
        1,
        3,
    )
    sandbox.faults.script.extend(["503"])  # Salesforce may have acted on this one
    results = connector.write("lead", [_change(i) for i in ids])
    assert [(r.action, len(r.resent)) for r in results] == [(APPLIED, 1)] * 5
    assert results[0].resent[0].endpoint == "composite/sobjects"


def test_a_row_that_stays_locked_fails_with_its_code(make_sandbox, make_connector, sleeps):
    sandbox = make_sandbox(leads=100)
    sandbox.install_leadsync_fields()
    connector = make_connector(sandbox, retry_policy=RetryPolicy(attempts=3, jitter=lambda: 0.0))
    ids = open_leads(sandbox)[:5]
    sandbox.store.locked[ids[0]] = 99
    results = connector.write("lead", [_change(i) for i in ids])
    assert (results[0].action, results[0].error_code) == (WriteAction.RETRY, "UNABLE_TO_LOCK_ROW")
    assert [r.action for r in results[1:]] == [APPLIED] * 4
    assert sleeps == [0.25, 0.5]  # three attempts in all
    assert sandbox.store.locked[ids[0]] == 96


def test_writes_never_fire_assignment_rules(make_sandbox, make_connector):
    sandbox = make_sandbox(leads=1500)
    sandbox.install_leadsync_fields()
    connector = make_connector(sandbox, bulk_threshold=1200)
    ids = open_leads(sandbox)
    owners = {i: sandbox.store.table("Lead")[i]["OwnerId"] for i in ids}
    connector.write("lead", [_change(i) for i in ids[:300]])  # composite with subrequests
    connector.write("lead", [_change(i) for i in ids[300:301]])  # a single collection
    connector.write("lead", [_change(i) for i in ids[:1250]])  # Bulk API 2.0
    assert {i: sandbox.store.table("Lead")[i]["OwnerId"] for i in ids} == owners
    assert sandbox.store.assignment_queue not in owners.values()


def test_bulk_api_above_the_threshold_with_failed_rows(make_sandbox, make_connector, sleeps):
    sandbox = make_sandbox(leads=400)
    sandbox.install_leadsync_fields()
    connector = make_connector(sandbox, bulk_threshold=50, bulk_poll_s=3.0)
    ids = open_leads(sandbox)[:60]
    converted = converted_leads(sandbox)[0]
    sandbox.store.locked[ids[7]] = 1
    results = connector.write("lead", [*(_change(i, score=55) for i in ids), _change(converted)])
    by_id = {r.record_id: r for r in results}
    assert (by_id[converted].action, by_id[converted].error_code) == (
        WriteAction.GONE,
        "CANNOT_UPDATE_CONVERTED_LEAD",
    )
    assert by_id[ids[7]].ok  # failed in the job with UNABLE_TO_LOCK_ROW, then retried
    assert all(by_id[i].ok for i in ids)
    assert {sandbox.store.table("Lead")[i]["Leadsync_Score__c"] for i in ids} == {55.0}
    assert connector.stats["bulk_jobs"] == 1
    assert sleeps == [3.0]  # one poll found the job InProgress
    endpoints = connector.usage.by_endpoint
    assert (
        endpoints["jobs/ingest"],
        endpoints["jobs/ingest/batches"],
        endpoints["jobs/ingest/info"],
    ) == (1, 1, 2)
    assert endpoints["composite/sobjects"] == 1  # the locked row, written again
    # every call, the two status polls included, counted against the share
    assert connector.stats["daily_share_used"] == connector.usage.calls == sandbox.api_used
    assert sandbox.store.table("Lead")[ids[0]]["Leadsync_Changes__c"] is None  # "" was sent as #N/A


def test_fields_hidden_by_field_level_security_block_writes(make_sandbox, make_connector):
    sandbox = make_sandbox(leads=50)
    sandbox.install_leadsync_fields(grant=False)
    connector = make_connector(sandbox)
    with pytest.raises(
        MissingPermission, match="Leadsync_Grade__c, Leadsync_Score__c are missing or not editable"
    ):
        connector.write("lead", [Change(open_leads(sandbox)[0], {"score": 5, "grade": "A"})])
    report = connector.ensure_schema("lead", OUTPUTS, apply=True)
    assert {f.state for f in report.fields} == {"ok"}
    assert report.actions == (
        "created permission set Leadsync_Integration",
        "granted read/edit on 10 Lead fields to Leadsync_Integration",
        f"assigned Leadsync_Integration to the integration user {sandbox.integration_user_id}",
    )
    results = connector.write("lead", [Change(open_leads(sandbox)[0], {"score": 5, "grade": "A"})])
    assert results[0].ok


def test_ensure_schema_reports_then_creates_then_is_idempotent(make_sandbox, make_connector):
    sandbox = make_sandbox(leads=50)
    sales = sandbox.store.insert(
        "PermissionSet", {"Name": "Sales_Users", "Label": "Sales"}, user=sandbox.integration_user_id
    )[0]
    connector = make_connector(sandbox, sales_permission_set="Sales_Users")
    dry = connector.ensure_schema("contact", OUTPUTS, apply=False)
    assert {f.state for f in dry.fields} == {"missing"}
    assert not dry.ok
    assert len(sandbox.store.table("CustomField")) == 0
    applied = connector.ensure_schema("contact", OUTPUTS, apply=True)
    assert [f.state for f in applied.fields] == ["created"] * 10
    assert applied.actions[-1] == "granted read on 10 Contact fields to Sales_Users"
    sales_rows = [
        r for r in sandbox.store.table("FieldPermissions").values() if r["ParentId"] == sales
    ]
    assert len(sales_rows) == 10 and not any(r["PermissionsEdit"] for r in sales_rows)
    again = connector.ensure_schema("contact", OUTPUTS, apply=False)
    assert again.ok and {f.state for f in again.fields} == {"ok"} and again.actions == ()
    contact = next(iter(sandbox.store.table("Contact")))
    assert connector.write("contact", [Change(contact, {"label": "D3"})])[0].ok


def test_ensure_schema_conflicts_and_picklist_extension(make_sandbox, make_connector, make_api):
    sandbox = make_sandbox(leads=50)
    connector = make_connector(sandbox, sales_permission_set="Nobody_Has_This")
    admin = make_api(sandbox)  # someone made two fields of our names by hand
    text = {"label": "Score", "type": "Text", "length": 10}
    one_value = {"restricted": True, "valueSetDefinition": {"value": [{"valueName": "A"}]}}
    picklist = {"label": "Grade", "type": "Picklist", "valueSet": one_value}
    for name, metadata in (("Leadsync_Score__c", text), ("Leadsync_Grade__c", picklist)):
        body = {"FullName": f"Lead.{name}", "Metadata": metadata}
        admin.tooling("t", "sobjects/CustomField", method="POST", data=body)
    dry = connector.ensure_schema("lead", OUTPUTS, apply=False)
    details = {f.name: (f.state, f.detail) for f in dry.fields}
    assert details["score"][0] == "conflict"
    assert "is a Text field, leadsync needs Number" in details["score"][1]
    assert details["grade"] == (
        "incomplete",
        "picklist lacks B, C, D",
    )
    applied = connector.ensure_schema("lead", OUTPUTS, apply=True)
    states = {f.name: f.state for f in applied.fields}
    assert (states["score"], states["grade"], states["fit"]) == ("conflict", "updated", "created")
    assert "sales permission set 'Nobody_Has_This' not found" in applied.actions[-1]
    assert sandbox.store.sobject("Lead").field("Leadsync_Grade__c").picklist == ("A", "B", "C", "D")


def test_a_second_setup_sends_no_metadata_change_and_a_new_grade_adds_only_it(
    make_sandbox, make_connector
):
    sandbox = make_sandbox(leads=20)
    connector = make_connector(sandbox)
    connector.ensure_schema("lead", OUTPUTS, apply=True)
    created = sandbox.counters["tooling_create"]
    again = connector.ensure_schema("lead", OUTPUTS, apply=True)
    assert {f.state for f in again.fields} == {"ok"} and again.actions == ()
    assert (sandbox.counters["tooling_update"], sandbox.counters["tooling_create"]) == (0, created)
    grade_id = next(
        key
        for key, row in sandbox.store.table("CustomField").items()
        if row["DeveloperName"] == "Leadsync_Grade" and row["TableEnumOrId"] == "Lead"
    )
    sandbox.store.custom_metadata[grade_id]["valueSet"]["valueSetDefinition"]["value"][0][
        "color"
    ] = "#00AA00"
    wider = output_fields((*GRADES, "E"), [f"{g}{t}" for g in GRADES for t in "123"])
    report = connector.ensure_schema("lead", wider, apply=True)
    states = {f.name: (f.state, f.detail) for f in report.fields}
    assert states["grade"] == ("updated", "added picklist values ['E']")
    assert {s for name, (s, _) in states.items() if name != "grade"} == {"ok"}
    assert sandbox.counters["tooling_update"] == 1
    values = sandbox.store.custom_metadata[grade_id]["valueSet"]["valueSetDefinition"]["value"]
    assert [v["valueName"] for v in values] == ["A", "B", "C", "D", "E"]
    assert values[0]["color"] == "#00AA00"  # existing entries go back as they were read
    assert sandbox.store.sobject("Lead").field("Leadsync_Grade__c").picklist == (
        "A",
        "B",
        "C",
        "D",
        "E",
    )


def test_a_bulk_job_starts_only_when_the_share_holds_its_polls(make_sandbox, make_connector):
    sandbox = make_sandbox(leads=400, daily_api_limit=150)  # 20% share: 30 calls in 24 hours
    sandbox.install_leadsync_fields()
    connector = make_connector(sandbox, bulk_threshold=50, bulk_poll_s=2.0)
    changes = [_change(i, score=40) for i in open_leads(sandbox)[:60]]
    # 6 calls and up to 123 polls (2, 4, 8, 16 then 30 s apart for an hour) do not fit in 30
    with pytest.raises(BudgetExhausted, match="writing 60 changes needs 129 API calls"):
        connector.write("lead", changes)
    assert sandbox.counters["bulk_create"] == 0
