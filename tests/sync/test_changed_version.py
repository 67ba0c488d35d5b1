"""`scores.changed_version`: the latest version scored that was someone else's change, kept
apart from `crm_version`, which our own writes raise (what tells a related record's change the
people have not seen from our own account-score write)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from scoring.types import Record
from sync.page_scoring import PageScorer
from sync.state.records import PreviousRow
from tests.sync.fakes import FakeModel, fake_score

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def test_a_version_our_write_produced_is_no_change_and_a_newer_one_is():
    scorer = PageScorer(FakeModel(), now=NOW, min_points_change=1, scorer=fake_score)
    first = Record("1", "contact", {"points": "40"}, updated_at=at_ms(5_000))
    [row] = scorer.score([first], {}).scores
    assert (row.crm_version, row.changed_version) == (5_000, 5_000)

    # our write raised the stored version to 7,000; reading that version back (its inputs moved
    # for another reason, so the row is stored again) is not someone else's change
    written = PreviousRow(row.result, row.inputs, 7_000, row.model_version, 5_000)
    again = dataclasses.replace(first, properties={"points": "60"}, updated_at=at_ms(7_000))
    [row] = scorer.score([again], {"1": written}).scores
    assert (row.crm_version, row.changed_version) == (7_000, 5_000)

    # a version past the stored one is someone else's change
    stored = PreviousRow(row.result, row.inputs, 7_000, row.model_version, 5_000)
    later = dataclasses.replace(again, properties={"points": "80"}, updated_at=at_ms(9_000))
    [row] = scorer.score([later], {"1": stored}).scores
    assert (row.crm_version, row.changed_version) == (9_000, 9_000)

    # a row stored before migration 6 (no changed_version) keeps not knowing
    old = PreviousRow(row.result, row.inputs, 9_000, row.model_version, None)
    same = dataclasses.replace(later, properties={"points": "85"})
    [row] = scorer.score([same], {"1": old}).scores
    assert (row.crm_version, row.changed_version) == (9_000, None)


def test_a_row_marks_whether_the_values_people_read_of_its_result_changed():
    """`ScoreRow.values_changed`: what `account.` rules read (fit, interest, score, grade,
    tier, label, qualified), not the rest of the result nor the inputs."""
    scorer = PageScorer(FakeModel(), now=NOW, min_points_change=1, scorer=fake_score)
    first = Record("1", "account", {"points": "40", "note": "a"}, updated_at=at_ms(5_000))
    [row] = scorer.score([first], {}).scores
    assert row.values_changed is True  # nothing stored yet
    stored = PreviousRow(row.result, row.inputs, 5_000, row.model_version, 5_000)

    # a newer version with the same points: saved again, the values people read unchanged
    same = dataclasses.replace(
        first, properties={"points": "40", "note": "b"}, updated_at=at_ms(6_000)
    )
    [row] = scorer.score([same], {"1": stored}).scores
    assert (row.crm_version, row.values_changed) == (6_000, False)

    stored = PreviousRow(row.result, row.inputs, 6_000, row.model_version, 6_000)
    moved = dataclasses.replace(
        same, properties={"points": "41", "note": "b"}, updated_at=at_ms(7_000)
    )
    [row] = scorer.score([moved], {"1": stored}).scores
    assert (row.crm_version, row.values_changed) == (7_000, True)
