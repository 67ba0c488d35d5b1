import pytest

from revops import leakage


def test_known_post_outcome_fields_are_flagged_with_a_reason():
    fields = ["jobtitle", "dealstage", "duration", "Status", "hs_lead_status", "tags", "y",
              "IsConverted", "numemployees", "hs_email_open"]  # fmt: skip
    warnings = {w.subject: w for w in leakage.post_outcome_fields(fields, outcome="y")}
    assert sorted(warnings) == sorted(
        ["dealstage", "duration", "Status", "hs_lead_status", "tags", "y", "IsConverted"]
    )
    assert warnings["y"].kind == "outcome_column"
    assert warnings["duration"].kind == "post_outcome_field"
    assert (
        "call duration is only known once the sales call is over"
        in warnings["duration"].explanation
    )
    assert "deal stage" in warnings["dealstage"].explanation


@pytest.mark.parametrize(
    ("values", "outcomes", "expected"),
    [
        # Numbers that rank the outcome perfectly, in either direction.
        ([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1], 1.0),
        (["6", "5", "4", "3", "2", "1"], [0, 0, 0, 1, 1, 1], 1.0),
        # Missing values are left out of a numeric field.
        ([1, None, 2, "", 3, 4], [0, 1, 0, 0, 1, 1], 1.0),
        # A unique value per record cannot look predictive.
        ([f"id-{i}" for i in range(10)], [1, 0] * 5, 0.5),
    ],
)
def test_field_separation(values, outcomes, expected):
    assert leakage.field_separation(values, [bool(o) for o in outcomes]) == expected


def test_categorical_field_that_is_the_outcome_separates_perfectly():
    outcomes = [i % 3 == 0 for i in range(30)]
    stage = ["closedwon" if o else "open" for o in outcomes]
    industry = [("tech", "retail", "bank", "gov")[i % 4] for i in range(30)]
    flagged = leakage.separating_fields({"stage": stage, "industry": industry}, outcomes)
    assert [(w.subject, w.kind, w.auc) for w in flagged] == [("stage", "separates_outcomes", 1.0)]


def test_rule_that_fires_exactly_on_converters_is_flagged():
    outcomes = [True] * 5 + [False] * 45
    fired = {
        "Stage is won": outcomes,
        "Mostly converters": [True] * 4 + [False] + [True] * 5 + [False] * 40,
    }
    flagged = leakage.separating_rules(fired, outcomes)
    assert [(w.subject, w.auc) for w in flagged] == [("rule 'Stage is won'", 1.0)]


def test_implausibly_good_model():
    assert leakage.implausible_model(0.8) == []
    assert leakage.implausible_model(None) == []
    (warning,) = leakage.implausible_model(0.99)
    assert (warning.kind, warning.auc) == ("too_good", 0.99)
    assert str(warning).startswith("model (AUC 0.990): the model ranks")


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        ("Lead Quality", True),
        ("lead_quality", True),
        ("LeadQuality", True),
        ("Tags", True),
        ("Lost Reason", True),
        ("Call Disposition", True),
        ("Deal Stage Name", True),
        ("Lead Origin", False),
        ("Total Time Spent on Website", False),
        ("Country", False),
    ],
)
def test_names_that_say_sales_sets_the_value(name, flagged):
    warnings = leakage.post_outcome_fields([name])
    assert bool(warnings) == flagged
    if flagged and warnings[0].kind == "sales_field":
        assert warnings[0].explanation.startswith("the name says sales sets it: ")


def test_a_field_filled_mostly_for_converted_records_is_flagged_whatever_its_name():
    outcomes = [i % 4 == 0 for i in range(80)]
    # "Labels": a renamed tags column, filled in by sales for most of the deals they won
    labels = ["Will revert" if o and i % 8 == 0 else ("Closed" if o else "") for i, o in
              enumerate(outcomes)]  # fmt: skip
    sizes = [str(10 + (i * 7) % 50) for i in range(80)]
    flagged = leakage.separating_fields({"Labels": labels, "Size": sizes}, outcomes)
    assert [(w.subject, w.kind) for w in flagged][:1] == [("Labels", "filled_for_converted")]
    assert "filled for 100% of converted records but only 0% of the others" in str(flagged[0])


def test_a_field_far_ahead_of_every_other_is_an_outlier():
    import random

    rng = random.Random(3)
    outcomes = [rng.random() < 0.3 for _ in range(400)]
    strong = [(1.0 if o else 0.0) + rng.random() * 2.0 for o in outcomes]  # AUC about 0.85
    weak = [rng.random() + (0.1 if o else 0.0) for o in outcomes]
    other = [rng.random() for _ in outcomes]
    flagged = leakage.separating_fields({"Score": strong, "a": weak, "b": other}, outcomes)
    assert [(w.subject, w.kind) for w in flagged] == [("Score", "outlier")]
    assert flagged[0].auc is not None and 0.8 <= flagged[0].auc < 0.95


def test_history_that_shows_values_set_after_the_outcome():
    flagged = leakage.set_after_outcome({"Status": (40, 50), "Title": (3, 50), "x": (0, 0)})
    assert [(w.subject, w.kind) for w in flagged] == [("Status", "set_after_outcome")]
    assert "empty before the outcome or set by it for 40 of 50 converted records" in str(flagged[0])


def test_rules_reading_flagged_properties():
    warnings = leakage.post_outcome_fields(["Status", "Title"]) + leakage.separating_rules(
        {"Won": [True, False]}, [True, False]
    )
    rules = {"Working": frozenset({"Status"}), "VP": frozenset({"Title"}), "Won": frozenset()}
    found = leakage.rules_reading(rules, warnings)
    assert sorted(found) == ["Won", "Working"]
    assert found["Working"][0].subject == "Status"
