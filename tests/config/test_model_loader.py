# ruff: noqa: E501  (test tables hold whole YAML lines and messages)
"""Model validation: every error class, each reported with file:line:col and key path."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from config.errors import ProblemsError
from config.model_loader import load_model, parse_model
from config.model_schema import model_schema

ROOT = Path(__file__).resolve().parents[2]

HEAD = "name: m\nobject: contact\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ProblemsError) as info:
        parse_model(textwrap.dedent(text), "models/b2b.yaml")
    return [str(p) for p in info.value.problems]


ERRORS = [
    (
        HEAD + "fit:\n  rules:\n    - {name: T, if: {jobtitle: {matchs: vp}}, points: 1}\n",
        "models/b2b.yaml:5:33 fit.rules[0].if.jobtitle.matchs: unknown operator 'matchs' "
        "(did you mean 'matches'?); valid operators: eq, neq, in, not_in, contains, not_contains, "
        "starts_with, ends_with, matches, exists, missing, gt, gte, lt, lte, between, domain_in, "
        "within_days, older_than_days",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: T, if: {jobtitle: {matches: '(vp'}}, points: 1}\n",
        "models/b2b.yaml:5:42 fit.rules[0].if.jobtitle.matches: invalid regular expression '(vp': "
        "missing ), unterminated subpattern at position 0",
    ),
    (
        HEAD + "lists:\n  free_email: [gmail.com]\n"
        "fit:\n  rules:\n    - {name: F, if: {email: {domain_in: $free_mail}}, points: -1}\n",
        "models/b2b.yaml:7:41 fit.rules[0].if.email.domain_in: unknown list '$free_mail' "
        "(did you mean '$free_email'?); lists defined: $free_email",
    ),
    (
        HEAD + "fit:\n  groups:\n    - name: Empty\n      rules: []\n",
        "models/b2b.yaml:6:14 fit.groups[0].rules: empty group: add at least one rule or remove the group",
    ),
    (
        HEAD
        + "fit:\n  rules:\n    - {name: S, if: {numemployees: {gte: 500, lt: 100}}, points: 1}\n",
        "models/b2b.yaml:5:36 fit.rules[0].if.numemployees: impossible bounds: gte 500 and lt 100 "
        "can never both hold",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: S, if: {n: {between: [9, 1]}}, points: 1}\n",
        "models/b2b.yaml:5:35 fit.rules[0].if.n.between: impossible bounds: low 9 is above high 1",
    ),
    (
        HEAD
        + "interest:\n  rules:\n    - {name: O, property: opens, bands: [{min: 10, max: 5, points: 3}]}\n",
        "models/b2b.yaml:5:42 interest.rules[0].bands[0]: impossible bounds: min 10 is above max 5",
    ),
    (
        HEAD + "interest:\n  rules:\n    - name: O\n      property: opens\n      bands:\n"
        "        - {min: 1, max: 5, points: 5}\n        - {min: 5, max: 10, points: 10}\n",
        "models/b2b.yaml:9:11 interest.rules[0].bands[1]: band 5-10 overlaps band 1-5 at 5 (end the lower band with 'lt: 5' so they touch)",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n"
        "disqualify:\n  - {name: Student, if: {jobtitle: student}, points: -100}\n",
        "models/b2b.yaml:7:46 disqualify[0].points: unknown key 'points': disqualifiers take no "
        "points: they force the score to 0 (remove 'points')",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: ten}\n",
        "models/b2b.yaml:5:37 fit.rules[0].points: expected a number, got text",
    ),
    (
        HEAD + "fit:\n  max: [100]\n",
        "models/b2b.yaml:4:8 fit.max: expected a number, got a list",
    ),
    (
        HEAD + "fit:\n  groups:\n    - name: G\n      first_match: yes\n      rules:\n"
        "        - {name: A, if: {a: x}, points: 1}\n",
        "models/b2b.yaml:6:20 fit.groups[0].first_match: expected true or false, got text",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1\n",
        "models/b2b.yaml:6:1: YAML syntax error: while parsing a flow mapping expected ',' or '}', "
        "but got '<stream end>'",
    ),
    (
        HEAD + "fit:\n  rules: []\nfit:\n  max: 1\n",
        "models/b2b.yaml:5:1: YAML syntax error: while constructing a mapping found duplicate key "
        '"fit" with value "{\'max\': 1}" (original value: "{\'rules\': []}")',
    ),
    (
        "name: m\nobject: contakt\n",
        "models/b2b.yaml:2:9 object: unknown object 'contakt' (did you mean 'contact'?); "
        "valid: contact, lead, company, account",
    ),
    (
        HEAD + "interest:\n  rules:\n    - {name: O, event: email_opn, points: 1}\n",
        "models/b2b.yaml:5:24 interest.rules[0].event: unknown event type 'email_opn' "
        "(did you mean 'email_open'?); valid: page_view, form_submission, email_open, email_click, "
        "email_reply, meeting, call, campaign_response",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: O, event: meeting, points: 1}\n",
        "models/b2b.yaml:5:24 fit.rules[0].event: event rules belong under 'interest', not 'fit'",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, pionts: 1}\n",
        "models/b2b.yaml:5:29 fit.rules[0].pionts: unknown key 'pionts' (did you mean 'points'?); "
        "valid keys: name, description, if, points, property, bands, recency, every_days, max, "
        "event, where, within_days, decay, age_from",
    ),
    (
        HEAD
        + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n    - {name: A, if: {b: x}, points: 2}\n",
        "models/b2b.yaml:6:14 fit.rules[1].name: duplicate rule name 'A' (first used at line 5); "
        "names must be unique because reasons and changes refer to them",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, points: 1}\n",
        "models/b2b.yaml:5:7 fit.rules[0]: a rule needs 'if' (a condition), 'property' or 'event'",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n  disqualify: []\n",
        "models/b2b.yaml:6:3 fit.disqualify: unknown key 'disqualify': 'disqualify' belongs at the "
        "top level of the model, not under fit/interest",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n"
        "grades:\n  fit: {A: 75, B: 50}\n",
        "models/b2b.yaml:7:8 grades.fit: the lowest grade must start at 0 so every score gets one",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n"
        "overrides:\n  - {name: T, if: {a: x}, grade_at_least: E}\n",
        "models/b2b.yaml:7:43 overrides[0].grade_at_least: unknown grade 'E'; grades: A, B, C, D",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n"
        "overrides:\n  - {name: T, if: {a: x}, grade_at_least: A, grade_at_most: C}\n",
        "models/b2b.yaml:7:5 overrides[0]: impossible bounds: at least A but at most C",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n"
        "qualify:\n  enter: {grade: [A, E], intrest: {gte: 50}}\n",
        "models/b2b.yaml:7:18 qualify.enter.grade: unknown grade 'E' (valid: A, B, C, D)",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1}\n"
        "qualify:\n  enter: {grade: [A], intrest: {gte: 50}}\n",
        "models/b2b.yaml:7:23 qualify.enter.intrest: unknown field 'intrest' (did you mean "
        "'interest'?); valid fields: fit, interest, score, grade, fit_grade, tier, label",
    ),
    (
        HEAD + "interest:\n  decay: {half_life_days: 7, lifespan_days: 30}\n",
        "models/b2b.yaml:4:10 interest.decay: decay takes exactly one of 'half_life_days' or "
        "'lifespan_days'",
    ),
    (
        HEAD
        + "interest:\n  rules:\n    - {name: P, event: page_view, points: 1, bands: [{min: 1, points: 1}]}\n",
        "models/b2b.yaml:5:7 interest.rules[0]: an event rule needs either 'points' (per occurrence) "
        "or 'bands' (on the count)",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: x}, points: 1, within_days: 3}\n",
        "models/b2b.yaml:5:40 fit.rules[0].within_days: 'within_days' does not apply to a condition "
        "('if') rule (it takes: if, points, age_from, decay)",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {a: {in: []}}, points: 1}\n",
        "models/b2b.yaml:5:30 fit.rules[0].if.a.in: 'in' needs at least one value",
    ),
    (
        HEAD + "fit:\n  rules:\n    - {name: A, if: {}, points: 1}\n",
        "models/b2b.yaml:5:21 fit.rules[0].if: empty condition: name at least one property to test",
    ),
    (
        HEAD + "combine: {fit: 0, interest: 0}\n",
        "models/b2b.yaml:3:10 combine: weights must not all be 0",
    ),
    ("", "models/b2b.yaml:1:1: the file is empty; a model needs name, object and rules"),
    ("- a\n- b\n", "models/b2b.yaml:1:1: expected a model mapping, got a list"),
    ("object: contact\n", "models/b2b.yaml:1:1: missing required key 'name'"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_each_problem_is_located(text, message):
    assert message in problems(text)


def test_every_problem_is_collected_before_failing():
    found = problems(
        """\
        name: m
        object: contact
        fit:
          groups:
            - name: Seniority
              rules:
                - {name: VP, if: {jobtitle: {matchs: vp}}, points: 1}
                - {name: X, if: {jobtitle: {matches: '[x'}}, points: ten}
        interest:
          rules:
            - {name: O, event: email_opn, points: 1}
        disqualify:
          - {name: S, if: {jobtitle: student}, points: 5}
        """
    )
    assert [p.split(" ", 1)[0] for p in found] == [
        "models/b2b.yaml:7:38",
        "models/b2b.yaml:8:46",
        "models/b2b.yaml:8:62",
        "models/b2b.yaml:11:24",
        "models/b2b.yaml:13:40",
    ]


def test_load_model_reports_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ProblemsError, match=r"nope\.yaml: file not found"):
        load_model(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(ProblemsError, match=r"bad\.yaml: cannot read"):
        load_model(bad)


def test_example_models_load():
    for name, kind, rules in (
        ("hubspot-contacts", "contact", 29),
        ("salesforce-leads", "lead", 24),
    ):
        m = load_model(f"config/examples/models/{name}.yaml")
        assert (m.object, m.rule_count) == (kind, rules)
        # the file is kept for messages (a run's unknown-field error names it), not versioned
        assert m.source == f"config/examples/models/{name}.yaml"
        from_text = parse_model((ROOT / m.source).read_text(encoding="utf-8"))
        assert (from_text.version, from_text.source) == (m.version, None)


def _validate(instance: object, schema: dict[str, Any], root: dict[str, Any]) -> list[str]:
    """A small JSON Schema checker for the keywords our schema uses."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].split("/")[-1]]
    errors: list[str] = []
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema["anyOf"]
        if not any(not _validate(instance, option, root) for option in options):
            errors.append(f"{instance!r} matches no option")
        return errors
    if "const" in schema and instance != schema["const"]:
        errors.append(f"{instance!r} != {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{instance!r} not in enum")
    kinds = schema.get("type")
    if kinds is not None:
        names = kinds if isinstance(kinds, list) else [kinds]
        checks = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "null": lambda v: v is None,
        }
        if not any(checks[n](instance) for n in names):
            return [f"{instance!r} is not {names}"]
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in instance:
                errors.append(f"missing {key}")
        for key, value in instance.items():
            if key in props:
                errors.extend(_validate(value, props[key], root))
            elif schema.get("additionalProperties") is False:
                errors.append(f"unexpected {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors.extend(_validate(value, schema["additionalProperties"], root))
    if isinstance(instance, list) and "items" in schema:
        for item in instance:
            errors.extend(_validate(item, schema["items"], root))
    return errors


@pytest.mark.parametrize("name", ["hubspot-contacts", "salesforce-leads"])
def test_example_models_satisfy_the_json_schema(name):
    from ruamel.yaml import YAML

    schema = json.loads(json.dumps(model_schema()))
    with open(f"config/examples/models/{name}.yaml", encoding="utf-8") as handle:
        data = json.loads(json.dumps(YAML(typ="safe").load(handle), default=str))
    assert _validate(data, schema, schema) == []
    data["fit"]["rules"][0]["pionts"] = 1
    assert _validate(data, schema, schema) == ["unexpected pionts"]


_KEYS = ["name", "object", "fit", "interest", "rules", "groups", "if", "points", "max", "event",
         "where", "bands", "min", "property", "recency", "within_days", "every_days", "decay",
         "half_life_days", "lifespan_days", "first_match", "disqualify", "overrides", "qualify",
         "enter", "exit", "grades", "combine", "lists", "reason", "grade_at_least", "all", "any",
         "not", "eq", "in", "matches", "gte", "lt", "between", "domain_in", "age_from", "reasons",
         "top", "completeness", "cooldown_days", "contains", "exists", "A", "1", "jobtitle"]  # fmt: skip


def _tree():
    from hypothesis import strategies as st

    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=True),
        st.sampled_from(["contact", "x", "$l", "(", "page_view", "A", "none", "", "2026-01-01"]),
    )  # fmt: skip
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)
        ),
        max_leaves=25,
    )


def test_any_yaml_tree_loads_or_fails_with_located_problems():
    from hypothesis import given, settings
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")

    @settings(max_examples=60, deadline=None)
    @given(tree=_tree())
    def check(tree):
        from io import StringIO

        stream = StringIO()
        yaml.dump(
            {"name": "m", "object": "contact", **tree} if isinstance(tree, dict) else tree, stream
        )
        try:
            parse_model(stream.getvalue(), "fuzz.yaml")
        except ProblemsError as exc:
            assert exc.problems
            assert all(str(p).startswith("fuzz.yaml") for p in exc.problems)

    check()
