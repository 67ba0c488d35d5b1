"""Contract: ensure_schema against the sandbox's Properties API."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from connectors.base import OutputField
from connectors.errors import MissingPermission
from connectors.outputs import output_fields
from sandbox.httpserver import Request, Response, SandboxServer
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


class FirstComer:
    """A loopback server in front of a sandbox where another client wins every race: each
    create of a property group or property the connector sends reaches the sandbox only
    after an identical create from elsewhere did."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.server = SandboxServer(self.dispatch).start()

    def dispatch(self, request: Request) -> Response:
        if f"{request.method} {request.path}".startswith("POST /crm/v3/properties/"):
            self.sandbox.dispatch(request)  # the other client's create, answered 201
        response: Response = self.sandbox.dispatch(request)
        return response

    def front(self) -> SimpleNamespace:
        """What the connector fixtures need of a sandbox, pointing at this server."""
        return SimpleNamespace(url=self.server.url, token=self.sandbox.token, ca_file=None)


@pytest.fixture
def first_comer(make_sandbox) -> Iterator[FirstComer]:
    proxy = FirstComer(make_sandbox(contacts=5))
    yield proxy
    proxy.server.stop()


def test_a_409_on_the_group_or_a_property_is_judged_not_fatal(first_comer, make_connector):
    sandbox = first_comer.sandbox
    connector = make_connector(first_comer.front())
    report = connector.ensure_schema("contact", OUTPUTS[:1], apply=True)
    # the property the other client created is judged like any existing one: ours exactly
    assert [(f.crm_name, f.state, f.detail) for f in report.fields] == [("leadsync_fit", "ok", "")]
    assert report.actions == ()
    counts = sandbox.request_counts()
    assert counts["POST /crm/v3/properties/{object}/groups"] == {"201": 1, "409": 1}
    assert counts["POST /crm/v3/properties/{object}"] == {"201": 1, "409": 1}
    assert connector.usage.by_endpoint == {
        "properties.list": 1,
        "groups.create": 1,
        "properties.create": 1,
        "properties.read": 1,
    }
    assert set(properties(sandbox)) == {"leadsync_fit"}


def test_type_conflicts_are_reported_and_left_alone(make_sandbox, make_connector, make_api):
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    api = make_api(sandbox)  # another client of the account
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
    assert states["grade"] == ("incomplete", "options missing: C, D")
    assert states["score"] == ("missing", "`leadsync setup --apply` creates it")
    applied = connector.ensure_schema("contact", [OutputField("fit", "Fit", "number")], apply=True)
    assert [f.state for f in applied.fields] == ["conflict"]
    assert properties(sandbox)["leadsync_fit"].type == "string"


def test_existing_compatible_property_elsewhere_is_ok_with_a_note(
    make_sandbox, make_connector, make_api
) -> None:
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    api = make_api(sandbox)  # another client of the account
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
    make_sandbox, make_connector, make_api
) -> None:
    sandbox = make_sandbox(contacts=5)
    connector = make_connector(sandbox)
    api = make_api(sandbox)  # another client of the account
    api.call("groups.create", api.properties_groups.create, "contacts",
             {"name": "leadsync", "label": "leadsync"})  # fmt: skip
    api.call("properties.create", api.properties_core.create, "contacts",
             {"name": "leadsync_grade", "label": "Fit grade", "type": "enumeration",
              "fieldType": "select", "groupName": "leadsync",
              "options": [{"label": "A", "value": "A"},
                          {"label": "Bee", "value": "B", "description": "second"}]})  # fmt: skip
    grade = OutputField("grade", "Fit grade", "enumeration", ("A", "B", "C", "D"))
    dry = connector.ensure_schema("contact", [grade], apply=False)
    assert [(f.state, f.detail) for f in dry.fields] == [("incomplete", "options missing: C, D")]
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
