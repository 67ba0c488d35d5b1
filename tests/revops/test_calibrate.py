import textwrap
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from cli.main import main
from config.model_loader import load_model, parse_model
from config.record_files import read_records
from revops.calibrate import Target, calibrate
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
                 "--out", str(hand)]) == 2  # fmt: skip
    assert main(["calibrate", "--model", str(hand), "--input", str(data), "--outcome", "won",
                 "--out", str(out), "--capacity", "50"]) == 2  # fmt: skip
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
