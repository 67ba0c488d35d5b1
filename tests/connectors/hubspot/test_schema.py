"""Contract: ensure_schema against the sandbox's Properties API."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import OutputField
from connectors.errors import MissingPermission
from connectors.hubspot import schema
from connectors.outputs import output_fields
from sandbox.hubspot.auth import ALL_SCOPES

OUTPUTS = output_fields(("A", "B", "C", "D"), ("A1", "B2", "C3"))
NAMES = [f"leadsync_{f.name}" for f in OUTPUTS]


def properties(sandbox, object_type: str = "contacts") -> dict[str, Any]:
    table = sandbox.store.table(object_type)
    return {name: table.props[name] for name in NAMES if name in table.props}


def test_without_apply_nothing_changes(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    report = connector.ensure_schema("contact", OUTPUTS, apply=False)
    assert [(f.crm_name, f.state) for f in report.fields] == [(n, "missing") for n in NAMES]
    assert not report.ok
    assert report.actions == ()
    assert connector.usage.by_endpoint == {"properties.list": 1}
    assert properties(sandbox) == {}


def test_apply_creates_the_group_and_typed_properties_once(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    report = connector.ensure_schema("contact", OUTPUTS, apply=True)
    assert report.ok
    assert {f.state for f in report.fields} == {"created"}
    assert report.actions[0] == "created contacts property group leadsync"
    created = properties(sandbox)
    assert {n: (p.type, p.field_type, p.group) for n, p in created.items()} == {
        "leadsync_fit": ("number", "number", "leadsync"),
        "leadsync_interest": ("number", "number", "leadsync"),
        "leadsync_score": ("number", "number", "leadsync"),
        "leadsync_grade": ("enumeration", "select", "leadsync"),
        "leadsync_label": ("enumeration", "select", "leadsync"),
        "leadsync_qualified": ("bool", "booleancheckbox", "leadsync"),
        "leadsync_reasons": ("string", "textarea", "leadsync"),
        "leadsync_changes": ("string", "textarea", "leadsync"),
        "leadsync_scored_at": ("datetime", "date", "leadsync"),
        "leadsync_model_version": ("string", "text", "leadsync"),
    }
    assert [o["value"] for o in created["leadsync_grade"].options] == ["A", "B", "C", "D"]
    again = connector.ensure_schema("contact", OUTPUTS, apply=True)
    assert {f.state for f in again.fields} == {"ok"}
    assert again.actions == ()
    assert connector.usage.by_endpoint["properties.create"] == len(NAMES)


def test_companies_get_their_own_properties(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=5, companies=3)
    connector = make_connector(sandbox)
    assert connector.ensure_schema("company", OUTPUTS, apply=True).ok
    assert set(properties(sandbox, "companies")) == set(NAMES)
    assert properties(sandbox, "contacts") == {}


def test_a_409_on_the_group_or_a_property_is_judged_not_fatal(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    api = connector._api
    api.call("groups.create", api.properties_groups.create, "contacts",
             {"name": "leadsync", "label": "leadsync"})  # fmt: skip
    report = connector.ensure_schema("contact", OUTPUTS[:1], apply=True)
    assert [f.state for f in report.fields] == ["created"]
    assert report.actions == ("created contacts property leadsync_fit",)
    # Another process created the property between our read and our create: HubSpot says 409.
    status = schema._create(api, "contacts", OUTPUTS[0], 0)
    assert (status.state, status.crm_name) == ("ok", "leadsync_fit")
    assert sandbox.request_counts()["POST /crm/v3/properties/{object}"] == {"201": 1, "409": 1}


def test_type_conflicts_are_reported_and_left_alone(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    api = connector._api
    for body in (
        {"name": "leadsync_fit", "label": "Fit", "type": "string", "fieldType": "text",
         "groupName": "contactinformation"},
        {"name": "leadsync_grade", "label": "Grade", "type": "enumeration", "fieldType": "radio",
         "groupName": "contactinformation",
         "options": [{"label": "A", "value": "A"}, {"label": "B", "value": "B"}]},
    ):  # fmt: skip
        api.call("properties.create", api.properties_core.create, "contacts", body)
    report = connector.ensure_schema("contact", OUTPUTS, apply=False)
    states = {f.name: (f.state, f.detail) for f in report.fields}
    assert states["fit"] == (
        "conflict",
        "type is 'string', expected 'number'; delete or rename the property in HubSpot, "
        "then run again",
    )
    assert states["grade"] == ("conflict", "options missing: C, D")
    assert states["score"] == ("missing", "run with apply to create")
    applied = connector.ensure_schema("contact", [OutputField("fit", "Fit", "number")], apply=True)
    assert [f.state for f in applied.fields] == ["conflict"]
    assert properties(sandbox)["leadsync_fit"].type == "string"


def test_existing_compatible_property_elsewhere_is_ok_with_a_note(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    api = connector._api
    api.call("properties.create", api.properties_core.create, "contacts",
             {"name": "leadsync_reasons", "label": "Why", "type": "string", "fieldType": "text",
              "groupName": "contactinformation"})  # fmt: skip
    report = connector.ensure_schema("contact", OUTPUTS, apply=False)
    reasons = next(f for f in report.fields if f.name == "reasons")
    assert (reasons.state, reasons.detail) == (
        "ok",
        "fieldType 'text' (leadsync creates 'textarea'); in group 'contactinformation'",
    )


def test_missing_schema_scope_names_the_scope(make_sandbox, make_connector) -> None:
    sandbox = make_sandbox(contacts=5)
    token = sandbox.new_token(ALL_SCOPES - {"crm.schemas.contacts.write"})
    connector = make_connector(sandbox, access_token=token)
    assert not connector.ensure_schema("contact", OUTPUTS, apply=False).ok
    with pytest.raises(MissingPermission, match=r"scope\(s\): crm.schemas.contacts.write"):
        connector.ensure_schema("contact", OUTPUTS, apply=True)


def test_apply_adds_missing_dropdown_options_keeping_existing_ones(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    api = connector._api
    api.call("groups.create", api.properties_groups.create, "contacts",
             {"name": "leadsync", "label": "leadsync"})  # fmt: skip
    api.call("properties.create", api.properties_core.create, "contacts",
             {"name": "leadsync_grade", "label": "Fit grade", "type": "enumeration",
              "fieldType": "select", "groupName": "leadsync",
              "options": [{"label": "A", "value": "A"},
                          {"label": "Bee", "value": "B", "description": "second"}]})  # fmt: skip
    grade = OutputField("grade", "Fit grade", "enumeration", ("A", "B", "C", "D"))
    dry = connector.ensure_schema("contact", [grade], apply=False)
    assert [(f.state, f.detail) for f in dry.fields] == [("conflict", "options missing: C, D")]
    assert "PATCH /crm/v3/properties/{object}/{name}" not in sandbox.request_counts()
    applied = connector.ensure_schema("contact", [grade], apply=True)
    assert [(f.state, f.detail) for f in applied.fields] == [("updated", "added options C, D")]
    assert applied.actions == ("updated contacts property leadsync_grade",)
    assert sandbox.request_counts()["PATCH /crm/v3/properties/{object}/{name}"] == {"200": 1}
    assert properties(sandbox)["leadsync_grade"].options == [
        {"label": "A", "value": "A", "description": "", "displayOrder": 0, "hidden": False},
        {"label": "Bee", "value": "B", "description": "second", "displayOrder": 1,
         "hidden": False},
        {"label": "C", "value": "C", "description": "", "displayOrder": 2, "hidden": False},
        {"label": "D", "value": "D", "description": "", "displayOrder": 3, "hidden": False},
    ]  # fmt: skip
    again = connector.ensure_schema("contact", [grade], apply=True)
    assert [(f.state, f.detail) for f in again.fields] == [("ok", "")]
    assert connector.usage.by_endpoint["properties.update"] == 1


def test_options_update_without_the_schema_write_scope_names_the_scope(
    make_sandbox, make_connector
) -> None:
    sandbox = make_sandbox(contacts=5)
    owner = make_connector(sandbox)
    owner.ensure_schema("contact", OUTPUTS, apply=True)
    wider = output_fields(("A", "B", "C", "D", "E"), ("A1", "B2", "C3"))
    token = sandbox.new_token(ALL_SCOPES - {"crm.schemas.contacts.write"})
    connector = make_connector(sandbox, access_token=token)
    with pytest.raises(MissingPermission, match=r"scope\(s\): crm.schemas.contacts.write"):
        connector.ensure_schema("contact", wider, apply=True)
    assert sandbox.request_counts()["PATCH /crm/v3/properties/{object}/{name}"] == {"403": 1}
