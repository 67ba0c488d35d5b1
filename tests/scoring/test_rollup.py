"""Account roll-ups: exact values of each aggregation, role weights, breadth bands and reasons."""

from __future__ import annotations

import pytest

from scoring import explain, score
from scoring.account_link import with_account
from scoring.rollup import (
    Member,
    MemberFacts,
    member_facts,
    record_facts,
    rollup_items,
    with_namespaces,
)
from scoring.types import Record, ScoreResult
from tests.scoring.helpers import NOW, event, model

ROLES = """
members:
  roles:
    - {name: Decision maker, if: {jobtitle: {matches: '\\b(vp|cfo|chief)\\b'}}, weight: 2}
    - {name: Student, if: {jobtitle: {contains: intern}}, weight: 0}
  rollup:
"""


def account_model(rollup: str, extra: str = ""):
    return model("object: company\n" + extra + ROLES + rollup)


def result(interest: int, fit: int = 0) -> dict[str, float]:
    return {"fit": fit, "interest": interest, "score": round((fit + interest) / 2)}


PEOPLE = [
    Member("1", {"jobtitle": "VP Sales"}, (event("page_view", 2, url="/pricing"),), result(80)),
    Member("2", {"jobtitle": "CFO"}, (event("meeting", 5),), result(60)),
    Member("3", {"jobtitle": "Engineer"}, (event("page_view", 1, url="/docs"),), result(40)),
    Member("4", {"jobtitle": "engineer"}, (event("email_click", 10),), result(10)),
    Member("5", {"jobtitle": "Intern"}, (event("email_click", 3),), result(90)),
    Member("6", {"jobtitle": "Analyst"}, (event("page_view", 30, url="/pricing"),), result(0)),
]


def rolled(m, people=PEOPLE) -> list[tuple[str, float, str | None]]:
    assert m.rollup is not None
    facts = [member_facts(p, m.rollup, NOW) for p in people]
    return [(c.rule, c.points, line) for c, _, line, _ in rollup_items(facts, m.rollup)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # weighted interests: VP 160, CFO 120, Engineer 40, engineer 10, Intern 0, Analyst 0
        (
            "{name: R, score: interest, aggregate: sum}",
            (
                "R",
                330.0,
                "+330 R: 4 people by interest: VP Sales 80x2, CFO 60x2, Engineer 40, engineer 10",
            ),
        ),
        (
            "{name: R, score: interest, aggregate: sum, points: 0.1, max: 30}",
            (
                "R",
                30.0,
                "+30 R: 4 people by interest: VP Sales 80x2, CFO 60x2, Engineer 40, "
                "engineer 10; capped at 30",
            ),
        ),
        (
            "{name: R, score: interest, aggregate: max}",
            ("R", 160.0, "+160 R: highest of 4 people by interest: VP Sales 80x2, +3 more"),
        ),
        (
            "{name: R, score: interest, aggregate: top_mean, top: 2}",
            (
                "R",
                140.0,
                "+140 R: mean of top 2 of 4 people by interest: VP Sales 80x2, CFO 60x2, +2 more",
            ),
        ),
        # fewer people than `top` average in zeros: (160+120+40+10)/5 = 66
        (
            "{name: R, score: interest, aggregate: top_mean, top: 5, points: 0.5}",
            (
                "R",
                33.0,
                "+33 R: mean of top 5 of 4 people by interest: VP Sales 80x2, CFO 60x2, "
                "Engineer 40, engineer 10",
            ),
        ),
        # fit of every member is 0: nothing to roll up
        ("{name: R, score: fit, aggregate: sum}", None),
        # pricing views: VP (2d, weight 2) 5*2 = 10, Analyst (30d) 5 -> sum 15
        (
            "{name: R, event: page_view, where: {url: {contains: /pricing}}, points: 5}",
            ("R", 15.0, "+15 R: 2x page_view, 2 people: VP Sales, Analyst"),
        ),
        (
            "{name: R, event: page_view, where: {url: {contains: /pricing}}, points: 5,"
            " within_days: 14}",
            ("R", 10.0, "+10 R: 1x page_view, 1 person: VP Sales"),
        ),
        (
            "{name: R, event: page_view, points: 5, aggregate: max}",
            ("R", 10.0, "+10 R: 3x page_view, highest of 3 people: VP Sales, +2 more"),
        ),
        # half-life 10 days: VP 8*2^-0.2*2 = 13.93, Engineer 8*2^-0.1 = 7.46, Analyst 8*2^-3 = 1
        (
            "{name: R, event: page_view, points: 8, decay: {half_life_days: 10}, max: 20}",
            ("R", 20.0, "+20 R: 3x page_view, 3 people: VP Sales, Engineer, Analyst; capped at 20"),
        ),
    ],
)
def test_aggregations_exact(rule, expected):
    got = rolled(account_model(f"    - {rule}\n"))
    assert got == ([expected] if expected else [])


def test_event_decay_exact_value():
    m = account_model("    - {name: R, event: page_view, points: 8, decay: {half_life_days: 10}}\n")
    [(_, points, _)] = rolled(m)
    assert points == pytest.approx(8 * 2**-0.2 * 2 + 8 * 2**-0.1 + 8 * 2**-3.0)


BREADTH = (
    "    - name: Committee\n      breadth: {{within_days: {days}{events}}}\n      bands: {bands}\n"
)


@pytest.mark.parametrize(
    ("days", "events", "bands", "expected"),
    [
        # within 14 days: VP (2), CFO (2), Engineer (1), engineer (1); the intern weighs 0,
        # the analyst's view is 30 days old
        (
            14,
            "",
            "[{min: 3, max: 5, points: 20}, {min: 6, points: 30}]",
            (
                "Committee",
                30.0,
                "+30 4 people engaged in 14 days (counted 6 by role): VP Sales, CFO, 2x Engineer",
            ),
        ),
        (
            14,
            "",
            "[{min: 3, max: 6, points: 20}, {min: 7, points: 30}]",
            (
                "Committee",
                20.0,
                "+20 4 people engaged in 14 days (counted 6 by role): VP Sales, CFO, 2x Engineer",
            ),
        ),
        (
            3,
            "",
            "[{min: 1, points: 5}]",
            (
                "Committee",
                5.0,
                "+5 2 people engaged in 3 days (counted 3 by role): VP Sales, Engineer",
            ),
        ),
        (
            14,
            ", events: [meeting, email_click]",
            "[{min: 1, max: 2, points: 5}, {min: 3, points: 15}]",
            (
                "Committee",
                15.0,
                "+15 2 people engaged in 14 days (counted 3 by role): CFO, engineer",
            ),
        ),
        (60, ", events: [call]", "[{min: 1, points: 5}]", None),
        (14, "", "[{min: 7, points: 30}]", None),
    ],
)
def test_breadth_bands_exact(days, events, bands, expected):
    got = rolled(account_model(BREADTH.format(days=days, events=events, bands=bands)))
    assert got == ([expected] if expected else [])


def test_breadth_without_roles_counts_heads_and_names_the_rest():
    m = model(
        "object: company\nmembers:\n  rollup:\n"
        + BREADTH.format(days=90, events="", bands="[{min: 1, points: 10}]")
    )
    people = [
        Member(str(i), {"jobtitle": t}, (event("page_view", i),))
        for i, t in enumerate(["A", "B", "C", "D", "E", "C", ""], start=1)
    ]
    assert rolled(m, people) == [
        ("Committee", 10.0, "+10 7 people engaged in 90 days: A, B, 2x C, D, +2 more")
    ]


def test_role_weights_first_role_wins_and_default_weight_applies():
    m = model(
        """
        object: company
        members:
          default_weight: 0.5
          roles:
            - {name: Exec, if: {jobtitle: {contains: chief}}, weight: 3}
            - {name: Finance, if: {jobtitle: {contains: financial}}, weight: 2}
          rollup:
            - {name: R, score: interest}
        """
    )
    assert m.rollup is not None
    people = [
        Member("1", {"jobtitle": "Chief Financial Officer"}, (), result(10)),
        Member("2", {"jobtitle": "Financial analyst"}, (), result(10)),
        Member("3", {"jobtitle": "Designer"}, (), result(10)),
        Member("4", {}, (), result(10)),
    ]
    facts = [member_facts(p, m.rollup, NOW) for p in people]
    assert [(f.title, f.weight, f.values) for f in facts] == [
        ("Chief Financial Officer", 3.0, (30.0,)),
        ("Financial analyst", 2.0, (20.0,)),
        ("Designer", 0.5, (5.0,)),
        ("(no title)", 0.5, (5.0,)),
    ]
    [(contribution, count, _, _)] = rollup_items(facts, m.rollup)
    assert (contribution.points, count) == (60.0, 4)


def test_member_without_a_result_or_events_adds_nothing():
    m = account_model("    - {name: R, score: interest}\n    - {name: E, event: call, points: 1}\n")
    assert m.rollup is not None
    facts = member_facts(Member("1", {"jobtitle": None}, ()), m.rollup, NOW)
    assert facts == MemberFacts("1", "(no title)", 1.0, (0.0, 0.0), (0, 0), (float("inf"),) * 2)
    assert rollup_items([facts], m.rollup) == []


def test_member_facts_round_trip_through_json():
    m = account_model(BREADTH.format(days=14, events="", bands="[{min: 1, points: 5}]"))
    assert m.rollup is not None
    for person in PEOPLE:
        facts = member_facts(person, m.rollup, NOW)
        assert MemberFacts.from_dict(facts.to_dict()) == facts


def test_account_score_combines_fit_and_rollups_with_grades_and_qualification():
    m = account_model(
        "    - {name: Hottest people, score: interest, aggregate: top_mean, top: 3, points: 0.25}\n"
        + BREADTH.format(days=14, events="", bands="[{min: 3, points: 20}]"),
        extra="fit:\n  rules:\n    - {name: Big, if: {numberofemployees: {gte: 500}}, points: 80}\n"
        "qualify:\n  enter: {grade: [A], interest: {gte: 50}}\n  exit: {interest: {lt: 30}}\n",
    )
    assert m.rollup is not None
    facts = [member_facts(p, m.rollup, NOW) for p in PEOPLE]
    company = Record("c1", "company", {"numberofemployees": "1,200"})
    first = score(company, m, NOW, members=facts)
    # top 3 weighted: 160, 120, 40 -> mean 106.67 x 0.25 = 26.67; breadth 20
    assert (first.fit, first.interest, first.score, first.label, first.qualified) == (
        80, 47, 64, "A2", False,
    )  # fmt: skip
    assert first.interest_raw == pytest.approx(320 / 3 * 0.25 + 20)
    assert first.reasons == (
        "+80 Big",
        "+27 Hottest people: mean of top 3 of 4 people by interest: VP Sales 80x2, CFO 60x2, "
        "Engineer 40, +1 more",
        "+20 4 people engaged in 14 days (counted 6 by role): VP Sales, CFO, 2x Engineer",
    )
    hotter = [*facts, member_facts(PEOPLE[0], m.rollup, NOW)]  # the VP twice: 160, 160, 120
    second = score(company, m, NOW, first, members=hotter)
    assert (second.interest, second.qualified) == (57, True)
    assert second.changes[0] == "Qualified"
    # hysteresis: 40 is below enter (50) but above exit (30), so the account stays qualified
    fewer = [f for f in facts if f.title != "VP Sales"]
    third = score(company, m, NOW, second, members=fewer)
    assert (third.interest, third.qualified) == (34, True)
    alone = score(company, m, NOW, third, members=[])
    assert (alone.interest, alone.qualified, alone.changes[0]) == (0, False, "No longer qualified")


def test_explain_lists_rollups_and_members():
    m = account_model("    - {name: R, score: interest, aggregate: max}\n")
    assert m.rollup is not None
    facts = [member_facts(p, m.rollup, NOW) for p in PEOPLE[:2]]
    text = explain(Record("c1", "company", {}), m, NOW, members=facts).to_text()
    assert (
        "  [x]    +160 R: members' interest x role weight, max, x 1 "
        "(2x; highest of 2 people by interest: VP Sales 80x2, +1 more)\n" in text
    )
    assert "members: 2\n  1 VP Sales (weight 2): [R: 160]\n  2 CFO (weight 2): [R: 120]" in text
    data = explain(Record("c1", "company", {}), m, NOW, members=facts).to_dict()
    rules = data["rules"]
    assert isinstance(rules, list) and [r["rule"] for r in rules] == ["R"]
    assert data["member_rules"] == ["R"]


def test_explain_names_the_rollup_rule_of_each_member_value():
    m = account_model(
        "    - {name: Top interest, score: interest, aggregate: max}\n"
        "    - {name: Fit sum, score: fit, aggregate: sum}\n"
    )
    assert m.rollup is not None
    facts = [member_facts(p, m.rollup, NOW) for p in PEOPLE[:1]]
    shown = explain(Record("c1", "company", {}), m, NOW, members=facts)
    line = next(x for x in shown.to_text().splitlines() if x.startswith("  1 "))
    assert line == "  1 VP Sales (weight 2): [Top interest: 160, Fit sum: 0]"


def test_contact_rules_read_their_account_result():
    m = model(
        """
        fit:
          rules:
            - {name: A-grade account, if: {account.grade: A}, points: 10}
            - {name: Hot account, if: {account.interest: {gte: 50}}, points: 5}
            - {name: No account, if: {account.grade: {missing: true}}, points: -5}
        """
    )
    assert m.properties == frozenset()
    assert m.account_fields == frozenset({"account.grade", "account.interest"})
    person = Record("p1", "contact", {"jobtitle": "VP"})
    account = ScoreResult(
        fit=80, interest=55, score=68, grade="A", tier="2", label="A2", qualified=True,
        disqualified_reason=None, contributions=(), reasons=(), completeness=1.0,
        model_version="a",
    )  # fmt: skip
    assert score(with_account(person, account), m, NOW).fit == 15
    assert score(with_account(person, None), m, NOW).fit == 0
    assert score(person, m, NOW).reasons == ("-5 No account",)


def test_members_read_from_the_crm_take_their_scores_from_leadsync_outputs():
    m = account_model("    - {name: R, score: interest}\n")
    assert m.rollup is not None
    people = [
        Record("1", "contact", {"jobtitle": "VP Sales"}, outputs={"interest": "40", "fit": "9"}),
        Record("2", "contact", {"jobtitle": "N/A"}, outputs={"interest": "not a number"}),
        Record("3", "contact", {"jobtitle": "  CFO "}),
    ]
    assert Member.from_record(people[0]).scores == {"fit": 9.0, "interest": 40.0, "score": 0.0}
    facts = record_facts(people, m.rollup, NOW)
    assert [(f.title, f.values) for f in facts] == [
        ("VP Sales", (80.0,)),
        ("(no title)", (0.0,)),
        ("CFO", (0.0,)),
    ]
    account = Record("c1", "company", {}, members=tuple(people))
    assert score(account, m, NOW, members=facts).interest == 80


def test_a_person_scored_in_the_run_brings_that_result():
    account = ScoreResult(
        fit=80, interest=55, score=68, grade="A", tier="2", label="A2", qualified=True,
        disqualified_reason=None, contributions=(), reasons=(), completeness=1.0,
        model_version="a",
    )  # fmt: skip
    person = Record("p1", "contact", {"jobtitle": "CFO"})
    assert Member.scored(person, account).scores == {"fit": 80, "interest": 55, "score": 68}


def test_a_score_roll_up_reads_the_people_model_its_model_names():
    m = account_model(
        "    - {name: A, score: interest}\n    - {name: B, score: interest, model: pl_b}\n"
        "    - {name: Visits, event: page_view, points: 1}\n"
    )
    assert m.rollup is not None
    # the configuration resolves `model: pl_b` to the namespace of the model it names
    assert (m.rollup.score_names, m.rollup.namespaces) == (("interest",), ("", "", ""))
    plan = with_namespaces(m.rollup, ["", "pl_b_", ""])
    assert (plan.score_names, plan.namespaces) == (("interest", "pl_b_interest"), ("", "pl_b_", ""))
    people = [
        Record("1", "contact", {"jobtitle": "VP Sales"}, outputs={"interest": "40"}),
        Record("2", "contact", {"jobtitle": "CFO"}, outputs={"pl_b_interest": "25"}),
        Record(
            "3", "contact", {"jobtitle": "Engineer"}, outputs={"interest": 5, "pl_b_interest": 7}
        ),
    ]
    facts = record_facts(people, plan, NOW)
    assert [f.values[:2] for f in facts] == [(80.0, 0.0), (0.0, 50.0), (5.0, 7.0)]
    assert [line for _, _, line, _ in rollup_items(facts, plan)] == [
        "+85 A: 2 people by interest: VP Sales 40x2, Engineer 5",
        "+57 B: 2 people by pl_b interest: CFO 25x2, Engineer 7",
    ]
    with pytest.raises(ValueError, match="2 namespaces for 3 roll-up rules"):
        with_namespaces(m.rollup, ["", "pl_b_"])
