# ruff: noqa: E501  (test tables hold whole YAML lines and messages)
"""Property-based tests: sums are exact, junk never raises, both evaluation paths agree."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.model_loader import load_model
from scoring import explain, score
from scoring.coerce import round_half_up
from scoring.types import Event, Record, ScoreResult
from tests.scoring.helpers import NOW, model

HUBSPOT = load_model("config/examples/models/hubspot-contacts.yaml")
SALESFORCE = load_model("config/examples/models/salesforce-leads.yaml")
RICH = model(
    """
    lists:
      free: [gmail.com]
    fit:
      max: 80
      groups:
        - name: Capped
          max: 25
          rules:
            - {name: A, if: {a: {contains: x}}, points: 12.3}
            - {name: B, if: {b: {gte: 3}}, points: 17.05}
            - {name: C, if: {c: {exists: true}}, points: -4.1}
        - name: First
          first_match: true
          max: 9
          rules:
            - {name: D, if: {d: {matches: '^v'}}, points: 11.7}
            - {name: E, property: e, bands: [{max: 3, points: 2.2}, {min: 4, points: 6.6}]}
      rules:
        - {name: F, if: {email: {domain_in: $free}}, points: -7.77}
        - {name: G, if: {g: {within_days: 30}}, points: 3.3}
    interest:
      max: 150
      decay: {half_life_days: 9.5}
      rules:
        - {name: H, event: page_view, where: {url: {contains: p}}, points: 13.1, max: 70}
        - {name: I, event: email_open, bands: [{min: 1, max: 2, points: 1.1}, {min: 3, points: 4.4}]}
        - {name: J, event: meeting, points: -3.3, max: 5, decay: {lifespan_days: 40}}
        - {name: K, property: last, recency: [{within_days: 10, points: 8.8}]}
        - {name: L, property: order, every_days: 7, points: 2.5, max: 11}
        - {name: M, if: {m: {gte: 1}}, points: 9.9, age_from: m_date}
    disqualify:
      - {name: Z, if: {z: yes}}
    overrides:
      - {name: O, if: {o: {exists: true}}, grade_at_least: B}
    qualify:
      enter: {score: {gte: 30}}
      exit: {score: {lt: 20}}
      cooldown_days: 2
    """
)
# Event rules the page scorer's event loop handles every way: memoized `where`s (one
# attribute), `where`s over two attributes, count bands, windows, both decays, caps, a
# first_match group of event rules; and a model whose `where` needs a closure (bool equality),
# which falls back to the per-type matchers.
EVENTS = model(
    """
    interest:
      decay: {half_life_days: 12.5}
      groups:
        - name: Forms
          first_match: true
          rules:
            - {name: Demo, event: form_submission, where: {form: {contains: demo}}, points: 40.5}
            - {name: Any form, event: form_submission, points: 7, within_days: 30}
      rules:
        - {name: Pricing, event: page_view, where: {url: {contains: /pricing}}, points: 10, max: 25}
        - {name: Blog, event: page_view, where: {url: {starts_with: /blog}}, points: 2.5, within_days: 14}
        - {name: Visits, event: page_view, bands: [{min: 2, max: 4, points: 3}, {min: 5, points: 9}], decay: {lifespan_days: 60}}
        - {name: Calls, event: call, where: {all: [{outcome: connected}, {status: {exists: true}}]}, points: 15, max: 30}
        - {name: Opens, event: email_open, points: -1.5, max: 4, decay: none}
    """
)
CLOSURE = model(
    """
    interest:
      rules:
        - {name: Flag, event: campaign_response, where: {status: {eq: true}}, points: 5}
        - {name: Views, event: page_view, where: {url: {contains: p}}, points: 3, max: 9}
    """
)
MODELS = (HUBSPOT, SALESFORCE, RICH, EVENTS, CLOSURE)
KEYS = sorted(
    {"a", "b", "c", "d", "e", "email", "g", "last", "order", "m", "m_date", "z", "o"}
    | HUBSPOT.properties
    | SALESFORCE.properties
)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "N/A", "1,000", "500+", "25-50", "gmail.com", "a@gmail.com", "vp x",
                     "2026-11-01T00:00:00.000Z", "1763634930123", "yes", "-", "1e400", "$5k"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),
    st.binary(max_size=5),
)  # fmt: skip
moments = st.one_of(
    st.floats(min_value=-30, max_value=400).map(lambda d: NOW - timedelta(days=d)),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
)
events = st.builds(
    Event,
    type=st.sampled_from(["page_view", "email_open", "meeting", "form_submission", "call",
                          "email_click", "campaign_response", "other", ""]),
    at=moments,
    attributes=st.dictionaries(st.sampled_from(["url", "form", "outcome", "status", "campaign"]),
                               junk, max_size=3),
)  # fmt: skip
records = st.builds(
    Record,
    id=st.just("r"),
    kind=st.just("contact"),
    properties=st.dictionaries(st.sampled_from(KEYS), junk, max_size=12),
    events=st.lists(events, max_size=12).map(tuple),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(result: ScoreResult, which: ScoreResult | None = None) -> None:
    fit_parts = [c.points for c in result.contributions if c.dimension == "fit"]
    interest_parts = [c.points for c in result.contributions if c.dimension == "interest"]
    assert math.fsum(fit_parts) == result.fit_raw
    assert math.fsum(interest_parts) == result.interest_raw
    assert 0 <= result.fit <= 100 and 0 <= result.interest <= 100 and 0 <= result.score <= 100
    assert 0.0 <= result.completeness <= 1.0
    if which is not None:
        assert result.to_dict() == which.to_dict()


@FAST
@given(record=records, index=st.integers(min_value=0, max_value=len(MODELS) - 1))
def test_junk_never_raises_and_sums_are_exact(record, index):
    m = MODELS[index]
    result = score(record, m, NOW)
    traced = explain(record, m, NOW).result
    _check(result, traced)
    if result.disqualified_reason is None:
        clamped = min(max(result.fit_raw, 0.0), m.fit_max) * 100.0 / m.fit_max
        assert result.fit == round_half_up(clamped)
    assert result.label == result.grade + result.tier
    again = score(record, m, NOW + timedelta(days=1), result)
    _check(again, explain(record, m, NOW + timedelta(days=1), result).result)


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(
        st.floats(min_value=-50, max_value=50, allow_nan=False), min_size=1, max_size=8
    ),
    cap=st.one_of(st.none(), st.floats(min_value=0.5, max_value=60)),
    first_match=st.booleans(),
    present=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_contributions_sum_to_raw_for_any_points_and_caps(points, cap, first_match, present):
    lines = ["fit:", "  groups:", "    - name: G", f"      first_match: {str(first_match).lower()}"]
    if cap is not None:
        lines.append(f"      max: {cap!r}")
    lines.append("      rules:")
    lines.extend(
        f"        - {{name: R{i}, if: {{p{i}: {{exists: true}}}}, points: {p!r}}}"
        for i, p in enumerate(points)
    )
    m = model("\n".join(lines) + "\n")
    props = {f"p{i}": "x" for i, on in enumerate(present) if on}
    result = score(Record("r", "contact", props), m, NOW)
    _check(result, explain(Record("r", "contact", props), m, NOW).result)
    earned = [p for i, p in enumerate(points) if present[i]]
    if first_match:
        earned = earned[:1]
    expected = math.fsum(earned)
    if cap is not None:
        expected = min(expected, cap)
    assert math.isclose(result.fit_raw, expected, abs_tol=1e-9)
