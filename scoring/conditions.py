"""Conditions compiled once into predicates over a lazily coerced view of values.

A `Values` view wraps one record's properties (or one event's attributes, or a result's fields)
and coerces each value at most once per kind (text, number, date, domain), however many rules read
it. Every operator is false on a missing value except `missing` and `exists: false`; `not` is the
plain logical complement, so `not: {industry: {eq: government}}` holds for an unknown industry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from scoring.coerce import MISSING_TOKENS, to_bool, to_datetime, to_domain, to_number, to_text
from scoring.patterns import compile_matcher
from scoring.spec import AllOf, Arg, Cond, Leaf, NotOf

_UNSET: object = object()
_DAY_SECONDS = 86400.0


class Values:
    """Coerced access to a mapping of raw values, each coercion computed once."""

    __slots__ = ("_date", "_domain", "_num", "_text", "now", "raw")

    def __init__(self, raw: Mapping[str, object], now: datetime) -> None:
        self.raw = raw
        self.now = now
        self._text: dict[str, str | None] = {}
        self._num: dict[str, float | None] | None = None
        self._date: dict[str, datetime | None] | None = None
        self._domain: dict[str, str | None] | None = None

    def text(self, name: str) -> str | None:
        """Case-folded trimmed text, None when missing."""
        cache = self._text
        value = cache.get(name, _UNSET)
        if value is _UNSET:
            raw = self.raw.get(name)
            if type(raw) is str:
                value = raw.strip().casefold()
                if value in MISSING_TOKENS:
                    value = None
            else:
                value = to_text(raw)
            cache[name] = value
        return value  # type: ignore[return-value]

    def num(self, name: str) -> float | None:
        """The value as a number ("1,000", "500+", "25-50" -> 25), None when not numeric."""
        cache = self._num
        if cache is None:
            cache = self._num = {}
        value = cache.get(name, _UNSET)
        if value is _UNSET:
            value = cache[name] = to_number(self.raw.get(name))
        return value  # type: ignore[return-value]

    def date(self, name: str) -> datetime | None:
        """The value as an aware UTC datetime, None when not a date."""
        cache = self._date
        if cache is None:
            cache = self._date = {}
        value = cache.get(name, _UNSET)
        if value is _UNSET:
            value = cache[name] = to_datetime(self.raw.get(name))
        return value  # type: ignore[return-value]

    def domain(self, name: str) -> str | None:
        """The domain of an email address or website, None when there is none."""
        cache = self._domain
        if cache is None:
            cache = self._domain = {}
        value = cache.get(name, _UNSET)
        if value is _UNSET:
            value = cache[name] = to_domain(self.raw.get(name))
        return value  # type: ignore[return-value]

    def age_days(self, name: str) -> float | None:
        """Days from the date in `name` to now (negative for future dates), None if no date."""
        when = self.date(name)
        if when is None:
            return None
        return (self.now - when).total_seconds() / _DAY_SECONDS

    def present(self, name: str) -> bool:
        """True when the value carries data (not None, empty or a placeholder like N/A)."""
        return self.text(name) is not None


Pred = Callable[[Values], bool]


def compile_cond(cond: Cond) -> Pred:
    """A predicate for a whole condition tree."""
    if isinstance(cond, Leaf):
        return compile_leaf(cond)
    if isinstance(cond, NotOf):
        inner = compile_cond(cond.item)
        return lambda v: not inner(v)
    preds = tuple(compile_cond(c) for c in cond.items)
    if len(preds) == 1:
        return preds[0]
    if isinstance(cond, AllOf):
        if len(preds) == 2:
            first, second = preds
            return lambda v: first(v) and second(v)
        return lambda v: all(p(v) for p in preds)
    return lambda v: any(p(v) for p in preds)


def _is_date_arg(arg: Arg) -> bool:
    return isinstance(arg, str)


def compile_leaf(leaf: Leaf) -> Pred:  # noqa: PLR0912  one branch per condition operator
    """A predicate for one `property: {operator: argument}` test."""
    p, op, arg = leaf.prop, leaf.op, leaf.arg
    if op in ("eq", "neq"):
        eq = _compile_eq(p, arg)
        if op == "eq":
            return eq
        return lambda v: v.present(p) and not eq(v)
    if op in ("in", "not_in"):
        member = _compile_in(p, arg)
        if op == "in":
            return member
        return lambda v: v.present(p) and not member(v)
    if op in ("contains", "not_contains"):
        needles = _strings(arg)

        def contains(v: Values) -> bool:
            t = v.text(p)
            return t is not None and any(n in t for n in needles)

        if op == "contains":
            return contains
        return lambda v: v.text(p) is not None and not contains(v)
    if op == "starts_with":
        prefixes = _strings(arg)
        return lambda v: (t := v.text(p)) is not None and t.startswith(prefixes)
    if op == "ends_with":
        suffixes = _strings(arg)
        return lambda v: (t := v.text(p)) is not None and t.endswith(suffixes)
    if op == "matches":
        search = compile_matcher(str(arg))

        def matches(v: Values) -> bool:
            raw = v.raw.get(p)
            if raw is None:
                return False
            text = raw if isinstance(raw, str) else v.text(p)
            return text is not None and search(text)

        return matches
    if op == "exists":
        want = bool(arg)
        return lambda v: v.present(p) is want
    if op == "missing":
        want = bool(arg)
        return lambda v: (not v.present(p)) is want
    if op in ("gt", "gte", "lt", "lte"):
        return _compile_compare(p, op, arg)
    if op == "between":
        assert isinstance(arg, tuple)
        low, high = arg
        if _is_date_arg(low):
            lo_d, hi_d = to_datetime(low), to_datetime(high)
            assert lo_d is not None and hi_d is not None
            return lambda v: (d := v.date(p)) is not None and lo_d <= d <= hi_d
        lo, hi = float(low), float(high)
        return lambda v: (n := v.num(p)) is not None and lo <= n <= hi
    if op == "domain_in":
        domains = frozenset(_strings(arg))
        suffixes = tuple("." + d for d in domains)

        def domain_in(v: Values) -> bool:
            d = v.domain(p)
            return d is not None and (d in domains or d.endswith(suffixes))

        return domain_in
    if op == "within_days":
        days = float(arg)  # type: ignore[arg-type]
        return lambda v: (a := v.age_days(p)) is not None and a <= days
    if op == "older_than_days":
        days = float(arg)  # type: ignore[arg-type]
        return lambda v: (a := v.age_days(p)) is not None and a > days
    raise ValueError(f"unknown operator {op!r}")


def _strings(arg: Arg) -> tuple[str, ...]:
    if isinstance(arg, tuple):
        return tuple(str(a) for a in arg)
    return (str(arg),)


def _compile_eq(p: str, arg: Arg) -> Pred:
    if isinstance(arg, bool):
        return lambda v: to_bool(v.raw.get(p)) is arg
    if isinstance(arg, float):
        return lambda v: v.num(p) == arg
    text = str(arg)
    return lambda v: v.text(p) == text


def _compile_in(p: str, arg: Arg) -> Pred:
    items = arg if isinstance(arg, tuple) else (arg,)
    texts = frozenset(str(a) for a in items if isinstance(a, str))
    numbers = frozenset(float(a) for a in items if isinstance(a, float) and not isinstance(a, bool))
    bools = frozenset(a for a in items if isinstance(a, bool))
    if not numbers and not bools:
        return lambda v: v.text(p) in texts

    def member(v: Values) -> bool:
        if v.text(p) in texts:
            return True
        if numbers and v.num(p) in numbers:
            return True
        return bool(bools) and to_bool(v.raw.get(p)) in bools

    return member


def _compile_compare(p: str, op: str, arg: Arg) -> Pred:
    if isinstance(arg, str):
        bound = to_datetime(arg)
        assert bound is not None
        if op == "gt":
            return lambda v: (d := v.date(p)) is not None and d > bound
        if op == "gte":
            return lambda v: (d := v.date(p)) is not None and d >= bound
        if op == "lt":
            return lambda v: (d := v.date(p)) is not None and d < bound
        return lambda v: (d := v.date(p)) is not None and d <= bound
    limit = float(arg)  # type: ignore[arg-type]
    if op == "gt":
        return lambda v: (n := v.num(p)) is not None and n > limit
    if op == "gte":
        return lambda v: (n := v.num(p)) is not None and n >= limit
    if op == "lt":
        return lambda v: (n := v.num(p)) is not None and n < limit
    return lambda v: (n := v.num(p)) is not None and n <= limit


@dataclass(frozen=True, slots=True)
class LeafTrace:
    """One leaf test as evaluated: the raw value seen and whether the test held."""

    prop: str
    op: str
    arg: Arg
    value: object
    matched: bool


def trace_cond(cond: Cond, values: Values) -> tuple[bool, tuple[LeafTrace, ...]]:
    """Evaluate `cond` leaf by leaf (no short-circuit) for explanations."""
    leaves: list[LeafTrace] = []

    def walk(c: Cond) -> bool:
        if isinstance(c, Leaf):
            ok = compile_leaf(c)(values)
            leaves.append(LeafTrace(c.prop, c.op, c.arg, values.raw.get(c.prop), ok))
            return ok
        if isinstance(c, NotOf):
            return not walk(c.item)
        results = [walk(i) for i in c.items]
        return all(results) if isinstance(c, AllOf) else any(results)

    return walk(cond), tuple(leaves)


def cond_properties(cond: Cond | None) -> frozenset[str]:
    """Every property name a condition reads."""
    if cond is None:
        return frozenset()
    if isinstance(cond, Leaf):
        return frozenset({cond.prop})
    if isinstance(cond, NotOf):
        return cond_properties(cond.item)
    out: frozenset[str] = frozenset()
    for item in cond.items:
        out |= cond_properties(item)
    return out


def describe_cond(cond: Cond) -> str:
    """A compact one-line rendering, e.g. `jobtitle matches '\\bvp\\b' and numemployees gte 100`.

    Text is shown as a model file writes it (YAML single quotes: a backslash is itself, a quote
    is doubled), so a pattern copied from `explain` back into a model means the same.
    """
    if isinstance(cond, Leaf):
        return f"{cond.prop} {cond.op} {_describe_arg(cond.arg)}"
    if isinstance(cond, NotOf):
        return f"not ({describe_cond(cond.item)})"
    joiner = " and " if isinstance(cond, AllOf) else " or "
    inner = joiner.join(describe_cond(i) for i in cond.items)
    return f"({inner})" if len(cond.items) > 1 else inner


def yaml_quoted(text: str) -> str:
    """`text` as a YAML scalar that reads back as `text`: single-quoted, or double-quoted with
    escapes when it holds a line break or another control character single quotes cannot carry.
    """
    if any(ch < " " for ch in text):
        return json.dumps(text, ensure_ascii=False)
    return "'" + text.replace("'", "''") + "'"


def _describe_arg(arg: Arg) -> str:
    if isinstance(arg, tuple):
        shown = ", ".join(_describe_arg(a) for a in arg[:6])
        more = f", ... ({len(arg)} items)" if len(arg) > 6 else ""
        return f"[{shown}{more}]"
    if isinstance(arg, float) and arg.is_integer():
        return str(int(arg))
    if isinstance(arg, str):
        return yaml_quoted(arg)
    return str(arg).lower() if isinstance(arg, bool) else str(arg)
