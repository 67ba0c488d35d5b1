from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from config.model_loader import load_model, parse_model
from config.record_files import read_records
from revops.features import model_units, needs_trace, rule_activity
from scoring.types import Event, Record

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 4, 1, tzinfo=UTC)


def test_units_of_a_model_with_every_rule_kind():
    model = load_model(HERE / "data" / "every-kind.yaml")
    assert needs_trace(model)  # a group cap and event count bands
    assert [(u.key, u.points, u.sign) for u in model_units(model)] == [
        ("VP title", 25.0, 1),
        ("Any title", 5.0, 1),
        ("Employees [1-99]", 10.0, 1),
        ("Employees [100+]", 35.0, 1),
        ("Free email", -10.0, -1),
        ("Pricing page", 20.0, 1),
        ("Email opens [1-2]", 4.0, 1),
        ("Email opens [3+]", 8.0, 1),
        ("Recent visit [within 7d]", 10.0, 1),
        ("Recent visit [within 30d]", 4.0, 1),
        ("Days since order", 5.0, 1),
        ("Webinar attended", 30.0, 1),
    ]


def test_unit_values_for_a_record_hitting_every_rule_kind():
    model = load_model(HERE / "data" / "every-kind.yaml")
    records = list(read_records(HERE / "data" / "every-kind.jsonl"))
    activity = rule_activity(model, records, NOW)
    values = dict(zip([u.key for u in activity.units], activity.matrix[0].tolist(), strict=True))
    # Pricing: 3 views aged 1, 11 and 2 days, half-life 10 days, capped at 30 points = 1.5 x 20.
    pricing_raw = 2 ** (-1 / 10) + 2 ** (-11 / 10) + 2 ** (-2 / 10)
    assert pricing_raw * 20 > 30
    assert values == pytest.approx(
        {
            "VP title": 1.0,
            "Any title": 0.0,  # skipped: first_match
            "Employees [1-99]": 0.0,
            # 35 points earned (the group cap of 30 applies later, not to the unit value)
            "Employees [100+]": 1.0,
            "Free email": 1.0,
            "Pricing page": 1.5,
            "Email opens [1-2]": 0.0,
            # 3 opens, newest 2 days old: 8 points x 2^(-2/10)
            "Email opens [3+]": 2 ** (-2 / 10),
            "Recent visit [within 7d]": 1.0,
            "Recent visit [within 30d]": 0.0,
            "Days since order": 4.0,  # 121 days: 4 steps of 30 days, 4 x 5 = 20 (its max)
            "Webinar attended": 2 ** (-20 / 20),
        }
    )
    assert activity.hits[1].tolist() == [False, True] + [False] * 10


def test_plain_scoring_and_the_trace_agree_when_contributions_suffice(tmp_path):
    model = load_model(HERE.parents[1] / "config/examples/models/bank-marketing.yaml")
    assert not needs_trace(model)
    lines = (HERE.parent / "data" / "bank-additional-full.csv").read_text().splitlines()
    sample = tmp_path / "sample.csv"
    sample.write_text("\n".join([lines[0], *lines[1::97]]) + "\n")
    records = list(read_records(sample))
    fast = rule_activity(model, records, NOW, traced=False)
    slow = rule_activity(model, records, NOW, traced=True)
    assert np.array_equal(fast.matrix, slow.matrix)
    assert np.array_equal(fast.hits, slow.hits)
    assert fast.hits.any(axis=0).sum() >= 20


ACCOUNTS = HERE.parents[1] / "config/examples/models/hubspot-companies.yaml"


def person(pid, title, interest, *events):
    return Record(pid, "contact", {"jobtitle": title}, events, None, {"interest": interest})


#: The example account model with a member-events roll-up (HubSpot's carry no URL to test).
VISITS = "    - {name: Recent visits, event: page_view, within_days: 30, points: 4, max: 20}\n"


@pytest.mark.parametrize("traced", [False, True])
def test_roll_up_units_of_an_account_model(traced):
    text = ACCOUNTS.read_text(encoding="utf-8")
    anchor = "    - name: Buying committee\n"
    assert text.count(anchor) == 1
    model = parse_model(text.replace(anchor, VISITS + anchor), str(ACCOUNTS))
    assert [u.key for u in model_units(model)][-5:] == [
        "Hottest people",
        "Recent visits",
        "Buying committee [2-2]",
        "Buying committee [3-4]",
        "Buying committee [5+]",
    ]
    members = (
        person("1", "VP Sales", "60", Event("page_view", NOW, {"url": "/pricing"})),
        person("2", "Engineer", "30", Event("page_view", NOW - timedelta(days=3))),
        person("3", "Analyst", "", Event("form_submission", NOW - timedelta(days=5))),
    )
    account = Record("c1", "company", {}, (), None, {}, members)
    quiet = Record("c2", "company", {}, (), None, {}, (person("4", "CEO", "10"),))
    activity = rule_activity(model, [account, quiet], NOW, traced=traced)
    values = dict(zip([u.key for u in activity.units], activity.matrix[0].tolist(), strict=True))
    # top 3 interest x role weight: (60x2 + 30 + 0) / 3 = 50 (x 0.6 = 30 points)
    assert values["Hottest people"] == pytest.approx(50.0)
    # a view today by a decision maker (4 points x weight 2) and one 3 days ago by an engineer
    # (4 points): 12 points, value 3
    assert values["Recent visits"] == pytest.approx(3.0)
    # engaged within 14 days, counted by role: 2 + 1 + 1 = 4 -> the 3-4 band
    assert [values[f"Buying committee [{b}]"] for b in ("2-2", "3-4", "5+")] == [0.0, 1.0, 0.0]
    quiet_hits = dict(zip([u.key for u in activity.units], activity.hits[1].tolist(), strict=True))
    assert [k for k, hit in quiet_hits.items() if hit and k in values] == ["Hottest people"]


def test_a_band_without_a_lower_bound_is_named_at_most_not_as_a_negative_number():
    model = parse_model(
        "name: m\nobject: contact\ninterest:\n  rules:\n    - name: Calls\n      property: calls\n"
        "      bands: [{max: 1, points: 5}, {min: 4, max: 7, points: -5}, {min: 8, points: -15}]\n"
    )
    assert [u.key for u in model_units(model)] == [
        "Calls [<=1]", "Calls [4-7]", "Calls [8+]",
    ]  # fmt: skip
