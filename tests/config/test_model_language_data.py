# ruff: noqa: E501  (test tables hold whole YAML lines and messages)
"""Validation of placeholders and half-open bands: each problem located, every valid form
accepted and matching the JSON Schema."""

from __future__ import annotations

import textwrap

import jsonschema
import pytest
from ruamel.yaml import YAML

from config.errors import ProblemsError
from config.model_loader import parse_model
from config.model_schema import model_schema

HEAD = "name: m\nobject: contact\n"
RULE = "fit:\n  rules:\n    - {name: C, if: {city: a}, points: 1}\n"


def bands(*lines: str) -> str:
    return (
        HEAD
        + "fit:\n  rules:\n    - name: V\n      property: v\n      bands:\n"
        + "".join(f"        - {line}\n" for line in lines)
    )


ERRORS = [
    (
        HEAD
        + "placeholders:\n  properties:\n    Citty: [Select]\n"
        + RULE.replace("city", "Citty").replace("Citty: a", "city: a"),
        "m.yaml:5:5 placeholders.properties.Citty: placeholders for 'Citty', which no rule reads (did you mean 'city'?)",
    ),
    (
        HEAD + "placeholders: {al: [Select]}\n" + RULE,
        "m.yaml:3:16 placeholders.al: unknown key 'al' (did you mean 'all'?); valid keys: all, properties",
    ),
    (
        HEAD + "placeholders: []\n" + RULE,
        "m.yaml:3:15 placeholders: 'placeholders' needs at least one value",
    ),
    (
        HEAD + "placeholders: {all: {a: 1}}\n" + RULE,
        "m.yaml:3:21 placeholders.all: 'placeholders' expects a list of values or a $list, got a mapping",
    ),
    (
        HEAD + "placeholders: $unknowns\n" + RULE,
        "m.yaml:3:15 placeholders: unknown list '$unknowns'; define it under 'lists:'",
    ),
    (
        HEAD + "placeholders: {properties: [city]}\n" + RULE,
        "m.yaml:3:28 placeholders.properties: expected a mapping of property names to lists of values",
    ),
    (
        bands("{gte: 1, lt: 2, points: 1}", "{gte: 1.5, lt: 3, points: 2}"),
        "m.yaml:9:11 fit.rules[0].bands[1]: band >=1.5 <3 overlaps band >=1 <2",
    ),
    (
        bands("{gte: 1, lte: 2, points: 1}", "{gte: 2, lt: 3, points: 2}"),
        "m.yaml:9:11 fit.rules[0].bands[1]: band >=2 <3 overlaps band 1-2 at 2 (end the lower band with 'lt: 2' so they touch)",
    ),
    (
        bands("{gt: 2, lt: 2, points: 1}"),
        "m.yaml:8:11 fit.rules[0].bands[0]: impossible bounds: gt 2 and lt 2 hold for no number",
    ),
    (
        bands("{gte: 2, lt: 2, points: 1}"),
        "m.yaml:8:11 fit.rules[0].bands[0]: impossible bounds: gte 2 and lt 2 hold for no number",
    ),
    (
        bands("{gte: 3, lt: 2, points: 1}"),
        "m.yaml:8:11 fit.rules[0].bands[0]: impossible bounds: gte 3 is above lt 2",
    ),
    (
        bands("{min: 1, gte: 1, points: 1}"),
        "m.yaml:8:11 fit.rules[0].bands[0]: a band takes one lower bound, got min and gte",
    ),
    (
        bands("{points: 1}"),
        "m.yaml:8:11 fit.rules[0].bands[0]: a band needs a lower bound (min/gte/gt), an upper one (max/lte/lt) or both",
    ),
    (
        bands("{gte: 1, lt: 2, points: 1, gtee: 0}"),
        "m.yaml:8:38 fit.rules[0].bands[0].gtee: unknown key 'gtee' (did you mean 'gte'?); valid keys: min, max, gte, gt, lte, lt, points",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_each_problem_is_located(text: str, message: str) -> None:
    with pytest.raises(ProblemsError) as info:
        parse_model(text, "m.yaml")
    assert [str(p) for p in info.value.problems] == [message]


VALID = [
    HEAD + "placeholders: [Select, N/A, '-', 0]\n" + RULE,
    HEAD + "placeholders: Select\n" + RULE,
    HEAD + "lists:\n  unknowns: [Select, Other]\nplaceholders: $unknowns\n" + RULE,
    HEAD + "placeholders:\n  all: [Select]\n  properties:\n    city: [Other Cities, 999]\n" + RULE,
    bands("{lt: 1, points: 1}", "{gte: 1, lt: 2, points: 2}", "{gte: 2, points: 4}"),
    bands("{gt: 5, lte: 10, points: 1}", "{max: 5, points: 2}"),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_forms_load_and_satisfy_the_json_schema(text: str) -> None:
    parse_model(text, "m.yaml")
    jsonschema.validate(YAML(typ="safe").load(textwrap.dedent(text)), model_schema())
