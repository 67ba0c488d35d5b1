"""`qualify.lifecycle_stage`: qualified contacts move forward to the stage, never backwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from config.errors import ProblemsError
from config.model_loader import parse_model
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.outputs import output_fields
from scoring.types import Record, ScoreResult
from sync.engine import Engine, RunOptions
from sync.plan import plan_record
from sync.state.store import StateStore
from tests.sync.hubspot_env import NOW, sandbox

EXAMPLE = Path(__file__).parents[2] / "config/examples/models/hubspot-professional.yaml"
#: (qualified contacts moved to MQL, qualified contacts already past MQL left alone) for seed 7
EXPECTED_MOVES = (7, 14)
QUALIFY = "qualify:\n  enter: {grade: [A, B], interest: {gte: 50}}\n"


def with_stage(stage: str) -> str:
    text = EXAMPLE.read_text()
    assert QUALIFY in text
    return text.replace(QUALIFY, QUALIFY + f"  lifecycle_stage: {stage}\n")


def result(*, qualified: bool, score: int = 70) -> ScoreResult:
    return ScoreResult(
        fit=score,
        interest=score,
        score=score,
        grade="A",
        tier="1",
        label="A1",
        qualified=qualified,
        disqualified_reason=None,
        contributions=(),
        reasons=(),
        completeness=1.0,
        model_version="v",
    )


def record(**outputs: object) -> Record:
    return Record(id="1", kind="contact", properties={}, outputs=outputs)


def test_stage_is_parsed_and_changes_the_version_only_when_set():
    plain = parse_model(EXAMPLE.read_text(), "m.yaml")
    staged = parse_model(with_stage("marketingqualifiedlead"), "m.yaml")
    assert plain.qualify_lifecycle_stage is None
    assert staged.qualify_lifecycle_stage == "marketingqualifiedlead"
    assert staged.version != plain.version


def test_unknown_stage_is_a_located_error_with_a_suggestion():
    with pytest.raises(ProblemsError) as info:
        parse_model(with_stage("marketingqualifiedleed"), "m.yaml")
    [problem] = info.value.problems
    assert problem.path == "qualify.lifecycle_stage"
    assert problem.line == 76
    assert "(did you mean 'marketingqualifiedlead'?)" in problem.message


@pytest.mark.parametrize(
    ("outputs", "qualified", "expected"),
    [
        ({}, True, "marketingqualifiedlead"),  # first score, qualified
        ({}, False, None),
        (
            {"score": "70", "label": "A1", "grade": "A", "qualified": "false"},
            True,
            "marketingqualifiedlead",
        ),  # becomes qualified
        ({"score": "60", "label": "A1", "grade": "A", "qualified": "true"}, True, None),  # stays
        ({"score": "70", "label": "A1", "grade": "A", "qualified": "true"}, False, None),  # leaves
    ],
)
def test_plan_adds_the_stage_only_when_a_record_becomes_qualified(outputs, qualified, expected):
    change = plan_record(
        record(**outputs),
        result(qualified=qualified),
        min_points_change=3,
        scored_at=NOW,
        lifecycle_stage="marketingqualifiedlead",
    )
    assert change is not None
    assert change.new.get("lifecyclestage") == expected


def test_sync_moves_qualified_contacts_forward_and_never_back(tmp_path):
    sb = sandbox(300)
    try:
        contacts = sb.store.table("contacts")
        model = parse_model(with_stage("marketingqualifiedlead"), "m.yaml")
        conn = HubSpotConnector(HubSpotOptions(base_url=sb.url, access_token=SecretStr(sb.token)))
        assert conn.ensure_schema(
            "contact", output_fields(model.grades, model.labels), apply=True
        ).ok
        stages_before = {row.id: contacts.text(row, "lifecyclestage") for row in contacts.live()}
        store = StateStore.open(f"sqlite:///{tmp_path}/state.db", now=NOW)
        engine = Engine(store, conn, connection="hs", sleep=lambda s: True)
        engine.run("contact", model, RunOptions(full=True), now=NOW)
        order = [
            "subscriber",
            "lead",
            "marketingqualifiedlead",
            "salesqualifiedlead",
            "opportunity",
            "customer",
            "evangelist",
        ]
        moved = kept_later = 0
        for row in contacts.live():
            before, after = stages_before[row.id], contacts.text(row, "lifecyclestage")
            if contacts.text(row, "leadsync_qualified") == "true" and (
                before not in order or order.index(before) < 2
            ):
                assert after == "marketingqualifiedlead"
                moved += 1
            else:
                assert after == before
                if contacts.text(row, "leadsync_qualified") == "true":
                    kept_later += 1  # qualified, already past MQL: never downgraded
        assert (moved, kept_later) == EXPECTED_MOVES
    finally:
        sb.stop()
