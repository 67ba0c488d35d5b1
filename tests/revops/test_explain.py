"""`leadsync explain --model M --input FILE RECORD_ID` on a record hitting every rule kind."""

import json
from pathlib import Path

import pytest

from cli.main import main

DATA = Path(__file__).resolve().parent / "data"
ARGS = ["--model", str(DATA / "every-kind.yaml"), "--input", str(DATA / "every-kind.jsonl"),
        "--now", "2026-04-01T00:00:00Z"]  # fmt: skip


def explain(capsys, record_id: str, *extra: str) -> tuple[int, str, str]:
    code = main(["explain", record_id, *ARGS, *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_rule_kind_is_explained(capsys):
    code, out, _ = explain(capsys, "c-1", "--format", "json")
    assert code == 0
    data = json.loads(out)
    rules = {r["rule"]: r for r in data["rules"]}
    assert {name: (r["kind"], r["matched"], r["points"]) for name, r in rules.items()} == {
        "VP title": ("condition", True, 25.0),
        "Any title": ("condition", False, 0.0),
        "Employees": ("bands", True, 30.0),
        "Free email": ("condition", True, -10.0),
        "Pricing page": ("event", True, 30.0),
        "Email opens": ("event", True, pytest.approx(8 * 2 ** (-2 / 10))),
        "Recent visit": ("recency", True, 10.0),
        "Days since order": ("elapsed", True, 20.0),
        "Webinar attended": ("condition", True, 15.0),
    }
    # First-match group, group cap, rule cap and decay are each visible.
    assert "first_match" in rules["Any title"]["note"]
    assert rules["Employees"]["earned"] == 35.0
    assert "cut from 35 to 30 by the group cap of 30" in rules["Employees"]["note"]
    assert "capped at 30" in rules["Pricing page"]["note"]
    assert rules["Pricing page"]["count"] == 3 and rules["Pricing page"]["decay"] == "half-life 10d"
    assert rules["Webinar attended"]["age_days"] == 20.0
    assert [(g["name"], g["total_before_cap"], g["total"]) for g in data["groups"] if g["max"]] == [
        ("Size", 35.0, 30.0)
    ]
    assert {c["name"]: (c["matched"], c["effect"]) for c in data["checks"]} == {
        "Competitor": (False, ""),
        "Target account": (True, "grade C -> A"),
    }
    assert data["qualify"]["decision"] is True
    assert data["qualify"]["why"] == "enter condition holds"
    result = data["result"]
    assert (result["fit"], result["interest"], result["score"], result["label"]) == (
        45,
        82,
        64,
        "A1",
    )


def test_text_rendering_shows_values_thresholds_and_qualification(capsys):
    code, out, _ = explain(capsys, "c-1")
    assert code == 0
    lines = out.splitlines()
    assert lines[1].startswith("fit 45 (raw 45)  interest 82")
    assert "          jobtitle = 'VP Sales' -> matches: yes" in lines
    # The pattern as the model writes it ('\bvp\b'), not Python's repr ('\\bvp\\b').
    assert r"  [x]     +25 VP title [Seniority]: jobtitle matches '\bvp\b'" in lines
    assert "  group Size: 35 -> 30 (max 30, cap reached)" in lines
    assert (
        "grade A (before overrides C) [A>=75, B>=50, C>=25, D>=0]  tier 1 [1>=60, 2>=30, 3>=0]"
        in lines
    )
    assert "qualification: new -> qualified (enter condition holds)" in lines


def test_disqualified_record_and_missing_record(capsys):
    code, out, _ = explain(capsys, "c-2")
    assert code == 0
    assert "DISQUALIFIED: Works for a competitor" in out
    assert "[x] disqualify Competitor: score forced to 0" in out
    assert "qualification: new -> not qualified (disqualified)" in out
    code, _, err = explain(capsys, "nope")
    assert code == 2
    assert "every-kind.jsonl: no record with id 'nope'" in err
    assert main(["explain", "c-1", "--model", str(DATA / "every-kind.yaml")]) == 2
