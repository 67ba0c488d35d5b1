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
