# ruff: noqa: E501  (test tables hold whole command lines and messages)
"""`leadsync validate --model`, `schema`, `score` and the offline `demo`, through the real entry."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from config.model_loader import load_model
from scoring.model import spec_properties

HUBSPOT = "config/examples/models/hubspot-contacts.yaml"
RECORDS = "config/examples/records/hubspot-contacts.jsonl"


def test_validate_ok(capsys):
    assert (
        main(
            [
                "validate",
                "--model",
                HUBSPOT,
                "--model",
                "config/examples/models/salesforce-leads.yaml",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        f"OK {HUBSPOT}: model 'hubspot-b2b-contacts' for contact records, version "
    )
    assert out[0].endswith(", 29 rules")
    assert out[1].endswith(", 24 rules")


def test_validate_prints_located_problems_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "b2b.yaml"
    bad.write_text(
        "name: b2b\nobject: contact\nfit:\n  rules:\n    - {name: T, if: {jobtitle: {matchs: vp}}, points: 1}\n"
        "    - {name: U, if: {email: {domain_in: $nope}}, points: 1}\n",
        encoding="utf-8",
    )
    assert main(["validate", "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{bad}:5:33 fit.rules[0].if.jobtitle.matchs: unknown operator 'matchs' (did you mean 'matches'?)"
        in err
    )
    assert (
        f"{bad}:6:41 fit.rules[1].if.email.domain_in: unknown list '$nope'; define it under 'lists:'"
        in err
    )
    assert "Traceback" not in err


def test_validate_and_schema_accept_the_kinds_the_config_scores(capsys):
    # config.kinds is the one answer: Salesforce accounts and HubSpot companies are scored
    for name in ("salesforce-accounts.yaml", "hubspot-companies.yaml"):
        assert main(["validate", "--model", f"config/examples/models/{name}"]) == 0
    capsys.readouterr()
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["object"]["enum"] == ["contact", "company", "lead", "account"]


def test_schema_is_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "leadsync scoring model"
    assert "matches" in schema["$defs"]["test"]["oneOf"][3]["properties"]


def test_score_table(capsys):
    assert (
        main(["score", "--model", HUBSPOT, "--input", RECORDS, "--now", "2026-11-20T12:00:00Z"])
        == 0
    )
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == ["id", "fit", "interest", "score", "label", "qualified", "reasons"]
    assert len(lines) == 41
    row = next(line for line in lines if line.startswith("5103 "))
    assert row.split()[1:6] == ["0", "40", "0", "D2", "no"]
    assert "Disqualified: Student or intern" in row
    assert "40 records scored with hubspot-b2b-contacts" in captured.err


def test_score_jsonl_carries_full_results(tmp_path, capsys):
    # every column the model reads must be in the export; these are all empty but three
    others = sorted(
        spec_properties(load_model(HUBSPOT).spec)
        - {"jobtitle", "company.numberofemployees", "email"}
    )
    csv = tmp_path / "export.csv"
    csv.write_text(
        ";".join(["id", "jobtitle", "company.numberofemployees", "email", *others])
        + "\n7;Chief Executive Officer;1000;ceo@acme.io"
        + ";" * len(others)
        + "\n8;;;"
        + ";" * len(others)
        + "\n",
        encoding="utf-8",
    )
    assert (
        main(
            [
                "score",
                "--model",
                HUBSPOT,
                "--input",
                str(csv),
                "--now",
                "2026-11-20",
                "--format",
                "jsonl",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["7", "8"]
    assert (rows[0]["fit"], rows[0]["fit_raw"], rows[0]["label"]) == (55, 55.0, "B3")
    assert [c["rule"] for c in rows[0]["contributions"]] == ["C-level title", "500+ employees"]
    assert rows[1]["completeness"] == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["score", "--model", HUBSPOT, "--input", RECORDS, "--now", "tomorrow"],
            "error: --now: 'tomorrow' is not an ISO-8601 time",
        ),
        (["score", "--model", "missing.yaml", "--input", RECORDS], "missing.yaml: file not found"),
        (
            ["score", "--model", HUBSPOT, "--input", "missing.jsonl"],
            "missing.jsonl: file not found",
        ),
        (
            ["score", "--model", HUBSPOT, "--input", RECORDS, "--format", "xml"],
            "error: --format: 'xml' is not one of 'table', 'jsonl'.\n",
        ),
        (["score", "--input", RECORDS], "error: Missing option '--model'.\n"),
        (["preview"], "error: Missing option '--model'.\n"),
    ],
)
def test_score_user_errors_exit_2(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bad_input_lines_are_warned_and_skipped(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "1", "properties": {}}\nnot json\n', encoding="utf-8")
    assert main(["score", "--model", HUBSPOT, "--input", str(path), "--now", "2026-11-20"]) == 0
    captured = capsys.readouterr()
    assert f"warning: {path}:2:1: not valid JSON" in captured.err
    assert len(captured.out.splitlines()) == 2


def test_bundled_salesforce_examples_score(capsys):
    args = ["score", "--model", "config/examples/models/salesforce-leads.yaml",
            "--input", "config/examples/records/salesforce-leads.jsonl", "--now", "2026-11-20T12:00:00Z"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 31
    assert "Disqualified: Works for a competitor" in captured.out
    assert "30 records scored with salesforce-b2b-leads" in captured.err
