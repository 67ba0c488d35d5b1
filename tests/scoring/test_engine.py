# ruff: noqa: E501  (test tables hold whole YAML lines and messages)
"""Exact-value tests of every rule kind, caps, grades, disqualifiers, overrides and combining."""

from __future__ import annotations

import pytest

from scoring import score, score_page
from tests.scoring.helpers import NOW, days_ago, event, model, record

FORMS = model(
    """
    interest:
      rules:
        - {name: Pricing page, event: page_view, where: {url: {contains: /pricing}}, points: 5}
        - {name: Inquiry, event: form_submission, where: {form: {contains: inquiry}}, points: 15}
        - {name: Demo, event: form_submission, where: {form: {contains: demo}}, points: 25}
    """
)


@pytest.mark.parametrize(
    ("events", "interest"),
    [
        ([event("page_view", url="https://x.io/pricing"),
          event("form_submission", form="General inquiry"),
          event("form_submission", form="Request a DEMO")], 45),
        ([event("form_submission", form="General inquiry")], 15),
        ([event("page_view", url="https://x.io/blog")], 0),
        ([event("email_open", url="https://x.io/pricing")], 0),
        ([], 0),
    ],
)  # fmt: skip
def test_event_points_add_up(events, interest):
    result = score(record(events=events), FORMS, NOW)
    assert result.interest == interest
    assert result.interest_raw == interest


OPEN_BANDS = model(
    """
    interest:
      rules:
        - name: Email opens
          event: email_open
          bands: [{min: 1, max: 5, points: 5}, {min: 6, max: 10, points: 10}]
    """
)


@pytest.mark.parametrize(
    ("opens", "points"), [(0, 0), (1, 5), (3, 5), (5, 5), (6, 10), (7, 10), (10, 10), (11, 0)]
)
def test_frequency_bands_on_event_counts(opens, points):
    events = [event("email_open", 0) for _ in range(opens)]
    assert score(record(events=events), OPEN_BANDS, NOW).interest == points


def test_property_count_bands():
    m = model(
        """
        interest:
          rules:
            - name: Email opens
              property: hs_email_open
              bands: [{min: 1, max: 5, points: 5}, {min: 6, max: 10, points: 10}, {min: 11, points: 15}]
        """
    )
    got = {
        v: score(record({"hs_email_open": v}), m, NOW).interest
        for v in ("3", "7", "11", "250", "0", "", None, "abc")
    }
    assert got == {"3": 5, "7": 10, "11": 15, "250": 15, "0": 0, "": 0, None: 0, "abc": 0}


HALF_LIFE = model(
    """
    interest:
      decay: {half_life_days: 10}
      rules:
        - {name: Demo, event: form_submission, points: 40}
        - {name: Visit, event: page_view, points: 40, decay: {half_life_days: 5}}
        - {name: Meeting, event: meeting, points: 40, decay: none}
        - {name: Call, event: call, points: 40, decay: {lifespan_days: 20}}
    """
)


@pytest.mark.parametrize(
    ("kind", "age", "points"),
    [
        ("form_submission", 0, 40.0),
        ("form_submission", 10, 20.0),
        ("form_submission", 20, 10.0),
        ("page_view", 5, 20.0),
        ("page_view", 10, 10.0),
        ("meeting", 365, 40.0),
        ("call", 5, 30.0),
        ("call", 10, 20.0),
        ("call", 20, 0.0),
        ("call", 25, 0.0),
        ("form_submission", -3, 40.0),
    ],
)
def test_decay_halves_at_one_half_life_and_linear_reaches_zero(kind, age, points):
    result = score(record(events=[event(kind, age)]), HALF_LIFE, NOW)
    assert result.interest_raw == points


def test_time_window_and_per_rule_cap():
    m = model(
        """
        interest:
          rules:
            - {name: Pricing, event: page_view, points: 10, max: 25, within_days: 30}
            - {name: Careers, event: page_view, where: {url: {contains: careers}}, points: -10, max: 15}
        """
    )
    recent = [event("page_view", d, url="/pricing") for d in (1, 2, 3)]
    old = [event("page_view", 45, url="/pricing")]
    result = score(record(events=recent + old), m, NOW)
    assert [(c.rule, c.points) for c in result.contributions] == [("Pricing", 25.0)]
    careers = [event("page_view", 1, url="/careers") for _ in range(3)]
    result = score(record(events=careers), m, NOW)
    assert [(c.rule, c.points) for c in result.contributions] == [
        ("Pricing", 25.0),
        ("Careers", -15.0),
    ]
    assert result.interest_raw == 10.0


SENIORITY = model(
    """
    fit:
      groups:
        - name: Seniority
          first_match: true
          rules:
            - {name: C-level, if: {jobtitle: {matches: '\\b(ceo|chief)\\b'}}, points: 30}
            - {name: VP, if: {jobtitle: {matches: '\\bvp\\b'}}, points: 25}
            - {name: Manager, if: {jobtitle: {contains: manager}}, points: 10}
        - name: Signals
          max: 20
          rules:
            - {name: Target industry, if: {industry: software}, points: 15}
            - {name: Big company, if: {numemployees: {gte: 500}}, points: 10}
            - {name: Free email, if: {email: {domain_in: [gmail.com]}}, points: -5}
    """
)


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"jobtitle": "CEO & VP Manager"}, [("C-level", 30.0)]),
        ({"jobtitle": "VP, Sales Manager"}, [("VP", 25.0)]),
        ({"jobtitle": "Office manager"}, [("Manager", 10.0)]),
        ({"jobtitle": "Engineer"}, []),
        ({"industry": "Software", "numemployees": "1000+"}, [("Target industry", 15.0), ("Big company", 5.0)]),
        ({"industry": "software", "numemployees": "1000+", "email": "a@gmail.com"},
         [("Target industry", 15.0), ("Big company", 10.0), ("Free email", -5.0)]),
        ({"numemployees": "500-1000", "email": "a@gmail.com"}, [("Big company", 10.0), ("Free email", -5.0)]),
    ],
)  # fmt: skip
def test_first_match_and_group_cap(props, expected):
    result = score(record(props), SENIORITY, NOW)
    assert [(c.rule, c.points) for c in result.contributions] == expected
    assert result.fit_raw == sum(p for _, p in expected)


def test_group_cap_detail_says_what_was_cut():
    result = score(record({"industry": "software", "numemployees": "1000+"}), SENIORITY, NOW)
    assert result.contributions[1].detail == "cut from 10 to 5 by the group cap of 20"
    assert result.contributions[1].group == "Signals"


def test_dimension_clamped_and_scaled_and_combined():
    m = model(
        """
        fit:
          max: 50
          rules:
            - {name: A, if: {a: x}, points: 40}
            - {name: B, if: {b: x}, points: 30}
            - {name: Neg, if: {c: x}, points: -100}
        interest:
          max: 200
          rules:
            - {name: I, if: {i: x}, points: 45}
        combine: {fit: 3, interest: 1}
        """
    )
    over = score(record({"a": "x", "b": "x", "i": "x"}), m, NOW)
    assert (over.fit_raw, over.fit, over.interest, over.score) == (70.0, 100, 23, 81)
    under = score(record({"a": "x", "c": "x"}), m, NOW)
    assert (under.fit_raw, under.fit, under.score) == (-60.0, 0, 0)
    partial = score(record({"b": "x"}), m, NOW)
    assert partial.fit == 60


@pytest.mark.parametrize(
    ("points", "fit"), [(42.5, 43), (42.49, 42), (0.5, 1), (99.5, 100), (12.4999, 12)]
)
def test_scores_round_half_up(points, fit):
    m = model(f"fit:\n  rules:\n    - {{name: A, if: {{a: x}}, points: {points}}}\n")
    assert score(record({"a": "x"}), m, NOW).fit == fit


GRADED = model(
    """
    lists:
      targets: [northwind.example]
    fit:
      rules:
        - {name: Size, if: {numemployees: {gte: 1}}, points: 10}
        - {name: Fit, property: fitness, bands: [{min: 0, points: 0}]}
    grades:
      fit: {A: 80, B: 60, C: 30, D: 0}
      interest: {hot: 70, warm: 40, cold: 0}
    overrides:
      - {name: Target account, if: {website: {domain_in: $targets}}, grade_at_least: B}
      - {name: Tiny, if: {numemployees: {lt: 5}}, grade_at_most: C}
    """
)


@pytest.mark.parametrize(
    ("props", "grade", "label"),
    [
        ({"numemployees": "50"}, "D", "Dcold"),
        ({"numemployees": "50", "website": "https://www.northwind.example/about"}, "B", "Bcold"),
        ({"numemployees": "3", "website": "northwind.example"}, "C", "Ccold"),
        ({"numemployees": "3"}, "D", "Dcold"),
    ],
)
def test_grade_overrides_clamp(props, grade, label):
    result = score(record(props), GRADED, NOW)
    assert (result.grade, result.label) == (grade, label)
    assert GRADED.labels[0] == "Ahot"
    assert GRADED.grades == ("A", "B", "C", "D")
    assert GRADED.tiers == ("hot", "warm", "cold")


def test_grade_and_tier_thresholds_are_inclusive():
    m = model(
        """
        fit:
          rules:
            - {name: F, property: f, bands: [{min: 0, max: 100, points: 0}]}
            - {name: F2, if: {f: {gte: 0}}, points: 75}
        interest:
          rules:
            - {name: I, if: {i: {exists: true}}, points: 30}
        """
    )
    result = score(record({"f": "1", "i": "yes"}), m, NOW)
    assert (result.fit, result.grade, result.interest, result.tier, result.label) == (
        75,
        "A",
        30,
        "2",
        "A2",
    )


DISQUALIFY = model(
    """
    fit:
      rules:
        - {name: Title, if: {jobtitle: {exists: true}}, points: 60}
    interest:
      rules:
        - {name: Visit, event: page_view, points: 30}
    disqualify:
      - {name: Student, if: {jobtitle: {matches: student}}, reason: Students do not buy}
      - {name: Competitor, if: {email: {domain_in: [rival.io]}}}
    qualify:
      enter: {score: {gte: 10}}
    """
)


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        ({"jobtitle": "PhD student", "email": "x@rival.io"}, "Students do not buy"),
        ({"jobtitle": "CTO", "email": "x@eu.rival.io"}, "Competitor"),
        ({"jobtitle": "CTO", "email": "x@arival.io"}, None),
    ],
)
def test_disqualifiers_force_zero_with_reason(props, reason):
    result = score(record(props, [event("page_view")]), DISQUALIFY, NOW)
    assert result.disqualified_reason == reason
    if reason is None:
        assert (result.fit, result.score, result.qualified) == (60, 45, True)
    else:
        assert (result.fit, result.score, result.grade, result.qualified) == (0, 0, "D", False)
        assert result.interest == 30
        assert result.reasons[0] == f"Disqualified: {reason}"
        assert result.fit_raw == 60.0


def test_recency_and_elapsed_time_rules():
    m = model(
        """
        interest:
          rules:
            - name: Recent visit
              property: last_visit
              recency: [{within_days: 30, points: 5}, {within_days: 7, points: 15}]
            - name: Reorder window
              property: last_order
              every_days: 30
              points: 20
              max: 60
        """
    )

    def at(days):
        return (
            NOW.replace(microsecond=0) - __import__("datetime").timedelta(days=days)
        ).isoformat()

    cases = {
        (2, 10): [("Recent visit", 15.0)],
        (7, 29.9): [("Recent visit", 15.0)],
        (8, 30): [("Recent visit", 5.0), ("Reorder window", 20.0)],
        (31, 75): [("Reorder window", 40.0)],
        (100, 400): [("Reorder window", 60.0)],
    }
    for (visit, order), expected in cases.items():
        result = score(record({"last_visit": at(visit), "last_order": at(order)}), m, NOW)
        assert [(c.rule, c.points) for c in result.contributions] == expected, (visit, order)
    capped = score(record({"last_order": at(400)}), m, NOW).contributions[0]
    assert capped.detail == "400d since last_order; capped at 60"


def test_condition_rule_decayed_by_date_property():
    m = model(
        """
        interest:
          decay: {half_life_days: 7}
          rules:
            - {name: Converted, if: {num_conversion_events: {gte: 1}}, points: 40, age_from: recent_conversion_date}
        """
    )
    week_ago = "1763035200000"  # epoch ms, 2025-11-13T12:00Z: one year and a week before NOW
    assert (
        score(
            record({"num_conversion_events": "2", "recent_conversion_date": week_ago}), m, NOW
        ).interest
        == 0
    )
    iso = (NOW - __import__("datetime").timedelta(days=7)).isoformat()
    result = score(record({"num_conversion_events": "2", "recent_conversion_date": iso}), m, NOW)
    assert result.interest_raw == 20.0
    assert result.contributions[0].age_days == 7.0
    assert score(record({"num_conversion_events": "2"}), m, NOW).contributions == ()


def test_completeness_is_share_of_fit_properties_with_data():
    m = model(
        """
        fit:
          rules:
            - {name: T, if: {jobtitle: {contains: vp}}, points: 10}
            - {name: S, if: {numemployees: {gte: 10}}, points: 10}
            - {name: I, if: {industry: software}, points: 10}
            - {name: C, if: {country: [US, CA]}, points: 10}
        interest:
          rules:
            - {name: O, property: hs_email_open, bands: [{min: 1, points: 1}]}
        """
    )
    cases = [
        ({}, 0.0),
        (
            {"jobtitle": "Engineer", "numemployees": "N/A", "industry": "", "hs_email_open": "3"},
            0.25,
        ),
        ({"jobtitle": "x", "numemployees": "5", "industry": "y", "country": "FR"}, 1.0),
        ({"jobtitle": "x", "numemployees": "5", "industry": "y"}, 0.75),
    ]
    for props, expected in cases:
        assert score(record(props), m, NOW).completeness == expected


def test_named_lists_reused_across_rules():
    m = model(
        """
        lists:
          free: [gmail.com, Yahoo.com]
        fit:
          rules:
            - {name: Free email, if: {email: {domain_in: $free}}, points: -10}
            - {name: Free website, if: {website: {domain_in: $free}}, points: -5}
            - {name: Free in text, if: {notes: {contains: $free}}, points: -1}
        """
    )
    result = score(
        record({"email": "A@YAHOO.COM", "website": "http://gmail.com/x", "notes": "see yahoo.com"}),
        m,
        NOW,
    )
    assert [c.points for c in result.contributions] == [-10.0, -5.0, -1.0]


def test_model_contract_attributes():
    from config.model_loader import load_model

    hubspot = load_model("config/examples/models/hubspot-contacts.yaml")
    assert hubspot.object == "contact"
    assert hubspot.event_types == frozenset(
        {"page_view", "form_submission", "email_click", "meeting", "call"}
    )
    assert {
        "jobtitle",
        "company.numberofemployees",
        "company.industry",
        "hs_email_open",
        "email",
        "website",
    } <= hubspot.properties
    assert hubspot.grades == ("A", "B", "C", "D")
    assert hubspot.labels[:3] == ("A1", "A2", "A3") and len(hubspot.labels) == 12
    assert (hubspot.fit_max, hubspot.interest_max) == (100.0, 100.0)
    assert len(hubspot.version) == 12
    salesforce = load_model("config/examples/models/salesforce-leads.yaml")
    assert salesforce.object == "lead"
    assert salesforce.event_types == frozenset(
        {"email_open", "email_click", "email_reply", "call", "meeting", "campaign_response"}
    )
    properties_only = model("fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n")
    assert properties_only.event_types == frozenset()
    assert properties_only.properties == frozenset({"a"})


def test_recency_reason_lines_follow_the_whole_days_of_each_record():
    # The line of a recency step is kept per whole day of age: records of the same day share
    # it, the next day gets its own, and a date ahead of now reads as today.
    m = model(
        """
        interest:
          rules:
            - name: Recent visit
              property: last_visit
              recency: [{within_days: 7, points: 15}, {within_days: 30, points: 5}]
        """
    )
    ages = [3.2, 3.9, 4.1, -2.0, 0.4, 12.5]
    records = [
        record({"last_visit": days_ago(age).isoformat()}, record_id=str(i))
        for i, age in enumerate(ages)
    ]
    assert [r.reasons for r in score_page(records, m, NOW)] == [
        ("+15 Recent visit (3d ago)",),
        ("+15 Recent visit (3d ago)",),
        ("+15 Recent visit (4d ago)",),
        ("+15 Recent visit (today)",),
        ("+15 Recent visit (today)",),
        ("+5 Recent visit (12d ago)",),
    ]
    assert [r.contributions[0].age_days for r in score_page(records, m, NOW)] == pytest.approx(
        [3.2, 3.9, 4.1, 0.0, 0.4, 12.5]
    )
