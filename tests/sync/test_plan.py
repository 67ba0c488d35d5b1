"""The material-change plan: what is worth a write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scoring.types import Record
from sync.plan import Current, coerce_outputs, from_json_values, plan_record, to_json_values
from tests.sync.fakes import fake_score

NOW = datetime(2026, 3, 2, tzinfo=UTC)
# fake_score(points=60): fit/interest/score 60, grade B, label B1, qualified
HELD = {"fit": "60", "interest": "60", "score": "60", "grade": "B", "label": "B1",
        "qualified": "true"}  # fmt: skip


@pytest.mark.parametrize(
    ("outputs", "reasons"),
    [
        ({}, ("new",)),
        ({**HELD, "score": ""}, ("new",)),
        (HELD, None),
        ({**HELD, "score": "60.0", "fit": "60.4"}, None),  # number formats
        ({**HELD, "score": "58", "fit": "62", "interest": "61"}, None),  # under 3 points
        ({**HELD, "score": "57"}, ("score",)),  # exactly 3 points
        ({**HELD, "interest": "70"}, ("interest",)),
        ({**HELD, "grade": "A"}, ("grade",)),
        ({**HELD, "label": "B2"}, ("label",)),
        ({**HELD, "qualified": "false"}, ("qualified",)),
        ({**HELD, "qualified": ""}, ("qualified",)),  # unreadable counts as different
        ({**HELD, "reasons": "something else", "model_version": "old"}, None),
        ({**HELD, "fit": "n/a"}, ("fit",)),
    ],
)
def test_material_changes(outputs, reasons):
    record = Record("1", "contact", {"points": "60"}, outputs=outputs)
    change = plan_record(record, fake_score(record, None, NOW, None), min_points_change=3,
                         scored_at=NOW)  # fmt: skip
    assert (change.reasons if change else None) == reasons


def test_a_change_carries_old_and_new_values():
    record = Record("7", "contact", {"points": "80"}, outputs=HELD)
    change = plan_record(record, fake_score(record, None, NOW, None), min_points_change=3,
                         scored_at=NOW)  # fmt: skip
    assert change is not None
    assert change.old == HELD
    assert change.new["score"] == 80 and change.new["grade"] == "A"
    assert change.new["scored_at"] == NOW
    assert change.reasons == ("grade", "label", "fit", "interest", "score")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, Current(None, None, None, None, None, None)),
        (
            {"fit": 12, "interest": "3.5", "score": "1,000", "grade": " A ", "label": "",
             "qualified": True},
            Current(12.0, 3.5, 1000.0, "A", None, True),
        ),
        ({"qualified": "False", "fit": True}, Current(None, None, None, None, None, False)),
        ({"qualified": "maybe"}, Current(None, None, None, None, None, None)),
    ],
)  # fmt: skip
def test_coerce_outputs(raw, expected):
    assert coerce_outputs(raw) == expected


def test_json_values_round_trip_the_datetime():
    values = {"score": 5, "scored_at": NOW}
    assert to_json_values(values) == {"score": 5, "scored_at": "2026-03-02T00:00:00+00:00"}
    assert from_json_values(to_json_values(values)) == values
