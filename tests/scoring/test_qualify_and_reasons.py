"""Qualification with hysteresis and cooldown; reasons and "what changed" lines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scoring import score
from tests.scoring.helpers import NOW, event, model, record

HYSTERESIS = model(
    """
    interest:
      rules:
        - {name: Interest, property: level, bands: [{min: 0, max: 100, points: 0}]}
        - {name: Level, if: {level: {gte: 0}}, points: 0}
        - {name: L10, if: {level: {gte: 10}}, points: 10}
        - {name: L40, if: {level: {gte: 40}}, points: 30}
        - {name: L50, if: {level: {gte: 50}}, points: 10}
    qualify:
      enter: {interest: {gte: 50}}
      exit: {interest: {lt: 35}}
    """
)


def _at(level: int, previous=None, now=NOW):
    return score(record({"level": str(level)}), HYSTERESIS, now, previous)


@pytest.mark.parametrize(
    ("was_qualified", "level", "expected"),
    [
        (False, 60, True),
        (False, 40, False),  # between exit and entry: an unqualified record stays out
        (True, 40, True),  # between exit and entry: a qualified record stays in
        (True, 10, False),
        (None, 40, False),
        (None, 50, True),
    ],
)
def test_hysteresis_between_exit_and_entry(was_qualified, level, expected):
    previous = None
    if was_qualified is not None:
        previous = _at(60 if was_qualified else 10, now=NOW - timedelta(days=30))
        assert previous.qualified is was_qualified
    result = _at(level, previous)
    assert result.interest == {60: 50, 40: 40, 10: 10, 50: 50}[level]
    assert result.qualified is expected


def test_qualified_at_tracks_state_changes():
    first = _at(60, now=NOW - timedelta(days=10))
    assert first.qualified_at == NOW - timedelta(days=10)
    same = _at(40, first)
    assert same.qualified_at == first.qualified_at
    left = _at(10, same)
    assert (left.qualified, left.qualified_at) == (False, NOW)
    never = _at(10)
    assert never.qualified_at is None


def test_cooldown_holds_state_until_it_passes():
    m = model(
        """
        interest:
          rules:
            - {name: L, if: {level: {gte: 50}}, points: 60}
        qualify:
          enter: {interest: {gte: 50}}
          exit: {interest: {lt: 35}}
          cooldown_days: 7
        """
    )
    entered = score(record({"level": "60"}), m, NOW)
    assert entered.qualified and entered.qualified_at == NOW
    three_days = NOW + timedelta(days=3)
    held = score(record({"level": "0"}), m, three_days, entered)
    assert (held.qualified, held.qualified_at) == (True, NOW)
    eight_days = NOW + timedelta(days=8)
    left = score(record({"level": "0"}), m, eight_days, held)
    assert (left.qualified, left.qualified_at) == (False, eight_days)
    back = score(record({"level": "60"}), m, eight_days + timedelta(days=1), left)
    assert back.qualified is False


def test_qualify_conditions_on_grade_tier_and_label():
    m = model(
        """
        fit:
          rules:
            - {name: F, if: {f: {gte: 0}}, points: 80}
        interest:
          rules:
            - {name: I, if: {i: {gte: 0}}, points: 65}
        qualify:
          enter: {any: [{label: [A1]}, {all: [{grade: [b]}, {tier: ["1", "2"]}]}]}
        """
    )
    assert score(record({"f": "1", "i": "1"}), m, NOW).qualified is True
    assert score(record({"f": "1"}), m, NOW).qualified is False


def test_no_qualify_section_means_never_qualified():
    m = model("fit:\n  rules:\n    - {name: A, if: {a: x}, points: 100}\n")
    assert score(record({"a": "x"}), m, NOW).qualified is False


REASONS = model(
    """
    fit:
      rules:
        - {name: C-level title, if: {jobtitle: {contains: chief}}, points: 30}
        - {name: Free email domain, if: {email: {domain_in: [gmail.com]}}, points: -10}
        - {name: Tiny, if: {jobtitle: {exists: true}}, points: 0.4}
    interest:
      decay: {half_life_days: 30}
      rules:
        - {name: Demo request, event: form_submission, points: 50, decay: none}
        - {name: Pricing page, event: page_view, points: 20, decay: none}
    reasons: {top: 3, changes: 2}
    """
)


def test_reasons_are_top_contributions_with_signed_points_and_age():
    events = [
        event("form_submission", 3.5),
        event("page_view", 0.2),
        event("page_view", 9),
    ]
    result = score(
        record({"jobtitle": "Chief of staff", "email": "a@gmail.com"}, events), REASONS, NOW
    )
    assert result.reasons == (
        "+50 Demo request (3d ago)",
        "+40 Pricing page (2x, last today)",
        "+30 C-level title",
    )
    negative_shown = score(record({"jobtitle": "Chief", "email": "a@gmail.com"}), REASONS, NOW)
    assert negative_shown.reasons == ("+30 C-level title", "-10 Free email domain")


def test_changes_against_previous_result():
    before = score(record({"jobtitle": "Chief"}, [event("form_submission", 1)]), REASONS, NOW)
    assert before.changes == ()
    later = NOW + timedelta(days=1)
    after = score(
        record(
            {"jobtitle": "Chief", "email": "a@gmail.com"}, [event("page_view", 0, url="/pricing")]
        ),
        REASONS,
        later,
        before,
    )
    assert after.changes == (
        "Grade C -> D",
        "-50 since last score: Demo request",
        "+20 since last score: Pricing page",
    )


def test_changes_report_status_and_model_changes():
    other = model(
        """
        fit:
          rules:
            - {name: C-level title, if: {jobtitle: {contains: chief}}, points: 60}
        qualify:
          enter: {fit: {gte: 50}}
        """
    )
    previous = score(record({"jobtitle": "Chief"}), REASONS, NOW)
    result = score(record({"jobtitle": "Chief"}), other, NOW, previous)
    assert result.changes == (
        f"Model changed: {REASONS.version} -> {other.version}",
        "Qualified",
        "Grade C -> B",
        "+30 since last score: C-level title",
    )


def test_naive_datetimes_from_callers_do_not_break_scoring():
    from dataclasses import replace

    naive_now = NOW.replace(tzinfo=None)
    first = _at(60)
    previous = replace(first, qualified_at=NOW.replace(tzinfo=None) - timedelta(days=1))
    result = score(record({"level": "10"}), HYSTERESIS, naive_now, previous)
    assert (result.qualified, result.qualified_at) == (False, NOW)
