import math

import pytest

from revops import evaluation as ev


@pytest.mark.parametrize(
    ("scores", "outcomes", "expected"),
    [
        ([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [1, 1, 0, 1, 0, 0], 8 / 9),
        ([1, 2, 3, 4], [1, 1, 0, 0], 0.0),
        ([4, 3, 2, 1], [1, 1, 0, 0], 1.0),
        # A tie between a converted and another record counts one half.
        ([1, 1, 0], [1, 0, 0], 0.75),
        ([5, 5, 5, 5], [1, 0, 1, 0], 0.5),
        ([3, 2, 1], [1, 1, 1], None),
        ([], [], None),
    ],
)
def test_roc_auc(scores, outcomes, expected):
    assert ev.roc_auc(scores, [bool(o) for o in outcomes]) == expected


def test_lift_per_decile_of_distinct_scores():
    scores = list(range(1, 21))
    converted = {20, 19, 18, 11, 5}
    outcomes = [s in converted for s in scores]
    rows = ev.lift_by_decile(scores, outcomes)
    assert [(r.name, r.count, r.converted) for r in rows] == [
        ("1", 2, 2), ("2", 2, 1), ("3", 2, 0), ("4", 2, 0), ("5", 2, 1),
        ("6", 2, 0), ("7", 2, 0), ("8", 2, 1), ("9", 2, 0), ("10", 2, 0),
    ]  # fmt: skip
    assert [r.lift for r in rows] == [4.0, 2.0, 0.0, 0.0, 2.0, 0.0, 0.0, 2.0, 0.0, 0.0]
    assert (rows[0].low, rows[0].high, rows[9].low, rows[9].high) == (19.0, 20.0, 1.0, 2.0)
    assert ev.cumulative_gains(rows) == [0.4, 0.6, 0.6, 0.6, 0.8, 0.8, 0.8, 1.0, 1.0, 1.0]


def test_tied_scores_are_split_into_deciles_by_rank():
    scores = [9, 9, 9, 8, 7, 6, 5, 4, 3, 2]
    assert ev.decile_of(scores).tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    rows = ev.lift_by_decile(scores, [True, False, False, True] + [False] * 6)
    assert [r.count for r in rows] == [1] * 10
    assert [r.converted for r in rows] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert ev.shared_scores(rows) == [(9.0, ("1", "2", "3"))]


def test_many_ties_leave_no_decile_empty_and_order_ties_by_record_id():
    # 95 records at 0 and 5 at 50 (the usual shape of a properties-only model on sparse data).
    scores = [0.0] * 95 + [50.0] * 5
    ids = [str(1000 - i) for i in range(100)]  # ids fall while the input order rises
    outcomes = [i % 10 == 0 for i in range(100)]
    deciles = ev.decile_of(scores, ids=ids)
    assert [int((deciles == d).sum()) for d in range(1, 11)] == [10] * 10
    # Decile 1: the five 50s, then the five zeros with the smallest ids ("906".."910").
    top = sorted(ids[i] for i in range(100) if deciles[i] == 1)
    assert top == ["901", "902", "903", "904", "905", "906", "907", "908", "909", "910"]
    rows = ev.lift_by_decile(scores, outcomes, ids=ids)
    assert [(r.count, r.low, r.high) for r in rows] == [(10, 0.0, 50.0)] + [(10, 0.0, 0.0)] * 9
    assert [r.converted for r in rows] == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert ev.shared_scores(rows) == [(0.0, tuple(str(d) for d in range(1, 11)))]
    assert ev.tie_note(rows) == (
        "the score 0 spans deciles 1-10: records with the same score are split between "
        "deciles by rank (record id), so their difference in conversion is chance, not score"
    )


def test_numeric_ids_order_ties_numerically_and_fewer_records_than_deciles():
    assert ev.decile_of([1.0, 1.0, 1.0], bins=3, ids=["10", "9", "x"]).tolist() == [2, 1, 3]
    rows = ev.lift_by_decile([3.0, 2.0, 1.0], [True, False, False])
    assert [r.count for r in rows] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    assert ev.tie_note(rows) is None
    with pytest.raises(ValueError, match="2 ids for 3 scores"):
        ev.decile_of([1.0, 2.0, 3.0], ids=["a", "b"])


def test_conversion_by_label_keeps_model_order_and_adds_unknown_labels():
    labels = ["A1", "B2", "A1", "Z9", "B2", "B2"]
    outcomes = [True, False, True, False, True, False]
    rows = ev.conversion_by_label(labels, outcomes, order=["A1", "A2", "B2"])
    assert [(r.name, r.count, r.converted, r.rate, r.lift) for r in rows] == [
        ("A1", 2, 2, 1.0, 2.0),
        ("A2", 0, 0, None, None),
        ("B2", 3, 1, 1 / 3, 2 / 3),
        ("Z9", 1, 0, 0.0, 0.0),
    ]


def test_qualification_precision_and_recall():
    q = ev.qualification([True, True, True, False, False], [True, False, True, True, False])
    assert q == ev.Qualification(
        qualified=3, converted=3, true_positives=2, precision=2 / 3, recall=2 / 3
    )
    none = ev.qualification([False, False], [False, True])
    assert (none.precision, none.recall) == (None, 0.0)


def test_calibration_table_fixed_bands_last_one_closed():
    scores = [5, 15, 15, 95, 100, 100, 42]
    outcomes = [False, True, False, True, True, False, False]
    rows = ev.calibration_table(scores, outcomes)
    # whole-number scores: each band named by the scores it holds, as the sync's distribution
    assert [r.name for r in rows] == [f"{lo}-{lo + 9}" for lo in range(0, 90, 10)] + ["90-100"]
    filled = [(r.name, r.count, r.converted, r.rate) for r in rows if r.count]
    assert filled == [
        ("0-9", 1, 0, 0.0),
        ("10-19", 2, 1, 0.5),
        ("40-49", 1, 0, 0.0),
        ("90-100", 3, 2, 2 / 3),
    ]
    assert rows[9].mean_score == pytest.approx(295 / 3)
    assert rows[1].lift == pytest.approx(0.5 / (3 / 7))


def test_calibration_table_names_bands_by_bounds_for_fractional_scores():
    rows = ev.calibration_table([9.5, 10.0, 99.5], [False, True, True])
    filled = [(r.name, r.count) for r in rows if r.count]
    assert filled == [("0-10", 1), ("10-20", 1), ("90-100", 1)]


def test_inversions_only_between_well_populated_bands():
    rows = [
        ev.Bucket("0-10", 100, 5, 0.05, None),
        ev.Bucket("10-20", 100, 3, 0.03, None),
        ev.Bucket("20-30", 5, 0, 0.0, None),
        ev.Bucket("30-40", 100, 20, 0.2, None),
    ]
    assert ev.inversions(rows) == [("0-10", "10-20")]


def test_rule_lift_with_support_and_direction():
    outcomes = [True, True, False, True, False, False, False, False]
    fired = {
        "Demo request": [True, True, True, False, False, False, False, False],
        "Careers page": [False, False, False, False, True, True, False, False],
        "Everyone": [True] * 8,
    }
    rows = {
        r.rule: r for r in ev.rule_lifts(fired, outcomes, {"Demo request": 1, "Careers page": 1})
    }
    demo = rows["Demo request"]
    assert (demo.support, demo.support_share, demo.rate_with, demo.rate_without) == (
        3, 0.375, 2 / 3, 1 / 5,
    )  # fmt: skip
    assert demo.lift == pytest.approx(10 / 3)
    assert not demo.contradicts
    careers = rows["Careers page"]
    assert (careers.lift, careers.contradicts) == (0.0, True)
    assert rows["Everyone"].lift is None and rows["Everyone"].rate_without is None


def test_rule_that_fires_only_on_converted_records_has_infinite_lift():
    (row,) = ev.rule_lifts({"r": [True, False]}, [True, False], {"r": -1})
    assert row.lift == math.inf
    assert row.contradicts
