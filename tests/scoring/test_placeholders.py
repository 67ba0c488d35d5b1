"""Placeholder values (`placeholders:`) read as "no data" in every rule kind, in completeness and
in explanations, on both scoring paths; half-open bands at exactly their edges."""

from __future__ import annotations

import pytest

from scoring import explain, score, score_page
from tests.scoring.helpers import NOW, event, model, record

PLACEHOLDERS = ["Select", "select", "  SELECT ", "Not provided", "-", "N/A", "unknown"]

#: One model reading `x` in every rule kind; each rule is worth a distinct power of two, so the
#: fit raw sum says exactly which fired.
EVERY_KIND = model(
    """
    placeholders: [Select, Not provided]
    fit:
      max: 1000
      rules:
        - {name: eq, if: {x: select}, points: 1}
        - {name: neq, if: {x: {neq: Pune}}, points: 2}
        - {name: not_in, if: {x: {not_in: [Pune]}}, points: 4}
        - {name: exists, if: {x: {exists: true}}, points: 8}
        - {name: missing, if: {x: {missing: true}}, points: 16}
        - {name: contains, if: {x: {contains: e}}, points: 32}
        - {name: matches, if: {x: {matches: '^s'}}, points: 64}
        - {name: not, if: {not: {x: {missing: true}}}, points: 128}
    interest:
      max: 1000
      rules:
        - {name: recency, property: x, recency: [{within_days: 9999, points: 1}]}
        - {name: elapsed, property: x, every_days: 1, points: 2, max: 2}
        - {name: aged, if: {y: {gte: 0}}, points: 4, age_from: x}
        - {name: bands, property: x, bands: [{min: -1000000, points: 8}]}
        - {name: numbers, if: {x: {gte: -1000000}}, points: 16}
    disqualify:
      - {name: Placeholder, if: {x: {eq: select}}}
    overrides:
      - {name: Known x, if: {x: {exists: true}}, grade_at_least: A}
    completeness: [x, y]
    """
)


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_a_placeholder_is_no_data_in_every_rule_kind(value: str) -> None:
    rec = record({"x": value, "y": 1})
    for result in (score(rec, EVERY_KIND, NOW), explain(rec, EVERY_KIND, NOW).result):
        # only `missing: true` (16) fires; every other test of x is false, interest is 0
        assert (result.fit_raw, result.interest_raw) == (16.0, 0.0)
        assert result.disqualified_reason is None
        assert result.grade == "D"
        assert result.completeness == 0.5


@pytest.mark.parametrize(
    ("value", "fit_raw", "interest_raw"),
    [
        # a date: every text test but the regex and eq holds; dates feed recency/elapsed/aged
        ("2026-11-10", 2 + 4 + 8 + 128, 1 + 2 + 4 + 8 + 16),
        ("Selected", 2 + 4 + 8 + 32 + 64 + 128, 0.0),  # not a placeholder: only whole values
    ],
)
def test_real_values_still_count(value: str, fit_raw: float, interest_raw: float) -> None:
    rec = record({"x": value, "y": 1})
    assert score(rec, EVERY_KIND, NOW).fit_raw == fit_raw
    assert score(rec, EVERY_KIND, NOW).interest_raw == interest_raw
    assert score(rec, EVERY_KIND, NOW).grade == "A"


def test_property_placeholders_apply_to_their_property_only() -> None:
    m = model(
        """
        placeholders:
          all: [Select]
          properties:
            visits: [0, "999"]
        fit:
          rules:
            - {name: Visited, if: {visits: {exists: true}}, points: 10}
            - {name: Pages, if: {pages: {exists: true}}, points: 5}
        """
    )
    cases: list[tuple[dict[str, object], float, float]] = [
        ({"visits": "0", "pages": "0"}, 5.0, 0.5),
        ({"visits": 0.0, "pages": 0}, 5.0, 0.5),
        ({"visits": 999, "pages": "select"}, 0.0, 0.0),
        ({"visits": "2", "pages": "Select"}, 10.0, 0.5),
    ]
    records = [record(props, record_id=str(i)) for i, (props, _, _) in enumerate(cases)]
    page = score_page(records, m, NOW)
    for (props, fit_raw, completeness), result in zip(cases, page, strict=True):
        assert (result.fit_raw, result.completeness) == (fit_raw, completeness), props
        assert score(record(props), m, NOW) == result


def test_explain_lists_the_placeholders_it_read_as_no_data() -> None:
    m = model(
        """
        placeholders: [Select]
        fit:
          rules:
            - {name: City, if: {city: {exists: true}}, points: 10}
            - {name: Role, if: {role: {exists: true}}, points: 10}
        """
    )
    explanation = explain(record({"city": "Select", "role": "Analyst", "other": "Select"}), m, NOW)
    assert explanation.placeholders == (("city", "Select"), ("other", "Select"))
    assert explanation.missing == ("city",)
    lines = explanation.to_text().splitlines()
    assert "placeholders (read as no data): city='Select', other='Select'" in lines
    assert explanation.to_dict()["placeholders"] == {"city": "Select", "other": "Select"}


def test_the_model_exposes_the_values_its_rules_read() -> None:
    m = model(
        "placeholders: {all: [Select], properties: {n: ['0']}}\n"
        "fit:\n  rules:\n    - {name: C, if: {n: 1}, points: 1}\n"
    )
    props = {"city": " select", "n": 0, "x": "0", "y": "Pune"}
    assert m.known(props) == {"city": None, "n": None, "x": "0", "y": "Pune"}
    rule = "fit:\n  rules:\n    - {name: C, if: {n: 1}, points: 1}\n"
    only = model("placeholders: {properties: {n: ['0']}}\n" + rule)
    assert only.known(props) == {"city": " select", "n": None, "x": "0", "y": "Pune"}
    plain = model("fit:\n  rules:\n    - {name: C, if: {city: a}, points: 1}\n")
    props = {"city": "Select"}
    assert plain.known(props) is props


def test_placeholders_change_the_version_only_when_declared() -> None:
    body = "fit:\n  rules:\n    - {name: C, if: {city: a}, points: 1}\n"
    plain = model(body)
    declared = model("placeholders: [Select]\n" + body)
    same = model("placeholders: {all: [' SELECT']}\n" + body)
    other = model("placeholders: [Select, Other]\n" + body)
    assert plain.version == model(body).version
    assert declared.version == same.version
    assert len({plain.version, declared.version, other.version}) == 3


BANDS = model(
    """
    fit:
      rules:
        - name: Visits
          property: visits
          bands:
            - {lt: 1, points: 1}
            - {gte: 1, lt: 2, points: 2}
            - {gte: 2, lte: 5, points: 4}
            - {gt: 5, lt: 10, points: 8}
            - {gte: 10, points: 16}
    """
)


@pytest.mark.parametrize(
    ("visits", "points", "detail"),
    [
        (-3, 1, "visits <1"),
        (0.999, 1, "visits <1"),
        (1, 2, "visits >=1 <2"),
        (1.999, 2, "visits >=1 <2"),
        (2, 4, "visits 2-5"),
        (5, 4, "visits 2-5"),
        (5.0001, 8, "visits >5 <10"),
        (9.999, 8, "visits >5 <10"),
        (10, 16, "visits 10+"),
    ],
)
def test_half_open_bands_at_their_edges(visits: float, points: float, detail: str) -> None:
    rec = record({"visits": visits})
    fast = score(rec, BANDS, NOW)
    traced = explain(rec, BANDS, NOW).result
    assert fast == traced
    assert [(c.points, c.detail) for c in fast.contributions] == [(points, detail)]


def test_half_open_event_count_bands() -> None:
    m = model(
        """
        interest:
          rules:
            - name: Opens
              event: email_open
              decay: none
              bands: [{gte: 1, lt: 3, points: 5}, {gte: 3, points: 10}]
        """
    )
    assert score(record(events=[event("email_open")] * 2), m, NOW).interest_raw == 5.0
    assert score(record(events=[event("email_open")] * 3), m, NOW).interest_raw == 10.0
