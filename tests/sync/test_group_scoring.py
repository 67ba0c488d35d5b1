"""A model group's page: what its models leave alone together."""

from __future__ import annotations

from datetime import UTC, datetime

from config.model_group import ModelGroup, Slot
from config.model_loader import parse_model
from scoring.types import Record
from sync.group_scoring import GroupScorer
from sync.page_scoring import version_ms
from sync.state.records import PreviousRow

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
UPDATED = datetime(2026, 11, 19, tzinfo=UTC)


def model(name: str, points: int):
    rule = f"{{name: Has title, if: {{jobtitle: {{exists: true}}}}, points: {points}}}"
    text = f"name: {name}\nobject: contact\nfit:\n  rules:\n    - {rule}\n"
    return parse_model(text, f"{name}.yaml")


def test_a_record_counts_as_skipped_only_when_every_model_of_the_group_skips_it():
    a, b = model("a", 10), model("b", 20)
    group = ModelGroup((Slot(a, "", "contact"), Slot(b, "pl_b_", "contact:pl_b")))
    scorer = GroupScorer(group, now=NOW, min_points_change=5)
    records = [Record(i, "contact", {"jobtitle": "CTO"}, (), UPDATED) for i in ("1", "2", "3")]
    scored = version_ms(UPDATED)
    # model a scored this version of 1 and 3, model b of 2 and 3: only 3 is left alone by both
    previous = {
        "contact": {i: PreviousRow("", None, scored, a.version) for i in ("1", "3")},
        "contact:pl_b": {i: PreviousRow("", None, scored, b.version) for i in ("2", "3")},
    }
    page = scorer.score([records, records], previous, skip_scored=True)
    assert (page.skipped, page.skipped_ids) == (1, {"3"})
