# ruff: noqa: E501  (test tables hold whole YAML lines and messages)
"""Account models (`object: company` / `account`): their language and its located errors."""

from __future__ import annotations

import pytest

from cli.main import main
from config.errors import ProblemsError
from config.model_loader import load_model, parse_model
from scoring.spec import Band, MembersSpec, RoleSpec, RollupSpec

ERRORS = [
    (
        "object: company\ninterest:\n  rules:\n    - {name: Visits, event: page_view, points: 5}\n",
        "m.yaml:5:29 interest.rules[0].event: an event rule can never fire on a company: a company "
        "has no activity of its own; roll its people's events up with a 'members.rollup' rule "
        "(event: ..., aggregate: ...)",
    ),
    (
        "object: contact\nfit:\n  rules:\n    - {name: A, if: {x: 1}, points: 1}\nmembers:\n  rollup:\n    - {name: R, score: interest}\n",
        "m.yaml:6:1 members: 'members' (roll-ups from an account's people) is for company and "
        "account models; a contact model scores people directly",
    ),
    (
        "object: company\nfit:\n  rules:\n    - {name: A, if: {account.grade: A}, points: 1}\n",
        "m.yaml:5:22 fit.rules[0].if.account.grade: 'account.' fields are for contact and lead "
        "rules; a company model reads its own properties",
    ),
    (
        "object: lead\nfit:\n  rules:\n    - {name: A, if: {account.grades: A}, points: 1}\n",
        "m.yaml:5:22 fit.rules[0].if.account.grades: unknown account field 'grades' (did you mean "
        "'grade'?); valid: account.fit, account.interest, account.score, account.grade, "
        "account.tier, account.label, account.qualified",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, score: interest, aggregate: top_mean}\n",
        "m.yaml:5:7 members.rollup[0]: 'aggregate: top_mean' needs 'top' (how many people to average)",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, score: interest, top: 3}\n",
        "m.yaml:5:34 members.rollup[0].top: 'top' applies to 'aggregate: top_mean' only",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, score: interest, aggregate: avg}\n",
        "m.yaml:5:45 members.rollup[0].aggregate: unknown aggregate 'avg'; valid: sum, max, top_mean",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, score: intrest}\n",
        "m.yaml:5:24 members.rollup[0].score: unknown member score 'intrest' (did you mean "
        "'interest'?); valid: fit, interest, score",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, score: interest, event: meeting}\n",
        "m.yaml:5:7 members.rollup[0]: a roll-up rule needs exactly one of 'score' (a member "
        "score), 'event' (an event type) or 'breadth' (people engaged)",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, breadth: {within_days: 14}}\n",
        "m.yaml:5:7 members.rollup[0]: a breadth roll-up needs 'bands' on the number of people",
    ),
    (
        "object: account\nfit:\n  rules:\n    - {name: R, if: {x: 1}, points: 1}\nmembers:\n  rollup:\n    - {name: R, score: interest}\n",
        "m.yaml:8:14 members.rollup[0].name: duplicate rule name 'R' (first used at line 5); "
        "names must be unique because reasons and changes refer to them",
    ),
    (
        "object: account\nmembers:\n  roles:\n    - {name: VP, if: {account.grade: A}, weight: 2}\n  rollup:\n    - {name: R, score: interest}\n",
        "m.yaml:5:23 members.roles[0].if.account.grade: a role tests the person's own "
        "properties, not 'account.' fields",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, event: meeting}\n",
        "m.yaml:5:7 members.rollup[0]: an event roll-up needs 'points' (per occurrence)",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, score: interest, bands: [{min: 1, points: 2}]}\n",
        "m.yaml:5:34 members.rollup[0].bands: 'bands' does not apply to a score roll-up (it "
        "takes: score, model, points, aggregate, top, max)",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, breadth: {within_days: 14, events: [meetin]}, bands: [{min: 1, points: 2}]}\n",
        "m.yaml:5:53 members.rollup[0].breadth.events[0]: unknown event type 'meetin' (did you "
        "mean 'meeting'?); valid: page_view, form_submission, email_open, email_click, "
        "email_reply, meeting, call, campaign_response",
    ),
    (
        "object: account\nmembers:\n  rollup:\n    - {name: R, breadth: {within_days: 14}, bands: [{min: 1, max: 3, points: 2}, {min: 3, points: 4}]}\n",
        "m.yaml:5:82 members.rollup[0].bands[1]: band 3+ overlaps band 1-3 at 3 (end the lower band with 'lt: 3' so they touch)",
    ),
]


@pytest.mark.parametrize(("body", "message"), ERRORS)
def test_located_errors(body, message):
    with pytest.raises(ProblemsError) as info:
        parse_model("name: m\n" + body, "m.yaml")
    assert [str(p) for p in info.value.problems] == [message]


def test_validate_exits_2_on_a_rule_that_can_never_fire(tmp_path, capsys):
    bad = tmp_path / "companies.yaml"
    bad.write_text("name: m\n" + ERRORS[0][0], encoding="utf-8")
    assert main(["validate", "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:5:29 interest.rules[0].event: an event rule can never fire on a company" in err
    assert "Traceback" not in err


def test_members_section_parses_into_the_spec():
    m = parse_model(
        """
name: m
object: account
members:
  default_weight: 0.5
  roles:
    - {name: Exec, if: {Title: {contains: chief}}, weight: 3}
  rollup:
    - {name: S, score: fit, aggregate: top_mean, top: 2, points: 0.5, max: 30}
    - {name: E, event: meeting, where: {outcome: {eq: completed}}, within_days: 30, points: 5, decay: none}
    - {name: B, breadth: {within_days: 7, events: [meeting, call, call]}, bands: [{min: 2, points: 10}]}
""",
        "m.yaml",
    )
    members = m.spec.members
    assert isinstance(members, MembersSpec)
    assert members.title == "Title"  # the Salesforce default for `object: account`
    assert members.default_weight == 0.5
    assert [(r.name, r.weight) for r in members.roles] == [("Exec", 3.0)]
    assert isinstance(members.roles[0], RoleSpec)
    s, e, b = members.rollups
    assert (s.kind, s.score, s.aggregate, s.top, s.points, s.max) == (
        "score", "fit", "top_mean", 2, 0.5, 30.0,
    )  # fmt: skip
    assert (e.kind, e.event, e.within_days, e.points, e.aggregate) == (
        "event", "meeting", 30.0, 5.0, "sum",
    )  # fmt: skip
    assert b == RollupSpec(
        name="B", kind="breadth", events=("call", "meeting"), within_days=7.0,
        bands=(Band(points=10.0, min=2.0),),
    )  # fmt: skip
    assert m.rollup is not None and m.rollup.event_types == frozenset({"meeting", "call"})
    assert m.properties == frozenset()
    assert m.rollup.properties == frozenset({"Title"})


def test_members_section_keeps_versions_of_models_without_it():
    body = "name: m\nobject: company\nfit:\n  rules:\n    - {name: A, if: {x: 1}, points: 1}\n"
    plain = parse_model(body, "m.yaml")
    with_members = parse_model(
        body + "members:\n  rollup:\n    - {name: R, score: interest}\n", "m.yaml"
    )
    assert plain.spec.members is None and plain.rollup is None
    assert plain.version != with_members.version
    # the version of a model without members is the one it had before the section existed
    assert plain.version == "a1d1b3581b4c"


@pytest.mark.parametrize(
    ("name", "kind", "rules", "rollups"),
    [("hubspot-companies", "company", 6, 2), ("salesforce-accounts", "account", 6, 3)],
)
def test_example_account_models_load(name, kind, rules, rollups):
    m = load_model(f"config/examples/models/{name}.yaml")
    assert (m.object, m.rule_count) == (kind, rules)
    assert m.rollup is not None and len(m.rollup.rules) == rollups
