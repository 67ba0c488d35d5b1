"""Parse and check the condition language (`if:`, `where:`, `qualify.enter`) into `scoring.spec`.

A condition is a mapping of `property: test`; several entries must all hold. A test is a mapping
of operators (`{gte: 100, lt: 500}`, all must hold), a list (shorthand for `in`), a scalar
(shorthand for `eq`) or nothing (shorthand for `missing: true`). `all:`, `any:` and `not:` combine
conditions. List arguments may name a list from the model's `lists:` as `$name`.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime, time

from config.yamlpos import Ctx, Node, suggest, type_name
from scoring.coerce import to_datetime
from scoring.patterns import pattern_problem
from scoring.spec import (
    ACCOUNT_FIELDS,
    ACCOUNT_PREFIX,
    OPERATORS,
    AllOf,
    AnyOf,
    Arg,
    Cond,
    Leaf,
    NotOf,
    Scalar,
)

_TEXT_LIST_OPS = ("contains", "not_contains", "starts_with", "ends_with")
_BOUND_OPS = ("gt", "gte", "lt", "lte")

#: How deep `all:` / `any:` / `not:` may nest. Deeper models are refused with a location rather
#: than exhausting the interpreter's stack while parsing, compiling or explaining them.
MAX_NESTING = 32


def scalar(value: object) -> Scalar | None:
    """A YAML scalar as a normalized constant: folded text, float, bool or ISO date text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime | date):
        return _iso(value)
    if isinstance(value, str):
        return value.strip().casefold()
    return None


def _iso(value: date) -> str:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    parsed = to_datetime(value)
    assert parsed is not None
    return parsed.isoformat()


def canonical(cond: Cond) -> str:
    """Stable text of a condition, used to order commutative items."""
    return json.dumps(asdict(cond), sort_keys=True, default=str)


def _all(items: Sequence[Cond]) -> Cond:
    ordered = tuple(sorted(items, key=canonical))
    return ordered[0] if len(ordered) == 1 else AllOf(ordered)


class CondParser:
    """Parses conditions for one model; `fields` restricts the property names (qualify)."""

    def __init__(
        self,
        ctx: Ctx,
        lists: Mapping[str, tuple[Scalar, ...]],
        *,
        fields: Sequence[str] | None = None,
        field_values: Mapping[str, Sequence[str]] | None = None,
        account_refs: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.lists = lists
        self.fields = fields
        #: Why `account.<field>` names are refused here (None: they are allowed).
        self.account_refs = account_refs
        #: field -> {case-folded value: value as written in the model}
        self.field_values = {
            name: {v.casefold(): v for v in values} for name, values in (field_values or {}).items()
        }
        self.used_lists: set[str] = set()
        self._depth = 0

    def parse(self, node: Node) -> Cond | None:
        """The condition at `node`, or None after reporting what is wrong."""
        if self._depth >= MAX_NESTING:
            self.ctx.error(
                node,
                f"conditions nested more than {MAX_NESTING} deep (all/any/not): "
                "flatten them or split the rule",
            )
            return None
        self._depth += 1
        try:
            return self._parse(node)
        finally:
            self._depth -= 1

    def _parse(self, node: Node) -> Cond | None:
        if not isinstance(node.value, Mapping):
            self.ctx.error(
                node,
                f"expected a condition (a mapping of property: test), got {type_name(node.value)}",
            )
            return None
        if not node.value:
            self.ctx.error(node, "empty condition: name at least one property to test")
            return None
        items: list[Cond] = []
        ok = True
        for key, child in node.items():
            cond = self._entry(key, child, node)
            if cond is None:
                ok = False
            else:
                items.append(cond)
        return _all(items) if ok and items else None

    def _entry(self, key: str, child: Node, parent: Node) -> Cond | None:
        if key in ("all", "any"):
            elements = self.ctx.list_of(child, "conditions")
            parsed = [self.parse(e) for e in elements]
            if not elements or any(p is None for p in parsed):
                return None
            conds = [p for p in parsed if p is not None]
            if len(conds) == 1:
                return conds[0]
            ordered = tuple(sorted(conds, key=canonical))
            return AllOf(ordered) if key == "all" else AnyOf(ordered)
        if key == "not":
            inner = self.parse(child)
            return NotOf(inner) if inner is not None else None
        if self.fields is not None and key not in self.fields:
            self.ctx.error(
                parent.key_node(key),
                f"unknown field '{key}'{suggest(key, self.fields)}; "
                f"valid fields: {', '.join(self.fields)}",
            )
            return None
        if key.startswith(ACCOUNT_PREFIX) and not self._account_ref(key, parent):
            return None
        name = "grade" if key == "fit_grade" else key
        return self._test(name, child)

    def _account_ref(self, key: str, parent: Node) -> bool:
        """Check an `account.<field>` name: allowed here, and a field of the account's result."""
        if self.account_refs is not None:
            self.ctx.error(parent.key_node(key), self.account_refs)
            return False
        field = key[len(ACCOUNT_PREFIX) :]
        if field not in ACCOUNT_FIELDS:
            self.ctx.error(
                parent.key_node(key),
                f"unknown account field '{field}'{suggest(field, ACCOUNT_FIELDS)}; "
                f"valid: {', '.join(ACCOUNT_PREFIX + f for f in ACCOUNT_FIELDS)}",
            )
            return False
        return True

    def _test(self, prop: str, node: Node) -> Cond | None:
        value = node.value
        if value is None:
            return Leaf(prop, "missing", True)
        if isinstance(value, list) or (isinstance(value, str) and value.startswith("$")):
            items = self._list_arg(node, "in")
            return None if items is None else self._leaf(prop, "in", items, node)
        if not isinstance(value, Mapping):
            return self._equals(prop, node)
        if not value:
            self.ctx.error(node, "no operator given, e.g. {eq: value} or {gte: 100}")
            return None
        leaves: list[Leaf] = []
        ok = True
        for op, arg_node in node.items():
            leaf = self._operator(prop, op, arg_node, node)
            ok = ok and leaf is not None
            if leaf is not None:
                leaves.append(leaf)
        if not ok or not leaves:
            return None
        if not self._bounds_possible(leaves, node):
            return None
        return _all(leaves)

    def _equals(self, prop: str, node: Node) -> Leaf | None:
        """`property: value`, the shorthand of `{eq: value}`."""
        value = node.value
        if isinstance(value, str) and not value.strip():
            self.ctx.error(node, "empty value: use `missing: true` to test for no data")
            return None
        constant = scalar(value)
        if constant is None:
            self.ctx.error(node, f"expected a value or operators, got {type_name(value)}")
            return None
        return self._leaf(prop, "eq", constant, node)

    def _operator(self, prop: str, op: str, arg_node: Node, parent: Node) -> Leaf | None:
        """One `op: argument` of a property's operator mapping."""
        if op not in OPERATORS:
            self.ctx.error(
                parent.key_node(op),
                f"unknown operator '{op}'{suggest(op, OPERATORS)}; "
                f"valid operators: {', '.join(OPERATORS)}",
            )
            return None
        arg = self._arg(op, arg_node)
        return None if arg is None else self._leaf(prop, op, arg, arg_node)

    def _leaf(self, prop: str, op: str, arg: Arg, node: Node) -> Leaf | None:
        known = self.field_values.get(prop)
        if known is not None and op in ("eq", "neq", "in", "not_in"):
            items = arg if isinstance(arg, tuple) else (arg,)
            bad = [str(a) for a in items if str(a) not in known]
            if bad:
                shown = ", ".join(known.values())
                written = node.value if isinstance(node.value, list) else [node.value]
                wrong = next((str(v) for v in written if str(v).casefold() in bad), bad[0])
                self.ctx.error(node, f"unknown {prop} '{wrong}' (valid: {shown})")
                return None
        return Leaf(prop, op, arg)

    def _arg(self, op: str, node: Node) -> Arg | None:
        value = node.value
        if op in ("eq", "neq"):
            if isinstance(value, str) and value.startswith("$"):
                self.ctx.error(node, f"'{op}' takes one value; use 'in' with a named list")
                return None
            arg = scalar(value)
            if arg is None or (isinstance(value, str) and not value.strip()):
                self.ctx.error(node, f"'{op}' expects one value, got {type_name(value)}")
                return None
            return arg
        if op in ("in", "not_in"):
            return self._list_arg(node, op)
        if op in (*_TEXT_LIST_OPS, "domain_in"):
            return self._text_list_arg(node, op)
        if op == "matches":
            if not isinstance(value, str) or not value:
                self.ctx.error(
                    node, f"'matches' expects a regular expression, got {type_name(value)}"
                )
                return None
            problem = pattern_problem(value)
            if problem is not None:
                self.ctx.error(node, problem)
                return None
            return value
        if op in ("exists", "missing"):
            flag = self.ctx.boolean(node)
            return flag
        if op in _BOUND_OPS:
            return self._bound(node, op)
        if op == "between":
            return self._between(node)
        # within_days / older_than_days
        return self.ctx.number(node, minimum=0)

    def _resolve_list(self, node: Node) -> tuple[Scalar, ...] | None:
        name = str(node.value)[1:]
        if name not in self.lists:
            message = f"unknown list '${name}'"
            close = difflib.get_close_matches(name, list(self.lists), n=1, cutoff=0.6)
            if close:
                message += f" (did you mean '${close[0]}'?)"
            if self.lists:
                message += f"; lists defined: {', '.join('$' + n for n in self.lists)}"
            else:
                message += "; define it under 'lists:'"
            self.ctx.error(node, message)
            return None
        self.used_lists.add(name)
        return self.lists[name]

    def values(self, node: Node, what: str) -> tuple[Scalar, ...]:
        """A value, a list of values or a `$list` (lists may name lists) under key `what`;
        () after reporting a problem."""
        item = scalar(node.value) if not isinstance(node.value, list) else None
        if item is not None and not (isinstance(item, str) and item.startswith("$")):
            return (item,)
        return self._list_arg(node, what) or ()

    def _list_arg(self, node: Node, op: str) -> tuple[Scalar, ...] | None:
        value = node.value
        if isinstance(value, str) and value.startswith("$"):
            return self._resolve_list(node)
        if not isinstance(value, list):
            self.ctx.error(
                node, f"'{op}' expects a list of values or a $list, got {type_name(value)}"
            )
            return None
        if not value:
            self.ctx.error(node, f"'{op}' needs at least one value")
            return None
        out: list[Scalar] = []
        for element in node.elements():
            if isinstance(element.value, str) and element.value.startswith("$"):
                resolved = self._resolve_list(element)
                if resolved is None:
                    return None
                out.extend(resolved)
                continue
            item = scalar(element.value)
            if item is None:
                self.ctx.error(element, f"expected a value, got {type_name(element.value)}")
                return None
            out.append(item)
        return tuple(sorted(set(out), key=lambda s: (type(s).__name__, str(s))))

    def _text_list_arg(self, node: Node, op: str) -> tuple[Scalar, ...] | None:
        value = node.value
        if isinstance(value, str) and not value.startswith("$"):
            items: tuple[Scalar, ...] = (value,)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            items = (str(value),)
        else:
            resolved = self._list_arg(node, op)
            if resolved is None:
                return None
            items = resolved
        texts = []
        for item in items:
            text = str(item).strip().casefold() if not isinstance(item, float) else f"{item:g}"
            if op == "domain_in":
                text = text.lstrip("@").removeprefix("www.").strip(".")
            if not text:
                self.ctx.error(node, f"'{op}' values must not be empty")
                return None
            texts.append(text)
        return tuple(sorted(set(texts)))

    def _bound(self, node: Node, op: str) -> Arg | None:
        value = node.value
        if isinstance(value, bool):
            self.ctx.error(node, f"'{op}' expects a number or a date, got true/false")
            return None
        if isinstance(value, int | float):
            return self.ctx.number(node)
        if isinstance(value, date | datetime):
            return _iso(value)
        if (
            isinstance(value, str)
            and to_datetime(value) is not None
            and not value.strip().isdigit()
        ):
            parsed = to_datetime(value)
            assert parsed is not None
            return parsed.isoformat()
        self.ctx.error(node, f"'{op}' expects a number or a date, got {type_name(value)}")
        return None

    def _between(self, node: Node) -> Arg | None:
        value = node.value
        if not isinstance(value, list) or len(value) != 2:
            self.ctx.error(node, "'between' expects [low, high]")
            return None
        low = self._bound(node.child(0), "between")
        high = self._bound(node.child(1), "between")
        if low is None or high is None:
            return None
        if isinstance(low, str) != isinstance(high, str):
            self.ctx.error(node, "'between' bounds must both be numbers or both be dates")
            return None
        if _greater(low, high):
            self.ctx.error(node, f"impossible bounds: low {_show(low)} is above high {_show(high)}")
            return None
        return (low, high)  # type: ignore[return-value]

    def _bounds_possible(self, leaves: Sequence[Leaf], node: Node) -> bool:
        ops = {leaf.op: leaf.arg for leaf in leaves}
        if ops.get("exists") is True and ops.get("missing") is True:
            self.ctx.error(node, "impossible: 'exists' and 'missing' can never both hold")
            return False
        lows = [(op, ops[op]) for op in ("gt", "gte") if op in ops]
        highs = [(op, ops[op]) for op in ("lt", "lte") if op in ops]
        for low_op, low in lows:
            for high_op, high in highs:
                if isinstance(low, str) != isinstance(high, str):
                    self.ctx.error(node, "bounds must both be numbers or both be dates")
                    return False
                strict = low_op == "gt" or high_op == "lt"
                if _greater(low, high) or (strict and low == high):
                    self.ctx.error(
                        node,
                        f"impossible bounds: {low_op} {_show(low)} and {high_op} {_show(high)} "
                        "can never both hold",
                    )
                    return False
        return True


def _greater(a: Arg, b: Arg) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        da, db = to_datetime(a), to_datetime(b)
        return da is not None and db is not None and da > db
    if isinstance(a, float) and isinstance(b, float):
        return a > b
    return False


def _show(value: Arg) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
