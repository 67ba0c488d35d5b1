import itertools
import textwrap
from datetime import UTC, datetime

from config.model_loader import parse_model
from revops.preview import compare, render
from scoring import score
from scoring.types import Record

LIVE = textwrap.dedent(
    """\
    name: live
    object: contact
    fit:
      rules:
        - {name: VP, if: {title: vp}, points: 60}
        - {name: Big company, if: {size: {gte: 100}}, points: 40}
    interest:
      rules:
        - {name: Opens, property: opens, bands: [{min: 1, points: 50}]}
    combine: {fit: 0.5, interest: 0.5}
    grades:
      fit: {A: 75, B: 50, C: 25, D: 0}
      interest: {"1": 50, "2": 25, "3": 0}
    qualify:
      enter: {score: {gte: 50}}
    """
)
NOW = datetime(2026, 5, 1, tzinfo=UTC)


def population() -> list[Record]:
    combos = itertools.product(("vp", "engineer"), ("500", "10"), ("3", "0"))
    return [
        Record(f"r{i}", "contact", {"title": t, "size": s, "opens": o})
        for i, (t, s, o) in enumerate(combos, start=1)
    ]


def test_preview_counts_a_deliberately_changed_rule():
    live = parse_model(LIVE)
    candidate = parse_model(
        LIVE.replace("name: live", "name: candidate").replace("points: 60", "points: 30")
    )
    pv = compare(population(), live, candidate, now=NOW, source="test", samples=3)
    assert pv.records == 8
    assert (pv.label_changed, pv.grade_changed) == (4, 4)
    assert (pv.newly_qualified, pv.unqualified) == (0, 2)
    assert pv.scores_before == [75.0, 50.0, 55.0, 30.0, 45.0, 20.0, 25.0, 0.0]
    assert pv.scores_after == [60.0, 35.0, 40.0, 15.0, 45.0, 20.0, 25.0, 0.0]
    moves = {k: v for k, v in pv.transitions.items() if k[0] != k[1]}
    assert moves == {("A1", "B1"): 1, ("A3", "B3"): 1, ("B1", "C1"): 1, ("B3", "C3"): 1}
    [shift] = pv.rule_shifts
    # Means over all 8 records: 4 VPs at 60 points, then at 30.
    assert (shift.rule, shift.before, shift.after, shift.delta, shift.records) == (
        "VP", 30.0, 15.0, -15.0, 4,
    )  # fmt: skip
    assert [s.record_id for s in pv.samples["no longer qualified"]] == ["r2", "r3"]
    assert pv.samples["newly qualified"] == []
    assert [(s.record_id, s.delta) for s in pv.samples["largest falls"]] == [
        ("r1", -15), ("r2", -15), ("r3", -15),
    ]  # fmt: skip
    assert pv.samples["no longer qualified"][0].before.startswith("50 A3 qualified")
    text = render(pv)
    assert "label changes 4  grade changes 4  newly qualified 0  no longer qualified 2" in text
    assert "A1 -> B1" in text
    rule_table = [line for line in text.splitlines() if line.startswith(("rule", "VP"))]
    assert rule_table == [
        "rule  mean points per record, live  candidate  change  records whose points changed",
        "VP                           30.00      15.00  -15.00                             4",
    ]


def test_previous_results_drive_hysteresis_for_both_models():
    hysteresis = "enter: {score: {gte: 50}}\n  exit: {score: {lt: %d}}"
    live = parse_model(LIVE.replace("enter: {score: {gte: 50}}", hysteresis % 10))
    candidate = parse_model(
        LIVE.replace("points: 60", "points: 30").replace(
            "enter: {score: {gte: 50}}", hysteresis % 20
        )
    )
    r4 = population()[3]  # live score 30, candidate score 15
    was_qualified = score(population()[0], live, NOW)
    assert was_qualified.qualified
    with_state = compare([r4], live, candidate, now=NOW, previous={"r4": was_qualified}, source="t")
    fresh = compare([r4], live, candidate, now=NOW, source="t")
    assert (with_state.unqualified, with_state.newly_qualified) == (1, 0)
    assert (fresh.unqualified, fresh.newly_qualified) == (0, 0)
