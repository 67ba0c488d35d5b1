"""Python expressions for model conditions, over property values coerced once into locals.

`ExprBuilder` turns a condition (`scoring.spec.Cond`) into the source of one inline expression;
each property it reads is coerced once per record in the builder's prologue (text, number,
date, domain, age, regex subject). The generated source holds only identifiers and `repr()` of
validated constants; everything else goes in the builder's namespace. Leaves the builder has no
inline form for call the closure `scoring.conditions.compile_leaf` builds over a `Values` view.
Used by the page scorer (`scoring.codegen`), the rule segments (`scoring.rule_codegen`) and
the predicates of disqualifiers, overrides and qualification (`compile_values_predicate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from scoring.coerce import (
    MISSING_TOKENS,
    age_days,
    new_memo,
    to_bool,
    to_datetime,
    to_domain,
    to_number,
    to_text,
)
from scoring.conditions import Values, compile_leaf, cond_properties
from scoring.patterns import MEMO_ENTRIES, MEMO_TEXT_CHARS, compile_matcher
from scoring.spec import AllOf, AnyOf, Cond, Leaf, NotOf

_DAY_SECONDS = 86400.0
_INF = float("inf")
#: The result fields that are ints (`fit`, `interest`, `score`).
_NUMERIC_FIELDS = frozenset({"fit", "interest", "score"})


#: What a known-values table answers for a value it does not hold.
_UNKNOWN = object()


class ExprBuilder:
    """Generates expressions over coerced locals; `fields` binds property names to existing
    variables (any other property reads as None) instead of reading them from `raw`."""

    def __init__(  # noqa: PLR0913  the names it generates with, keyword-only
        self,
        now_name: str = "now",
        *,
        fields: Mapping[str, str] | None = None,
        prefix: str = "",
        ns: dict[str, Any] | None = None,
        now_micros: str | None = None,
        getter: str = "get",
        texts: Mapping[str, Mapping[str, str | None]] | None = None,
    ) -> None:
        self.needs_values = False
        #: for fields with a known, finite set of values (a result's grade, tier, label):
        #: each value's text, looked up instead of computed
        self.texts = texts or {}
        self.now_micros = now_micros
        self.getter = getter
        self.fields = fields
        self.prefix = prefix
        self.ns: dict[str, Any] = (
            ns
            if ns is not None
            else {
                "VALUES": Values,
                "MISSING": MISSING_TOKENS,
                "TXT": to_text,
                "NUM": to_number,
                "DATE": to_datetime,
                "DOM": to_domain,
                "BOOL": to_bool,
                "AGE": age_days,
                "inf": _INF,
            }
        )
        self.locals: dict[tuple[str, str], str] = {}
        self.prologue: list[str] = []
        self.raw_names: dict[str, str] = {}
        self.now = now_name

    def const(self, value: object, prefix: str = "K") -> str:
        name = f"{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def _numeric_field(self, prop: str) -> str | None:
        # a result field that is always an int (NUM of it is the same number as a float)
        if self.fields is not None and prop in _NUMERIC_FIELDS:
            return self.fields.get(prop)
        return None

    def _not_none(self, number: str) -> str:
        """The test that `number` (a numeric local) is present, as a prefix of a conjunction;
        none for a result's fit, interest or score, which always hold a number."""
        fields = self.fields
        if fields is not None and number in {fields.get(f) for f in _NUMERIC_FIELDS}:
            return ""
        return f"{number} is not None and "

    def raw(self, prop: str) -> str:
        """The local holding `prop`'s raw value (read once, in the prologue)."""
        name = self.raw_names.get(prop)
        if name is None:
            name = self.raw_names[prop] = f"{self.prefix}x{len(self.raw_names)}"
            if self.fields is None:
                self.prologue.append(f"{name} = {self.getter}({prop!r})")
            else:
                self.prologue.append(f"{name} = {self.fields.get(prop, 'None')}")
        return name

    def local(self, prop: str, kind: str) -> str:
        """A local holding `prop` coerced to `kind` (t text, n number, d date, m domain, a age,
        s regex subject), computed once in the prologue."""
        key = (prop, kind)
        name = self.locals.get(key)
        if name is not None:
            return name
        if kind == "n":
            number = self._numeric_field(prop)
            if number is not None:
                self.locals[key] = number
                return number
        raw = self.raw(prop)
        name = f"{self.prefix}{kind}{len(self.locals)}"
        if kind == "t" and prop in self.texts:
            table = self.const(dict(self.texts[prop]), "KT")
            self.ns["UNKNOWN"] = _UNKNOWN
            self.prologue.append(f"{name} = {table}.get({raw}, UNKNOWN)")
            self.prologue.append(f"if {name} is UNKNOWN: {name} = TXT({raw})")
        elif kind == "t":
            self.prologue.append(
                f"{name} = {raw}.strip().casefold() if {raw}.__class__ is str else TXT({raw})"
            )
            self.prologue.append(f"if {name} in MISSING: {name} = None")
        elif kind == "n":
            self.prologue.append(f"{name} = NUM({raw})")
        elif kind == "d":
            self.prologue.append(f"{name} = DATE({raw})")
        elif kind == "m":
            self.prologue.append(f"{name} = DOM({raw})")
        elif kind == "a" and self.now_micros is not None:
            self.prologue.append(f"{name} = AGE({raw}, {self.now}, {self.now_micros})")
        elif kind == "a":
            date = self.local(prop, "d")
            self.prologue.append(
                f"{name} = None if {date} is None else "
                f"({self.now} - {date}).total_seconds() / {_DAY_SECONDS!r}"
            )
        else:  # "s": the raw text for regexes
            text = self.local(prop, "t")
            self.prologue.append(f"{name} = {raw} if {raw}.__class__ is str else {text}")
        self.locals[key] = name
        return name

    def expr(self, cond: Cond) -> str:
        if isinstance(cond, Leaf):
            return self.leaf(cond)
        if isinstance(cond, NotOf):
            return f"(not {self.expr(cond.item)})"
        joiner = " and " if isinstance(cond, AllOf) else " or "
        assert isinstance(cond, AllOf | AnyOf)
        return "(" + joiner.join(self.expr(c) for c in cond.items) + ")"

    def leaf(self, leaf: Leaf) -> str:  # noqa: PLR0912  one branch per condition operator
        p, op, arg = leaf.prop, leaf.op, leaf.arg
        if op in ("eq", "neq") and isinstance(arg, str):
            t = self.local(p, "t")
            return f"({t} == {arg!r})" if op == "eq" else f"({t} is not None and {t} != {arg!r})"
        if op in ("eq", "neq") and isinstance(arg, float):
            n = self.local(p, "n")
            test = f"{n} == {arg!r}"
            return (
                f"({test})" if op == "eq" else f"({self.local(p, 't')} is not None and not {test})"
            )
        if op in ("in", "not_in") and isinstance(arg, tuple):
            texts = frozenset(a for a in arg if isinstance(a, str))
            numbers = frozenset(a for a in arg if isinstance(a, float))
            if len(texts) + len(numbers) == len(arg):
                t = self.local(p, "t")
                parts = [f"{t} in {self.const(texts)}"] if texts else []
                if numbers:
                    parts.append(f"{self.local(p, 'n')} in {self.const(numbers)}")
                test = " or ".join(parts)
                return f"({test})" if op == "in" else f"({t} is not None and not ({test}))"
        if op in ("contains", "not_contains", "starts_with", "ends_with") and isinstance(
            arg, tuple
        ):
            t = self.local(p, "t")
            needles = tuple(str(a) for a in arg)
            if op in ("starts_with", "ends_with"):
                method = "startswith" if op == "starts_with" else "endswith"
                return f"({t} is not None and {t}.{method}({self.const(needles)}))"
            test = " or ".join(f"{n!r} in {t}" for n in needles)
            if op == "contains":
                return f"({t} is not None and ({test}))"
            return f"({t} is not None and not ({test}))"
        if op == "matches" and isinstance(arg, str):
            s = self.local(p, "s")
            search = self.const(compile_matcher(arg), "R")
            return f"({s} is not None and {search}({s}))"
        if op in ("exists", "missing") and isinstance(arg, bool):
            t = self.local(p, "t")
            present = arg if op == "exists" else not arg
            return f"({t} is not None)" if present else f"({t} is None)"
        if op in ("gt", "gte", "lt", "lte"):
            symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
            if isinstance(arg, float):
                n = self.local(p, "n")
                return f"({self._not_none(n)}{n} {symbol} {arg!r})"
            if isinstance(arg, str):
                d = self.local(p, "d")
                return f"({d} is not None and {d} {symbol} {self.const(to_datetime(arg), 'D')})"
        if op == "between" and isinstance(arg, tuple):
            low, high = arg
            if isinstance(low, float) and isinstance(high, float):
                n = self.local(p, "n")
                return f"({self._not_none(n)}{low!r} <= {n} <= {high!r})"
        if op == "domain_in" and isinstance(arg, tuple):
            m = self.local(p, "m")
            domains = frozenset(str(a) for a in arg)
            suffixes = tuple("." + d for d in sorted(domains))
            return (
                f"({m} is not None and ({m} in {self.const(domains)} "
                f"or {m}.endswith({self.const(suffixes)})))"
            )
        if op in ("within_days", "older_than_days") and isinstance(arg, float):
            a = self.local(p, "a")
            symbol = "<=" if op == "within_days" else ">"
            return f"({a} is not None and {a} {symbol} {arg!r})"
        # Anything else (bool equality, date between, mixed lists) uses the compiled closure.
        self.needs_values = True
        return f"{self.const(compile_leaf(leaf), 'L')}(values)"


def compile_source(builder: ExprBuilder, name: str, lines: Sequence[str]) -> Any:
    """Execute the generated `lines` defining `name` in a copy of `builder`'s namespace and
    return it (its source as its docstring, for debugging)."""
    source = "\n".join(lines)
    namespace = dict(builder.ns)
    exec(compile(source, f"<leadsync {name}>", "exec"), namespace)
    function = namespace[name]
    function.__doc__ = source
    return function


def define(
    builder: ExprBuilder, name: str, params: str, body: Sequence[str], head: Sequence[str] = ()
) -> Any:
    """A function `name(params)` reading properties through `raw.get`, with `head`, the
    builder's prologue (its coerced locals), then `body`."""
    lines = [
        f"def {name}({params}):",
        *("    " + line for line in head),
        "    get = raw.get",
        *("    " + line for line in builder.prologue),
    ]
    lines.extend("    " + line for line in body)
    return compile_source(builder, name, lines)


def compile_values_predicate(cond: Cond) -> Callable[[Values], bool]:
    """`cond` as a generated predicate over a `Values` view (same contract as `compile_cond`)."""
    b = ExprBuilder(now_name="values.now")
    body = [f"return {b.expr(cond)}"]
    function = define(b, "pred", "values", body, head=["raw = values.raw"])
    return cast(Callable[[Values], bool], function)


def value_only_property(cond: Cond) -> str | None:
    """The one property `cond` reads when that value alone decides it (no clock, no closure
    over the record's values, no domain: emails and websites rarely repeat), else None."""
    props = cond_properties(cond)
    if len(props) != 1:
        return None
    scratch = ExprBuilder()
    scratch.expr(cond)
    if scratch.needs_values or any(kind in "am" for _, kind in scratch.locals):
        return None
    return next(iter(props))


def memo_lookup(
    b: ExprBuilder, name: str, raw: str, fill: ExprBuilder, lines: Sequence[str]
) -> list[str]:
    """Lines setting `name` to the tuple of what `lines` append to `slots` for the value in
    the local `raw`, remembered by text: looked up when `raw` is a `str` (bounded memo,
    emptied by `coerce.clear_memos`), computed once here for None, computed each time for
    other values (equal values of other types, True == 1, must not share an answer).
    `fill` is the builder `lines` were generated with, reading the value from `value`."""
    table = new_memo()
    function = f"FILL{name}"
    b.ns[f"{function}_MEMO"] = table
    b.ns[f"{function}_GET"] = table.get
    body = [
        "slots = []",
        *fill.prologue,
        *lines,
        "result = tuple(slots)",
        f"if value.__class__ is str and len(value) <= {MEMO_TEXT_CHARS}:",
        f"    if len({function}_MEMO) >= {MEMO_ENTRIES}: {function}_MEMO.clear()",
        f"    {function}_MEMO[value] = result",
        "return result",
    ]
    source = [f"def {function}(value):", *("    " + line for line in body)]
    b.ns[function] = compile_source(b, function, source)
    b.ns[f"{function}_NONE"] = b.ns[function](None)
    return [
        f"{name} = {function}_GET({raw}) if {raw}.__class__ is str else "
        f"({function}_NONE if {raw} is None else {function}({raw}))",
        f"if {name} is None: {name} = {function}({raw})",
    ]
