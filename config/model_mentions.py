"""Where a model file names record properties: the positions the property checks locate their
problems at (`config.model_refs`, and the model parser's refusal of names a model's own object
cannot have)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from config.yamlpos import Node


def property_mentions(root: Node) -> Iterator[tuple[str, Node]]:
    """(property, node) for each place a model tree names a record property, in file order:
    condition keys of rules, disqualifiers and overrides, `property` and `age_from` of rules,
    and `completeness`. Event attributes (`where`), people (`members`) and result fields
    (`qualify`) are not record properties."""
    for dimension in _child(root, "fit"), _child(root, "interest"):
        for group in _elements(dimension, "groups"):
            for rule in _elements(group, "rules"):
                yield from _rule(rule)
        for rule in _elements(dimension, "rules"):
            yield from _rule(rule)
    for check in (*_elements(root, "disqualify"), *_elements(root, "overrides")):
        if (cond := _child(check, "if")) is not None:
            yield from _condition(cond)
    for element in _elements(root, "completeness"):
        if isinstance(element.value, str):
            yield element.value.strip(), element


def member_mentions(root: Node) -> Iterator[tuple[str, Node]]:
    """(property, node) for each place an account model names a property of its people: the
    `members.title` and the condition keys of its roles."""
    members = _child(root, "members")
    title = _child(members, "title")
    if title is not None and isinstance(title.value, str):
        yield title.value.strip(), title
    for role in _elements(members, "roles"):
        if (cond := _child(role, "if")) is not None:
            yield from _condition(cond)


def _child(node: Node | None, key: str) -> Node | None:
    if node is None or not isinstance(node.value, Mapping) or key not in node.value:
        return None
    return node.child(key)


def _elements(node: Node | None, key: str) -> list[Node]:
    child = _child(node, key)
    return list(child.elements()) if child is not None and isinstance(child.value, list) else []


def _rule(node: Node) -> Iterator[tuple[str, Node]]:
    if not isinstance(node.value, Mapping):
        return
    for key in ("property", "age_from"):
        if isinstance(node.value.get(key), str):
            yield node.value[key].strip(), node.child(key)
    if (cond := _child(node, "if")) is not None:
        yield from _condition(cond)


def _condition(node: Node) -> Iterator[tuple[str, Node]]:
    if not isinstance(node.value, Mapping):
        return
    for key, child in node.items():
        if key in ("all", "any"):
            if isinstance(child.value, list):
                for element in child.elements():
                    yield from _condition(element)
        elif key == "not":
            yield from _condition(child)
        else:
            yield key, node.key_node(key)
