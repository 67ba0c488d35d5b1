"""Rewrite a model file with new points and thresholds, keeping its comments and layout.

`calibrate` proposes numbers; this module puts them into the admin's own YAML (ruamel.yaml
round-trip, so comments, key order and flow style survive) and shows the change as a unified
diff. Rules are found by name (names are unique within a model).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from config.errors import UserError

#: A rule to add: (name, property, condition on it, points).
NewRule = tuple[str, str, Mapping[str, object], float]


@dataclass(frozen=True, slots=True)
class Edits:
    """New values for a model. Keys of `points` are (rule name, band index or None)."""

    points: Mapping[tuple[str, int | None], float] = field(default_factory=dict)
    rule_max: Mapping[str, float] = field(default_factory=dict)
    weights: tuple[float, float] | None = None
    grades: Mapping[str, float] | None = None
    tiers: Mapping[str, float] | None = None
    qualify: tuple[float, float] | None = None
    header: str | None = None
    #: New rule groups: (dimension, group name, rules as (name, property, condition, points)).
    add_groups: tuple[tuple[str, str, tuple[NewRule, ...]], ...] = ()
    #: Names of rules to delete (a group left without rules goes too).
    remove: frozenset[str] = frozenset()
    #: Per rule name, a comment written after it.
    comments: Mapping[str, str] = field(default_factory=dict)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


def _flow(mapping: dict[str, Any]) -> CommentedMap:
    node = CommentedMap(mapping)
    node.fa.set_flow_style()
    return node


def _rules(root: Any) -> Iterator[Any]:
    for dimension in ("fit", "interest"):
        dim = root.get(dimension) if isinstance(root, Mapping) else None
        if not isinstance(dim, Mapping):
            continue
        for group in dim.get("groups") or []:
            if isinstance(group, Mapping):
                yield from group.get("rules") or []
        yield from dim.get("rules") or []
    members = root.get("members") if isinstance(root, Mapping) else None
    if isinstance(members, Mapping):
        yield from members.get("rollup") or []


def _set_thresholds(root: Any, which: str, values: Mapping[str, float]) -> None:
    grades = root.get("grades")
    if not isinstance(grades, CommentedMap):
        grades = _flow({})
        root["grades"] = grades
    current = grades.get(which)
    if isinstance(current, CommentedMap):
        for key in list(current):
            if str(key) in values:
                current[key] = _number(values[str(key)])
            else:  # a level the data cannot fill (`revops.ladder`)
                del current[key]
    else:
        grades[which] = _flow({k: _number(v) for k, v in values.items()})


@functools.lru_cache(maxsize=8)
def _indent(text: str) -> tuple[int, int, int] | None:
    """(mapping, sequence, offset) indentation of the file, so a rewrite keeps its layout."""
    _, sequence, offset = load_yaml_guess_indent(text)
    if not sequence:
        return None
    offset = offset or 0
    return (sequence - offset if sequence > offset else sequence), sequence, offset


def _set_points(root: CommentedMap, edits: Edits) -> None:
    """New points (and rule caps) of the rules named in `edits`."""
    for rule in _rules(root):
        if not isinstance(rule, CommentedMap):
            continue
        name = str(rule.get("name"))
        for (rule_name, band), points in edits.points.items():
            if rule_name != name:
                continue
            if band is None:
                rule["points"] = _number(points)
            else:
                steps: list[Any] = list(rule.get("bands") or rule.get("recency") or [])
                if "recency" in rule:
                    # The spec sorts recency steps by within_days; the file may not.
                    steps.sort(key=lambda step: float(step["within_days"]))
                steps[band]["points"] = _number(points)
        if name in edits.rule_max and "max" in rule:
            rule["max"] = _number(edits.rule_max[name])


def apply_edits(text: str, edits: Edits, source: str = "<model>") -> str:
    """The model text with `edits` applied."""
    yaml = _yaml()
    root = yaml.load(StringIO(text))
    indent = _indent(text)
    if indent is not None:
        yaml.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    if not isinstance(root, CommentedMap):
        raise UserError(f"{source}: not a model mapping")
    _set_points(root, edits)
    _add_groups(root, edits)
    _remove_rules(root, edits.remove)
    for rule in _rules(root):
        if isinstance(rule, CommentedMap) and str(rule.get("name")) in edits.comments:
            rule.yaml_add_eol_comment(edits.comments[str(rule.get("name"))], "points")
    if edits.weights is not None:
        combine = _flow({"fit": _number(edits.weights[0]), "interest": _number(edits.weights[1])})
        if "combine" in root:
            root["combine"] = combine
        else:
            root.insert(list(root).index("interest") + 1 if "interest" in root else len(root),
                        "combine", combine)  # fmt: skip
    if edits.grades is not None:
        _set_thresholds(root, "fit", edits.grades)
    if edits.tiers is not None:
        _set_thresholds(root, "interest", edits.tiers)
    if edits.qualify is not None:
        enter, leave = edits.qualify
        qualify = CommentedMap()
        qualify["enter"] = _flow({"score": _flow({"gte": _number(enter)})})
        qualify["exit"] = _flow({"score": _flow({"lt": _number(leave)})})
        old = root.get("qualify")
        if isinstance(old, Mapping) and "cooldown_days" in old:
            qualify["cooldown_days"] = old["cooldown_days"]
        root["qualify"] = qualify
    out = StringIO()
    yaml.dump(root, out)
    body = out.getvalue()
    if edits.header:
        header = "".join(f"# {line}\n" if line else "#\n" for line in edits.header.splitlines())
        body = header + body
    return body


def _add_groups(root: CommentedMap, edits: Edits) -> None:
    for dimension, group_name, rules in edits.add_groups:
        dim = root.get(dimension)
        if not isinstance(dim, CommentedMap):
            dim = CommentedMap()
            root[dimension] = dim
        if not isinstance(dim.get("groups"), list):
            dim.insert(0 if "max" not in dim else 1, "groups", CommentedSeq())
        group = CommentedMap()
        group["name"] = group_name
        group["rules"] = CommentedSeq(
            CommentedMap(
                {
                    "name": name,
                    "if": _flow({prop: _flow({k: _plain(v) for k, v in condition.items()})}),
                    "points": _number(points),
                }
            )
            for name, prop, condition, points in rules
        )
        dim["groups"].append(group)


def _plain(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _remove_rules(root: CommentedMap, names: frozenset[str]) -> None:
    if not names:
        return
    for dimension in ("fit", "interest"):
        dim = root.get(dimension)
        if not isinstance(dim, Mapping):
            continue
        groups = dim.get("groups") or []
        for group in list(groups):
            if not isinstance(group, Mapping) or not group.get("rules"):
                continue
            rules = group["rules"]
            for rule in [r for r in rules if isinstance(r, Mapping) and r.get("name") in names]:
                rules.remove(rule)
            if not rules:
                groups.remove(group)
        rules = dim.get("rules") or []
        for rule in [r for r in rules if isinstance(r, Mapping) and r.get("name") in names]:
            rules.remove(rule)
        # A list the removals emptied goes with its key: the model language refuses an empty
        # list (a dimension whose only groups were proposed and none was kept, say).
        for key, items in (("groups", groups), ("rules", rules)):
            if isinstance(dim, CommentedMap) and key in dim and dim[key] is items and not items:
                del dim[key]


def unified_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff of two model texts ('' when they are equal)."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=before_name,
            tofile=after_name,
        )
    )
