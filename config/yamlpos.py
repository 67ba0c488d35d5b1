"""Located checks over a ruamel.yaml round-trip tree.

`Ctx` collects `Problem`s (file:line:col key.path: message) instead of raising, so a loader can
report every mistake in a file at once. `Node` pairs a value with its key path and position.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from config.errors import Problem


def suggest(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` when a choice is close to `word`, else ``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def type_name(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, date | datetime):
        return "a date"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value with where it sits: its key path and 1-based line and column."""

    value: Any
    path: str
    line: int | None
    col: int | None

    def child(self, key: str | int) -> Node:
        """The value under a mapping key or at a list index, positioned at the value."""
        v = self.value
        if isinstance(key, int):
            line, col = _item_pos(v, key)
            return Node(v[key], f"{self.path}[{key}]", line or self.line, col or self.col)
        line, col = _pos(v, key, "value")
        return Node(v[key], _join(self.path, key), line or self.line, col or self.col)

    def key_node(self, key: str) -> Node:
        """A node positioned at the key itself (for unknown-key errors)."""
        line, col = _pos(self.value, key, "key")
        return Node(key, _join(self.path, key), line or self.line, col or self.col)

    def items(self) -> Iterator[tuple[str, Node]]:
        for key in self.value:
            yield str(key), self.child(key)

    def elements(self) -> Iterator[Node]:
        for i in range(len(self.value)):
            yield self.child(i)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _pos(mapping: Any, key: object, which: str) -> tuple[int | None, int | None]:
    lc = getattr(mapping, "lc", None)
    if lc is None:
        return None, None
    try:
        line, col = lc.key(key) if which == "key" else lc.value(key)
    except (KeyError, TypeError, AttributeError):
        return None, None
    return line + 1, col + 1


def _item_pos(seq: Any, index: int) -> tuple[int | None, int | None]:
    lc = getattr(seq, "lc", None)
    if lc is None:
        return None, None
    try:
        line, col = lc.item(index)
    except (KeyError, TypeError, AttributeError, IndexError):
        return None, None
    return line + 1, col + 1


@dataclass
class Ctx:
    """Where problems are collected for one file."""

    source: str
    problems: list[Problem] = field(default_factory=list)

    def error(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.source, node.line, node.col, node.path, message))

    def mapping(
        self,
        node: Node,
        allowed: Iterable[str],
        *,
        required: Iterable[str] = (),
        what: str = "",
        hints: Mapping[str, str] | None = None,
    ) -> bool:
        """Check `node` is a mapping with only `allowed` keys and every `required` key."""
        if not isinstance(node.value, Mapping):
            self.error(node, f"expected {what or 'a mapping'}, got {type_name(node.value)}")
            return False
        allowed = tuple(allowed)
        for key in node.value:
            name = str(key)
            if name in allowed:
                continue
            hint = (hints or {}).get(name)
            message = f"unknown key '{name}'"
            message += f": {hint}" if hint else suggest(name, allowed)
            if not hint:
                message += f"; valid keys: {', '.join(allowed)}"
            self.error(node.key_node(key), message)
        for key in required:
            if key not in node.value:
                self.error(node, f"missing required key '{key}'")
        return True

    def list_of(self, node: Node, what: str, *, non_empty: bool = True) -> list[Node]:
        if not isinstance(node.value, list):
            self.error(node, f"expected a list of {what}, got {type_name(node.value)}")
            return []
        if non_empty and not node.value:
            self.error(node, f"empty list: add at least one {what.rstrip('s')}")
        return list(node.elements())

    def text(self, node: Node, *, allow_empty: bool = False) -> str | None:
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, Mapping | list):
            self.error(node, f"expected text, got {type_name(value)}")
            return None
        text = str(value).strip()
        if not text and not allow_empty:
            self.error(node, "must not be empty")
            return None
        return text

    def number(
        self,
        node: Node,
        *,
        positive: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float | None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(node, f"expected a number, got {type_name(value)}")
            return None
        number = float(value)
        if not math.isfinite(number):
            self.error(node, "expected a finite number")
            return None
        if positive and number <= 0:
            self.error(node, f"must be greater than 0, got {value}")
            return None
        if minimum is not None and number < minimum:
            self.error(node, f"must be at least {minimum:g}, got {value}")
            return None
        if maximum is not None and number > maximum:
            self.error(node, f"must be at most {maximum:g}, got {value}")
            return None
        return number

    def integer(self, node: Node, *, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(node, f"expected a whole number, got {type_name(value)}")
            return None
        if not minimum <= value <= maximum:
            self.error(node, f"must be between {minimum} and {maximum}, got {value}")
            return None
        return int(value)

    def boolean(self, node: Node) -> bool | None:
        if not isinstance(node.value, bool):
            self.error(node, f"expected true or false, got {type_name(node.value)}")
            return None
        return bool(node.value)
