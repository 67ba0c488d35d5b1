import html
import itertools
import math
import re
import textwrap
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cli.main import main
from config.model_loader import load_model, parse_model
from config.record_files import read_records
from revops import backtest
from revops import html_report as report
from revops.calibrate import Target, calibrate, zeroed_note
from revops.ladder import MIN_GRADE_SHARE, grade_shares, threshold_ladder, threshold_ladders
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
    # The HTML reports say it too, with the point in time of the records (no history in a file).
    no_history = (
        "No property history read: every property is its value at export time, which may have "
        "changed after the outcome."
    )
    page = html.unescape(report.backtest_report(backtest.run(labelled, model, outcome="won")))
    assert "<h2>Leakage warnings</h2>" in page
    assert "lead_quality: the name says sales sets it: a quality" in page
    assert "Rules reading a flagged property: Good quality." in page
    assert no_history in page
    page = html.unescape(report.calibration_report(cal))
    assert f"Leaky rule Good quality: 5 -> {leak.after:g} points; --exclude-leaky drops it." in page
    assert no_history in page
    page = html.unescape(report.calibration_report(dropped))
    assert "Leaky rule Good quality: dropped with --exclude-leaky (0 points)." in page


@given(
    points=st.sampled_from([-20.0, -5.0, 5.0, 30.0]),
    rate_with=st.floats(0, 1, allow_nan=False),
    rate_without=st.floats(0, 1, allow_nan=False),
)
@example(points=5.0, rate_with=0.4361, rate_without=0.4364)  # both shown as 43.6%
def test_zeroed_notes_agree_with_their_figures(points, rate_with, rate_without):
    note = zeroed_note("R", points, rate_with, rate_without)
    pattern = r"converts ([\d.]+)% when it fires, ([\d.]+)% otherwise"
    shown_with, shown_without = (float(x) for x in re.findall(pattern, note)[0])
    assert shown_with == round(100 * rate_with, 1) and shown_without == round(100 * rate_without, 1)
    # The words are checked against the figures as the reader sees them.
    agrees = (shown_with > shown_without) == (points > 0)
    if shown_with == shown_without:
        assert "no difference on its own" in note
    elif agrees:
        assert "points the way it is written" in note and "other way" not in note
    else:
        assert "the data points the other way" in note and "the way it is written" not in note
    assert note.startswith(f"R: written as a {'bonus' if points > 0 else 'penalty'} ({points:+g})")


def _skewed(draw_zero_share, spread):
    """Scores with `draw_zero_share` of the records at 0 and the rest drawn by `spread`."""
    return st.tuples(draw_zero_share, spread).map(lambda t: [0] * t[0] + t[1])


SKEWED = st.one_of(
    st.lists(st.integers(0, 100), min_size=40, max_size=400),
    # most records at 0 interest, a thin tail (the Salesforce sandbox's leads: 80% at 0)
    _skewed(st.integers(150, 600), st.lists(st.integers(1, 100), min_size=1, max_size=120)),
    # a lump just above 0 and a few high scorers
    _skewed(
        st.integers(0, 300),
        st.tuples(
            st.integers(1, 3), st.integers(10, 200), st.lists(st.integers(4, 100), max_size=40)
        ).map(lambda t: [t[0]] * t[1] + t[2]),
    ),
    # a handful of distinct values, each a big lump
    st.lists(st.sampled_from([0, 6, 7, 40, 90]), min_size=20, max_size=300),
)


@given(SKEWED, st.sampled_from([("A", "B", "C", "D"), ("1", "2", "3"), ("A", "B")]))
def test_every_proposed_level_holds_a_real_share_or_is_left_out(scores, names):
    """README: each grade holds at least 5% of the records, so no two thresholds sit a point
    apart with nobody between them; a distribution that cannot fill them gets fewer levels."""
    ladder = threshold_ladders(np.asarray(scores, dtype=float), names)[0]
    kept = list(ladder.thresholds)
    values = list(ladder.thresholds.values())
    assert kept == [n for n in names if n not in ladder.left_out] and kept[-1] == names[-1]
    assert values == sorted(set(values), reverse=True) and values[-1] == 0
    shares = grade_shares(scores, list(ladder.thresholds.items()))
    assert list(ladder.shares) == shares
    assert min(shares) >= MIN_GRADE_SHARE - 1e-9
    more = len(kept) + 1
    distinct = sorted({s for s in scores if s > 0}, reverse=True)
    if ladder.left_out and math.comb(len(distinct), more - 1) <= 5000:
        # no ladder of one more level would have held 5% in each
        for cut in itertools.combinations(distinct, more - 1):
            ladder_more = dict(zip(map(str, range(more)), [*cut, 0], strict=True))
            assert min(grade_shares(scores, list(ladder_more.items()))) < MIN_GRADE_SHARE - 1e-9


def test_mostly_zero_interest_gets_three_real_tiers_not_one_a_point_apart():
    """The Salesforce sandbox's interest (calibrate proposed 1 >= 6, 2 >= 5: 2 in tier 2)."""
    scores = [0] * 1673 + [1] * 14 + [6] * 188 + list(range(7, 95)) * 2 + [50] * 49
    ladder = threshold_ladders(np.asarray(scores, dtype=float), ("1", "2", "3"))[0]
    assert ladder.thresholds == {"1": 7.0, "2": 1.0, "3": 0.0}
    assert [round(s, 4) for s in ladder.shares] == [0.1071, 0.0962, 0.7967]
    assert ladder.left_out == ()


def test_interest_nobody_earns_gets_one_tier_and_says_so():
    scores = [0] * 190 + [30] * 6 + [70] * 4
    ladder = threshold_ladders(np.asarray(scores, dtype=float), ("1", "2", "3"))[0]
    assert ladder.thresholds == {"1": 30.0, "3": 0.0}
    assert ladder.left_out == ("2",)
    assert [round(s, 3) for s in ladder.shares] == [0.05, 0.95]
    single = threshold_ladders(np.asarray([0] * 99 + [5], dtype=float), ("1", "2", "3"))
    assert single[0].thresholds == {"3": 0.0} and single[0].left_out == ("1", "2")


def test_lumpy_scores_get_grades_far_enough_apart():
    scores = [28] * 30 + [26] * 30 + [60] * 10 + [40] * 20 + list(range(0, 25)) * 2
    ladder = threshold_ladder(np.asarray(scores, dtype=float), ("A", "B", "C", "D"))
    shares = grade_shares(scores, list(ladder.items()))
    assert all(s >= MIN_GRADE_SHARE for s in shares)
    assert ladder == {"A": 60.0, "B": 40.0, "C": 26.0, "D": 0.0}


def _csv(path: Path, records: list[Record]) -> Path:
    columns = ["a", "b", "c", "visits", "won", "created"]
    path.write_text(
        "\n".join(
            [",".join(columns)]
            + [",".join(str(r.properties.get(k, "")) for k in columns) for r in records]
        )
    )
    return path


def _few_visitors(n: int) -> list[Record]:
    """`synthetic` with 92% of the records never visiting, created one a day from 2024-01-01."""
    out = []
    for i, r in enumerate(synthetic(n)):
        props = dict(r.properties)
        if i % 100 >= 8:
            props["visits"] = "0"
        props["created"] = (date(2024, 1, 1) + timedelta(days=i)).isoformat()
        out.append(replace(r, properties=props))
    return out


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_interest_few_earn_gets_fewer_tiers_and_the_summary_says_so(tmp_path, capsys):
    hand = tmp_path / "hand.yaml"
    hand.write_text(HAND)
    data = _csv(tmp_path / "data.csv", _few_visitors(1000))
    out = tmp_path / "new.yaml"
    code, text, _ = _run(["calibrate", "--model", str(hand), "--input", str(data),
                          "--outcome", "won", "--out", str(out)], capsys)  # fmt: skip
    assert code == 0
    assert (
        "Interest tiers: 1 >= 19, 3 >= 0 (holding 7.3%, 92.7% of records; aimed at shares "
        "growing 1:2:3..., best first). Tier 2 left out: these scores cannot fill 3 tiers "
        "holding at least 5% of records each.\n"
    ) in text
    assert load_model(out).spec.tiers == (("1", 19.0), ("3", 0.0))


def test_a_tier_the_kept_qualify_section_names_is_not_the_one_left_out(tmp_path, capsys):
    hand = tmp_path / "hand.yaml"
    hand.write_text(HAND.replace("enter: {score: {gte: 30}}", "enter: {tier: ['1']}"))
    data = _csv(tmp_path / "data.csv", _few_visitors(1000))
    out = tmp_path / "new.yaml"
    code, text, _ = _run(["calibrate", "--model", str(hand), "--input", str(data),
                          "--outcome", "won", "--out", str(out), "--target-precision", "0.99"],
                         capsys)  # fmt: skip
    assert code == 0
    assert "No score threshold reaches a precision of 99%; the qualify section is unchanged." in (
        text
    )
    assert load_model(out).spec.tiers == (("1", 19.0), ("3", 0.0))
    hand.write_text(HAND.replace("enter: {score: {gte: 30}}", "enter: {tier: ['2']}"))
    code, text, _ = _run(["calibrate", "--model", str(hand), "--input", str(data),
                          "--outcome", "won", "--out", str(out), "--target-precision", "0.99",
                          "--force"], capsys)  # fmt: skip
    assert code == 0
    assert "Interest tiers: 2 >= 19, 3 >= 0 (holding 7.3%, 92.7% of records; " in text
    assert "Tier 1 left out: these scores cannot fill 3 tiers" in text
    assert load_model(out).spec.tiers == (("2", 19.0), ("3", 0.0))


def test_a_capacity_above_arrivals_does_not_qualify_everyone(tmp_path, capsys):
    hand = tmp_path / "hand.yaml"
    hand.write_text(HAND)
    data = _csv(tmp_path / "data.csv", _few_visitors(1000))
    out = tmp_path / "new.yaml"
    base = ["calibrate", "--model", str(hand), "--input", str(data), "--outcome", "won",
            "--out", str(out), "--force", "--capacity", "50"]  # fmt: skip
    code, text, _ = _run([*base, "--created-column", "created"], capsys)
    assert code == 0
    assert (
        "Qualify when score >= 34 (leave below 25), chosen for the best balance of precision "
        "and recall (F1): about 32.1% of records.\n"
        "The capacity does not bind (at most 50 qualified per week of about 7.0 arrivals): by "
        "itself it would qualify every record.\n"
    ) in text
    assert load_model(out).spec.qualify is not None
    assert "enter: {score: {gte: 34}}\n  exit: {score: {lt: 25}}" in out.read_text()
    code, same, _ = _run([*base, "--date-column", "created"], capsys)
    assert code == 0 and "of about 7.0 arrivals" in same
    code, text, err = _run(base, capsys)
    assert code == 2 and text == ""
    assert err == (
        "error: --capacity needs the number of records arriving per week: pass --arrivals N, or "
        "--date-column COLUMN with each record's creation date\n"
    )
    code, text, err = _run([*base, "--arrivals", "7", "--target-precision", "0.5"], capsys)
    assert (code, err) == (2, "error: give --target-precision or --capacity, not both\n")
