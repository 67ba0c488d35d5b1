"""Model inputs cannot stall or crash scoring: regexes on RE2, nesting bounded, located errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.errors import ProblemsError
from config.model_conditions import MAX_NESTING
from config.model_loader import parse_model
from config.yaml_depth import MAX_DEPTH
from scoring import explain, score
from scoring.patterns import compile_pattern, pattern_problem
from scoring.types import Record

HEAD = "name: m\nobject: contact\n"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def problems(text: str) -> list[str]:
    with pytest.raises(ProblemsError) as info:
        parse_model(text, "models/b2b.yaml")
    return [str(p) for p in info.value.problems]


def regex_model(pattern: str) -> str:
    return (
        HEAD
        + "fit:\n  rules:\n"
        + f"    - {{name: T, if: {{jobtitle: {{matches: '{pattern}'}}}}, points: 7}}\n"
    )


@pytest.mark.timeout(20)
def test_catastrophic_backtracking_pattern_matches_in_linear_time() -> None:
    # Python's re takes time doubling per character here: 2^60 steps would never end.
    model = parse_model(regex_model("^(a+)+$"), "m.yaml")
    hostile = Record("1", "contact", {"jobtitle": "a" * 60 + "!"})
    assert score(hostile, model, NOW).fit == 0
    assert explain(hostile, model, NOW).result.fit == 0
    assert score(Record("2", "contact", {"jobtitle": "a" * 60}), model, NOW).fit == 7


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(vp)\1", "backreferences"),
        (r"(?P<t>vp)(?P=t)", "backreferences"),
        (r"vp(?=\s)", "lookahead or lookbehind"),
        (r"(?<!a)vp", "lookahead or lookbehind"),
        (r"(?>vp)", "atomic groups"),
        (r"vp++", "possessive quantifiers"),
        (r"(v)?(?(1)p)", "conditionals"),
    ],
)
def test_syntax_re2_lacks_is_refused_with_a_location(pattern: str, message: str) -> None:
    [problem] = problems(regex_model(pattern))
    assert problem.startswith("models/b2b.yaml:5:42 fit.rules[0].if.jobtitle.matches: ")
    assert (
        f"regular expression {pattern!r} uses {message}, which the linear-time engine (RE2)"
        in problem
    )


def test_pattern_too_big_for_the_engine_is_refused() -> None:
    assert pattern_problem("((a{1000}){1000}){1000}") == (
        "regular expression '((a{1000}){1000}){1000}' is not supported by the linear-time "
        "engine (RE2): invalid repetition size: {1000}"
    )
    assert pattern_problem(r"vp\u00e9") == (
        "regular expression 'vp\\\\u00e9' is not supported by the linear-time engine (RE2): "
        "invalid escape sequence: \\u"
    )


@pytest.mark.parametrize(
    ("pattern", "text", "hit"),
    [
        (r"\b(vp|vice president)\b", "VP of Sales", True),
        (r"\b(vp|vice president)\b", "mvp", False),
        ("(?i)chief", "CHIEF of staff", True),
        ("[(?=]x", "=x", True),  # a class, not a lookahead
        (r"^ceo$", "ceo", True),
        ("café", "CAFÉ", True),  # case-insensitive beyond ASCII
    ],
)
def test_supported_syntax_matches_case_insensitively(pattern: str, text: str, hit: bool) -> None:
    assert pattern_problem(pattern) is None
    assert (compile_pattern(pattern)(text) is not None) is hit


def nested(depth: int) -> str:
    cond = "{jobtitle: {contains: vp}}"
    for _ in range(depth):
        cond = "{not: " + cond + "}"
    return HEAD + f"fit:\n  rules:\n    - {{name: N, if: {cond}, points: 1}}\n"


def test_conditions_nested_120_deep_get_a_located_error() -> None:
    [problem] = problems(nested(120))
    assert problem.startswith("models/b2b.yaml:5:")
    assert f"conditions nested more than {MAX_NESTING} deep (all/any/not)" in problem


def test_conditions_nested_to_the_limit_still_score() -> None:
    model = parse_model(nested(MAX_NESTING - 2), "m.yaml")  # even: nots cancel out
    assert score(Record("1", "contact", {"jobtitle": "vp"}), model, NOW).fit == 1
    assert explain(Record("1", "contact", {"jobtitle": "vp"}), model, NOW).result.fit == 1


def nested_all(depth: int) -> str:
    """Conditions `depth` deep in all/any: two YAML levels (a mapping and a list) each."""
    cond = "{jobtitle: {contains: vp}}"
    for level in range(depth):
        cond = "{" + ("all" if level % 2 else "any") + ": [" + cond + "]}"
    return HEAD + f"fit:\n  rules:\n    - {{name: N, if: {cond}, points: 1}}\n"


def test_conditions_nested_120_deep_in_all_and_any_get_a_located_error() -> None:
    text = nested_all(120)
    [problem] = problems(text)
    # the rule's mapping is the 4th level (document, fit, rules): past the bound is the
    # (MAX_DEPTH - 3)th bracket after it
    openings = [i for i, c in enumerate(text.splitlines()[4]) if c in "{["]
    column = openings[MAX_DEPTH - 3] + 1
    assert problem == (
        f"models/b2b.yaml:5:{column}: YAML nested more than {MAX_DEPTH} levels deep "
        f"(conditions nest at most {MAX_NESTING} all/any/not): flatten it"
    )


def test_conditions_nested_in_all_and_any_to_the_limit_still_score() -> None:
    model = parse_model(nested_all(MAX_NESTING - 1), "m.yaml")
    assert score(Record("1", "contact", {"jobtitle": "vp"}), model, NOW).fit == 1
