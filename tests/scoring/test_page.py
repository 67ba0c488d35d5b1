# ruff: noqa: E501  (strategy tables keep one case per line)
"""`score_page` (the generated page scorer the sync uses) equals `score` and the traced
evaluation exactly, on random models and random pages of records."""

from __future__ import annotations

import dataclasses
import json
import weakref
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from config.errors import ProblemsError
from scoring import explain, score, score_page
from scoring.codegen import slots_constructor
from scoring.rollup import member_facts
from scoring.types import Contribution, Record, ScoreResult
from tests.scoring.helpers import NOW, model
from tests.scoring.test_properties import MODELS, events, junk

PROPS = ("a", "b", "c", "d", "email", "when")
TEXTS = ("x", "vp", "yes", "gmail.com", "N/A", "")


def _yaml(value: object) -> str:
    return json.dumps(value)  # JSON is YAML


leaf_tests = st.one_of(
    st.tuples(st.sampled_from(["eq", "neq"]), st.sampled_from([*TEXTS, 3, 2.5, True])),
    st.tuples(st.sampled_from(["in", "not_in"]), st.lists(st.sampled_from([*TEXTS[:3], 3, 7]), min_size=1, max_size=3, unique=True)),
    st.tuples(st.sampled_from(["contains", "not_contains", "starts_with", "ends_with"]), st.sampled_from(["x", "v", ["x", "ye"]])),
    st.tuples(st.just("matches"), st.sampled_from(["^v", "x|y", r"\bvp\b"])),
    st.tuples(st.sampled_from(["exists", "missing"]), st.booleans()),
    st.tuples(st.sampled_from(["gt", "gte", "lt", "lte"]), st.sampled_from([0, 3, 100, "2026-11-01"])),
    st.tuples(st.just("between"), st.sampled_from([[1, 5], ["2026-01-01", "2026-12-31"]])),
    st.tuples(st.just("domain_in"), st.just(["gmail.com", "acme.example"])),
    st.tuples(st.sampled_from(["within_days", "older_than_days"]), st.sampled_from([7, 30])),
)  # fmt: skip
leaves = st.builds(
    lambda prop, test: {prop: {test[0]: test[1]}}, st.sampled_from(PROPS), leaf_tests
)
conditions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda item: {"not": item}, inner),
    ),
    max_leaves=4,
)
points = st.sampled_from([-10, -2.5, 1, 5, 12.3, 30])


def _rule(kind: str, name: str, cond: object, pts: float, prop: str) -> dict[str, object]:
    if kind == "condition":
        return {"name": name, "if": cond, "points": pts}
    if kind == "aged":
        return {"name": name, "if": cond, "points": pts, "age_from": "when"}
    if kind == "bands":
        return {"name": name, "property": prop, "bands": [{"max": 3, "points": pts}, {"min": 4, "points": 2 * pts}]}  # fmt: skip
    if kind == "recency":
        return {"name": name, "property": "when", "recency": [{"within_days": 7, "points": pts}, {"within_days": 40, "points": 1}]}  # fmt: skip
    if kind == "every":
        return {"name": name, "property": "when", "every_days": 7, "points": pts, "max": 20}
    return {"name": name, "event": "page_view", "where": {"url": {"contains": "p"}}, "points": pts, "max": 30}  # fmt: skip


rule_specs = st.tuples(
    st.sampled_from(["condition", "condition", "aged", "bands", "recency", "every", "event"]),
    conditions,
    points,
    st.sampled_from(["a", "b"]),
)


@st.composite
def models(draw: st.DrawFn) -> object:
    counter = iter(range(1000))

    def rules(count: int, *, events_ok: bool) -> list[dict[str, object]]:
        drawn = draw(st.lists(rule_specs, min_size=1, max_size=count))
        out = []
        for drawn_kind, cond, pts, prop in drawn:
            kind = "condition" if drawn_kind == "event" and not events_ok else drawn_kind
            out.append(_rule(kind, f"R{next(counter)}", cond, pts, prop))
        return out

    group = {
        "name": "G",
        "first_match": draw(st.booleans()),
        "rules": rules(4, events_ok=False),
    }
    if draw(st.booleans()):
        group["max"] = draw(st.sampled_from([5, 15.5]))
    spec: dict[str, object] = {
        "fit": {
            "max": draw(st.sampled_from([100, 80])),
            "groups": [group],
            "rules": rules(4, events_ok=False),
        },
        "interest": {"rules": rules(4, events_ok=True)},
        "combine": {
            "fit": draw(st.sampled_from([0.5, 0.3])),
            "interest": draw(st.sampled_from([0.5, 0.7])),
        },
    }
    if draw(st.booleans()):
        spec["disqualify"] = [{"name": "Z", "if": draw(conditions)}]
    if draw(st.booleans()):
        spec["overrides"] = [{"name": "O", "if": draw(conditions), "grade_at_least": "B"}]
    if draw(st.booleans()):
        qualify: dict[str, object] = {"enter": draw(st.sampled_from([{"score": {"gte": 30}}, {"grade": ["A", "B"], "interest": {"gte": 10}}, {"label": {"contains": "1"}}]))}  # fmt: skip
        if draw(st.booleans()):
            qualify["exit"] = {"score": {"lt": 20}}
        if draw(st.booleans()):
            qualify["cooldown_days"] = 2
        spec["qualify"] = qualify
    text = "\n".join(f"{key}: {_yaml(value)}" for key, value in spec.items())
    try:
        return model(text + "\n")
    except ProblemsError:
        assume(False)  # e.g. contradictory bounds the loader refuses
        raise


values = st.one_of(junk, st.sampled_from([*TEXTS, "vp sales", "a@gmail.com", "5", "12"]))
moments = st.floats(min_value=-5, max_value=90).map(lambda d: (NOW - timedelta(days=d)).isoformat())
pages = st.lists(
    st.builds(
        Record,
        id=st.just("r"),
        kind=st.just("contact"),
        properties=st.fixed_dictionaries(
            {}, optional={**{p: values for p in PROPS}, "when": st.one_of(moments, junk)}
        ),
        events=st.lists(events, max_size=6).map(tuple),
    ),
    min_size=1,
    max_size=6,
)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(m=models(), records=pages, later=st.floats(min_value=0, max_value=5))
def test_score_page_equals_score_and_the_traced_path_on_random_models(m, records, later):
    first = score_page(records, m, NOW)
    assert first == [score(r, m, NOW) for r in records]
    assert first == [explain(r, m, NOW).result for r in records]
    # again later, with hysteresis and "what changed" from the first results
    when = NOW + timedelta(days=later)
    again = score_page(records, m, when, first)
    assert again == [score(r, m, when, p) for r, p in zip(records, first, strict=True)]
    assert again == [explain(r, m, when, p).result for r, p in zip(records, first, strict=True)]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(records=pages, index=st.integers(min_value=0, max_value=len(MODELS) - 1))
def test_score_page_equals_score_on_the_bundled_models(records, index):
    m = MODELS[index]
    assert score_page(records, m, NOW) == [score(r, m, NOW) for r in records]


def test_score_page_refuses_previous_results_not_aligned_with_the_records():
    m = model("fit:\n  rules:\n    - {name: A, if: {a: {exists: true}}, points: 5}\n")
    records = [Record("1", "contact", {"a": "x"}), Record("2", "contact", {})]
    with pytest.raises(ValueError, match="1 previous results for 2 records"):
        score_page(records, m, NOW, [None])
    assert score_page([], m, NOW) == []


def test_slots_constructor_builds_results_equal_to_the_dataclass_init():
    fields = (
        70, 40, 55, "B", "2", "B2", True, None,
        (Contribution("A", "fit", 70.0),), ("+70 A",), 0.5, "v1", 70.0, 40.0, (), NOW,
    )  # fmt: skip
    built = slots_constructor(ScoreResult)(*fields)
    assert built == ScoreResult(*fields)
    assert hash(built) == hash(ScoreResult(*fields))
    with pytest.raises(AttributeError):
        built.fit = 1
    assert type(built) is ScoreResult


def test_slots_constructor_of_a_class_its_twin_cannot_stand_for_sets_the_slots_itself() -> None:
    # A weak-reference slot makes a layout the mutable twin does not share: the class swap is
    # refused, and the constructor falls back to setting each slot through its descriptor.
    @dataclasses.dataclass(frozen=True, slots=True, weakref_slot=True)
    class Weak:
        a: int
        b: str

    built = slots_constructor(Weak)(1, "x")
    assert (type(built), built) == (Weak, Weak(1, "x"))
    assert weakref.ref(built)() is built


def test_score_page_of_accounts_equals_score_and_the_traced_path_with_their_members():
    from tests.scoring.test_rollup import PEOPLE, account_model

    m = account_model(
        "    - {name: Hottest people, score: interest, aggregate: top_mean, top: 3, points: 0.25}\n",
        extra="fit:\n  rules:\n    - {name: Big, if: {numberofemployees: {gte: 500}}, points: 80}\n",
    )
    assert m.rollup is not None
    facts = [member_facts(p, m.rollup, NOW) for p in PEOPLE]
    accounts = [Record(str(n), "company", {"numberofemployees": str(300 * n)}) for n in range(4)]
    members = [facts, facts[:2], [], facts[3:]]
    page = score_page(accounts, m, NOW, members=members)
    assert page == [score(a, m, NOW, members=f) for a, f in zip(accounts, members, strict=True)]
    assert page == [
        explain(a, m, NOW, members=f).result for a, f in zip(accounts, members, strict=True)
    ]
    # mean of the top 3 weighted interests x 0.25: (160+120+40)/3, (160+120)/3, none, 10/3
    assert [r.interest for r in page] == [27, 23, 0, 1]
    with pytest.raises(ValueError, match="1 members for 4 records"):
        score_page(accounts, m, NOW, members=[facts])


def test_score_page_reads_an_accounts_people_from_the_record_when_given_no_facts():
    from tests.scoring.test_rollup import account_model

    m = account_model("    - {name: Hottest, score: interest, aggregate: max}\n")
    people = (
        Record("p1", "contact", {"jobtitle": "VP Sales"}, outputs={"interest": "80"}),
        Record("p2", "contact", {"jobtitle": "Engineer"}, outputs={"interest": "55"}),
    )
    accounts = [
        Record("a1", "company", {}, members=people),
        Record("a2", "company", {}, members=people[1:]),
        Record("a3", "company", {}),
    ]
    page = score_page(accounts, m, NOW)
    assert page == [score(a, m, NOW) for a in accounts]
    assert page == [explain(a, m, NOW).result for a in accounts]
    assert [r.interest_raw for r in page] == [160.0, 55.0, 0.0]  # the VP's 80 x weight 2


def test_values_remembered_by_text_answer_only_for_that_text():
    # `a` alone decides every rule, so the page scorer looks its outcome up by the raw text;
    # equal values of other types (1, True, 1.0) and unhashable ones are worked out each time
    m = model(
        """
        fit:
          groups:
            - name: G
              first_match: true
              rules:
                - {name: Big, if: {a: {gte: 1}}, points: 3}
          rules:
            - {name: One, if: {a: {eq: 1}}, points: 10}
            - {name: Yes, if: {a: {eq: "true"}}, points: 5}
        """
    )
    values = ["1", 1, True, 1.0, None, "true", " 1 ", "N/A", ["1"]]
    records = [Record(str(i), "contact", {"a": v}) for i, v in enumerate(values * 2)]
    results = score_page(records, m, NOW)
    assert [r.fit for r in results] == [13, 13, 5, 13, 0, 5, 13, 0, 0] * 2
    assert results == [explain(r, m, NOW).result for r in records]
