"""The Salesforce connector lists a kind's fields (describe) for model checks; Salesforce matches
field names in any case, so only names it does not have at all are reported."""

from __future__ import annotations

from pathlib import Path

from config.model_loader import load_model
from config.model_refs import unknown_properties

MODEL = """\
name: leads
object: lead
fit:
  rules:
    - {name: Title, if: {title: {contains: vp}}, points: 10}
    - {name: Size, if: {NumberOfEmployes: {gte: 500}}, points: 10}
    - {name: Account, if: {Account.Industry: Banking}, points: 5}
"""


def test_lead_fields_from_describe(make_sandbox, make_connector, tmp_path: Path) -> None:
    connector = make_connector(make_sandbox(leads=5))
    names = connector.property_names("lead")
    assert (names.kind, names.case_sensitive) == ("lead", False)
    assert {"Title", "NumberOfEmployees", "Industry", "Email"} <= names.names
    path = tmp_path / "leads.yaml"
    path.write_text(MODEL)
    problems = unknown_properties(
        load_model(path), path, names.names, "in Salesforce", case_sensitive=False, related=False
    )
    assert [str(p) for p in problems] == [
        f"{path}:6:25 fit.rules[1].if.NumberOfEmployes: no property 'NumberOfEmployes' in "
        "Salesforce (did you mean 'NumberOfEmployees'?)"
    ]
    assert connector.usage.by_endpoint["describe"] == 1
