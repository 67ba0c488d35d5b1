"""Every operator, through both evaluation paths: the closures (explain) and the generated code."""

from __future__ import annotations

import pytest

from scoring.codegen import compile_values_predicate
from scoring.conditions import Values, compile_cond
from scoring.spec import Cond
from tests.scoring.helpers import NOW, model


def condition(text: str) -> Cond:
    m = model(
        f"""
        lists:
          free: [gmail.com, yahoo.com]
          sizes: [25-50, 50-100]
        fit:
          rules:
            - name: Rule
              if: {text}
              points: 1
        """
    )
    cond = m.fit.groups[0].rules[0].spec.cond
    assert cond is not None
    return cond


def both(cond: Cond, props: dict[str, object]) -> bool:
    closure = compile_cond(cond)(Values(props, NOW))
    generated = compile_values_predicate(cond)(Values(props, NOW))
    assert closure is generated, (cond, props)
    return closure


CASES = [
    # (condition, properties, expected)
    ("{industry: Software}", {"industry": " SOFTWARE "}, True),
    ("{industry: Software}", {"industry": "Hardware"}, False),
    ("{industry: {eq: software}}", {}, False),
    ("{numemployees: {eq: 50}}", {"numemployees": "50.0"}, True),
    ("{numemployees: {eq: 50}}", {"numemployees": 50}, True),
    ("{optout: {eq: true}}", {"optout": "true"}, True),
    ("{optout: true}", {"optout": False}, False),
    ("{optout: false}", {"optout": "no"}, True),
    ("{industry: {neq: software}}", {"industry": "retail"}, True),
    ("{industry: {neq: software}}", {"industry": "Software"}, False),
    ("{industry: {neq: software}}", {"industry": ""}, False),
    ("{country: [US, Canada]}", {"country": "canada"}, True),
    ("{country: {in: [US, Canada]}}", {"country": "Mexico"}, False),
    ("{numemployees: {in: $sizes}}", {"numemployees": "25-50"}, True),
    ("{score: {in: [1, 2, x]}}", {"score": "2.0"}, True),
    ("{score: {in: [1, 2, x]}}", {"score": "X"}, True),
    ("{score: {in: [1, 2, x]}}", {"score": "3"}, False),
    ("{flag: {in: [true]}}", {"flag": "TRUE"}, True),
    ("{country: {not_in: [US]}}", {"country": "FR"}, True),
    ("{country: {not_in: [US]}}", {"country": "us"}, False),
    ("{country: {not_in: [US]}}", {"country": None}, False),
    ("{form: {contains: demo}}", {"form": "Request a DEMO"}, True),
    ("{form: {contains: [demo, trial]}}", {"form": "Free trial"}, True),
    ("{form: {contains: demo}}", {"form": None}, False),
    ("{form: {not_contains: demo}}", {"form": "Newsletter"}, True),
    ("{form: {not_contains: demo}}", {"form": "demo"}, False),
    ("{url: {starts_with: 'https://'}}", {"url": "HTTPS://x.io"}, True),
    ("{url: {starts_with: [ftp, mailto]}}", {"url": "https://x.io"}, False),
    ("{url: {ends_with: .pdf}}", {"url": "/a/B.PDF"}, True),
    ("{jobtitle: {matches: '\\bvp\\b'}}", {"jobtitle": "SVP Sales"}, False),
    ("{jobtitle: {matches: '\\bvp\\b'}}", {"jobtitle": "VP Sales"}, True),
    ("{jobtitle: {matches: '^$'}}", {"jobtitle": ""}, True),
    ("{jobtitle: {matches: 'x'}}", {}, False),
    ("{jobtitle: {matches: '^12'}}", {"jobtitle": 123}, True),
    ("{phone: {exists: true}}", {"phone": "N/A"}, False),
    ("{phone: {exists: true}}", {"phone": "+1 555"}, True),
    ("{phone: {exists: false}}", {}, True),
    ("{phone: {missing: true}}", {"phone": "  "}, True),
    ("{phone: {missing: false}}", {"phone": "x"}, True),
    ("{phone: null}", {"phone": "unknown"}, True),
    ("{revenue: {gt: 1000}}", {"revenue": "$1,200"}, True),
    ("{revenue: {gt: 1000}}", {"revenue": "1,000"}, False),
    ("{revenue: {gte: 1000}}", {"revenue": "1000.0"}, True),
    ("{revenue: {lt: 1000}}", {"revenue": "10k"}, False),
    ("{revenue: {lte: 10}}", {"revenue": "10%"}, True),
    ("{numemployees: {gte: 500}}", {"numemployees": "1000+"}, True),
    ("{numemployees: {gte: 500}}", {"numemployees": "100-500"}, False),
    ("{numemployees: {gte: 100, lt: 500}}", {"numemployees": "100-500"}, True),
    ("{revenue: {gt: 0}}", {"revenue": "N/A"}, False),
    ("{revenue: {between: [10, 20]}}", {"revenue": "20"}, True),
    ("{revenue: {between: [10, 20]}}", {"revenue": "20.5"}, False),
    ("{createdate: {gte: 2026-01-01}}", {"createdate": "2026-03-01T10:00:00.000Z"}, True),
    ("{createdate: {lt: 2026-01-01}}", {"createdate": "1767225600000"}, False),
    ("{createdate: {between: [2025-01-01, 2025-12-31]}}", {"createdate": "2025-06-01"}, True),
    ("{email: {domain_in: $free}}", {"email": "Jo <jo@Mail.Yahoo.com>"}, True),
    ("{email: {domain_in: $free}}", {"email": "jo@notgmail.com"}, False),
    ("{website: {domain_in: [acme.io]}}", {"website": "https://www.acme.io:443/x?y"}, True),
    ("{website: {domain_in: [acme.io]}}", {"website": ""}, False),
    ("{last_visit: {within_days: 7}}", {"last_visit": "2026-11-14T12:00:00Z"}, True),
    ("{last_visit: {within_days: 7}}", {"last_visit": "2026-11-13T11:59:59Z"}, False),
    ("{last_visit: {within_days: 7}}", {"last_visit": "2027-01-01"}, True),
    ("{last_visit: {older_than_days: 30}}", {"last_visit": "2026-10-01"}, True),
    ("{last_visit: {older_than_days: 30}}", {"last_visit": "garbage"}, False),
    ("{all: [{a: x}, {b: y}]}", {"a": "x", "b": "y"}, True),
    ("{all: [{a: x}, {b: y}]}", {"a": "x"}, False),
    ("{any: [{a: x}, {b: y}]}", {"b": "y"}, True),
    ("{any: [{a: x}, {b: y}]}", {}, False),
    ("{not: {industry: government}}", {}, True),
    ("{not: {industry: government}}", {"industry": "Government"}, False),
    ("{a: x, not: {any: [{b: y}, {c: {gte: 3}}]}}", {"a": "x", "c": "2"}, True),
]


@pytest.mark.parametrize(("text", "props", "expected"), CASES)
def test_operator(text, props, expected):
    assert both(condition(text), props) is expected


def test_every_operator_is_covered():
    from scoring.spec import OPERATORS

    used = {op for text, _, _ in CASES for op in OPERATORS if f"{op}:" in text}
    assert used == set(OPERATORS)
