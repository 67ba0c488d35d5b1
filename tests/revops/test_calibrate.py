import re
import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.main import main
from config.model_loader import load_model, parse_model
from config.record_files import read_records
from revops.calibrate import (
    MIN_GRADE_SHARE,
    Target,
    calibrate,
    grade_shares,
    threshold_ladder,
    zeroed_note,
)
from revops.outcomes import label
from scoring.types import Record

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

# Hand-written points in the wrong proportions, and one bonus the data contradicts.
HAND = textwrap.dedent(
    """\
    name: synthetic
    object: contact
    fit:
      rules:
        - {name: Strong signal, if: {a: "yes"}, points: 5}
        - {name: Weak signal, if: {b: "yes"}, points: 40}
        - {name: Looks good but is not, if: {c: "yes"}, points: 20}
    interest:
      rules:
        - name: Visits
          property: visits
          bands:
            - {min: 1, max: 4, points: 10}
            - {min: 5, points: 30}
    qualify:
      enter: {score: {gte: 30}}
    """
)


def synthetic(n: int = 3000, seed: int = 11) -> list[Record]:
    rng = np.random.default_rng(seed)
    a, b, c = (rng.random(n) < p for p in (0.3, 0.4, 0.3))
    visits = rng.integers(0, 9, n)
    logit = -3.0 + 2.0 * a + 0.3 * b - 0.8 * c + 0.25 * visits
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    yn = ("no", "yes")
    return [
        Record(
            str(i),
            "contact",
            {
                "a": yn[int(a[i])],
                "b": yn[int(b[i])],
                "c": yn[int(c[i])],
                "visits": str(visits[i]),
                "won": yn[int(won[i])],
            },
        )
        for i in range(n)
    ]


def test_calibration_improves_held_out_auc_and_keeps_signs():
    model = parse_model(HAND)
    labelled = label(synthetic(), outcome="won", default_now=NOW)
    cal = calibrate(
        HAND, model, labelled, Target(precision=0.5), source="hand.yaml", out_name="new.yaml"
    )
    assert cal.auc_after > cal.auc_before + 0.03
    assert len(cal.fold_auc_after) == 5
    points = {c.rule: c.after for c in cal.changes}
    assert points["Strong signal"] > points["Weak signal"] > 0
    assert points["Looks good but is not"] == 0.0  # a bonus never turns into a penalty
    assert points["Visits [5+]"] > points["Visits [1-4]"] > 0
    assert cal.zeroed == ("Looks good but is not",)
    assert any(n.startswith("Looks good but is not: written as a bonus (+20)") for n in cal.notes)
    proposed = parse_model(cal.text)
    assert proposed.spec.qualify is not None
    assert "precision" in " ".join(cal.threshold_notes)
    assert cal.diff.startswith("--- hand.yaml\n+++ new.yaml\n")
    # The best record of the data reaches the fit cap; combine weights follow the log-odds reach.
    assert sum(p for r, p in points.items() if r != "Visits [1-4]" and r != "Visits [5+]") == 100
    assert proposed.spec.weights[0] + proposed.spec.weights[1] == pytest.approx(1.0)


def test_capacity_sets_the_share_qualified(tmp_path, capsys):
    hand = tmp_path / "hand.yaml"
    hand.write_text(HAND)
    data = tmp_path / "data.csv"
    records = synthetic(1000)
    columns = ["a", "b", "c", "visits", "won"]
    data.write_text(
        "\n".join(
            [",".join(columns)] + [",".join(str(r.properties[k]) for k in columns) for r in records]
        )
    )
    out = tmp_path / "new.yaml"
    code = main([
        "calibrate", "--model", str(hand), "--input", str(data), "--outcome", "won",
        "--out", str(out), "--capacity", "50", "--per", "week", "--arrivals", "500",
    ])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0
    assert "chosen for at most 50 qualified per week of about 500 arrivals: about" in text
    share = float(text.split("arrivals: about ")[1].split("%")[0])
    assert 0 < share <= 10.0
    assert load_model(out).spec.qualify is not None
    assert main(["calibrate", "--model", str(hand), "--input", str(data), "--outcome", "won",
                 "--out", str(hand), "--force"]) == 2  # fmt: skip
    assert "is the current model" in capsys.readouterr().err
    written = out.read_text()
    assert main(["calibrate", "--model", str(hand), "--input", str(data), "--outcome", "won",
                 "--out", str(out)]) == 2  # fmt: skip
    assert f"{out} exists; pass --force to overwrite it" in capsys.readouterr().err
    assert out.read_text() == written
    assert main(["calibrate", "--model", str(hand), "--input", str(data), "--outcome", "won",
                 "--out", str(out), "--capacity", "50", "--force"]) == 2  # fmt: skip
    assert "--capacity needs the number of records arriving per week" in capsys.readouterr().err


def test_bank_model_reaches_the_published_auc_after_calibration(tmp_path):
    lines = (ROOT / "tests/data/bank-additional-full.csv").read_text().splitlines()
    sample = tmp_path / "bank.csv"
    sample.write_text("\n".join([lines[0], *lines[1::3]]) + "\n")
    path = ROOT / "config/examples/models/bank-marketing.yaml"
    model = load_model(path)
    labelled = label(list(read_records(sample)), outcome="y", default_now=NOW)
    cal = calibrate(
        path.read_text(), model, labelled, Target(), source=str(path), out_name="x", folds=3
    )
    assert cal.auc_before >= 0.77
    assert cal.auc_after >= 0.78
    assert cal.auc_after >= cal.auc_before


def test_leaky_rules_are_listed_and_dropped_with_exclude_leaky():
    text = HAND.replace(
        "    - {name: Looks good but is not,",
        "    - {name: Good quality, if: {lead_quality: High}, points: 5}\n"
        "    - {name: Looks good but is not,",
    )
    model = parse_model(text)
    records = [
        replace(r, properties={**r.properties, "lead_quality": "High" if i % 3 else "Low"})
        for i, r in enumerate(synthetic())
    ]
    labelled = label(records, outcome="won", default_now=NOW)
    cal = calibrate(text, model, labelled, Target(), source="m.yaml", out_name="p.yaml")
    (leak,) = cal.leaky
    assert (leak.rule, leak.before, leak.excluded) == ("Good quality", 5.0, False)
    assert leak.reasons[0].startswith("lead_quality: the name says sales sets it: a quality")
    dropped = calibrate(
        text, model, labelled, Target(), source="m.yaml", out_name="p.yaml", exclude_leaky=True
    )
    assert [(d.rule, d.after, d.excluded) for d in dropped.leaky] == [("Good quality", 0.0, True)]
    assert {c.rule: c.after for c in dropped.changes}["Good quality"] == 0.0


@given(
    points=st.sampled_from([-20.0, -5.0, 5.0, 30.0]),
    rate_with=st.floats(0, 1, allow_nan=False),
    rate_without=st.floats(0, 1, allow_nan=False),
)
def test_zeroed_notes_agree_with_their_figures(points, rate_with, rate_without):
    note = zeroed_note("R", points, rate_with, rate_without)
    pattern = r"converts ([\d.]+)% when it fires, ([\d.]+)% otherwise"
    shown_with, shown_without = (float(x) for x in re.findall(pattern, note)[0])
    assert shown_with == round(100 * rate_with, 1) and shown_without == round(100 * rate_without, 1)
    agrees = (rate_with > rate_without) == (points > 0)
    if rate_with == rate_without:
        assert "no difference on its own" in note
    elif agrees:
        assert "points the way it is written" in note and "other way" not in note
    else:
        assert "the data points the other way" in note and "the way it is written" not in note
    assert note.startswith(f"R: written as a {'bonus' if points > 0 else 'penalty'} ({points:+g})")


@given(
    st.lists(st.integers(0, 100), min_size=40, max_size=400),
)
def test_proposed_grades_are_distinct_and_each_holds_a_real_share(scores):
    ladder = threshold_ladder(np.asarray(scores, dtype=float), ("A", "B", "C", "D"))
    values = list(ladder.values())
    assert values == sorted(values, reverse=True) and len(set(values)) == 4 and values[-1] == 0
    shares = grade_shares(scores, list(ladder.items()))
    distinct = len(set(scores))
    if distinct >= 8 and all(scores.count(s) <= len(scores) * 0.05 for s in set(scores)):
        assert min(shares) >= MIN_GRADE_SHARE - 1e-9


def test_lumpy_scores_get_grades_far_enough_apart():
    scores = [28] * 30 + [26] * 30 + [60] * 10 + [40] * 20 + list(range(0, 25)) * 2
    ladder = threshold_ladder(np.asarray(scores, dtype=float), ("A", "B", "C", "D"))
    shares = grade_shares(scores, list(ladder.items()))
    assert all(s >= MIN_GRADE_SHARE for s in shares)
    assert ladder == {"A": 60.0, "B": 40.0, "C": 26.0, "D": 0.0}
