"""Where a model file names record properties, and which of them a data source lacks.

A rule naming a property the input does not have never fires and reads as "no data" for every
record, so a misspelt column silently scores nothing (a backtest then reports AUC 0.5). The
commands that know the source's property names (a CSV header, the CRM's property list) check
the model against them here: each property the model reads that the source lacks becomes a
`Problem` located at its first mention in the model file, with a suggestion (the same name in
another case first, then close names).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from config.errors import Problem
from config.model_loader import load_yaml
from config.yamlpos import Node
from scoring.model import ScoringModel, spec_properties


def did_you_mean(name: str, choices: Collection[str]) -> str:
    """` (did you mean 'X'?)`: a choice equal to `name` but for case first, else up to three
    close choices (difflib ratio 0.75 or more, case ignored), else ``."""
    folded = name.casefold()
    same = sorted(c for c in choices if c.casefold() == folded and c != name)
    if same:
        return f" (did you mean '{same[0]}'?)"
    by_fold: dict[str, str] = {}
    for choice in sorted(choices):
        by_fold.setdefault(choice.casefold(), choice)
    close = difflib.get_close_matches(folded, list(by_fold), n=3, cutoff=0.75)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{by_fold[c]}'" for c in close) + "?)"


def unknown_properties(  # noqa: PLR0913  what to check, against what, and how names match
    model: ScoringModel,
    model_path: str | Path,
    available: Collection[str],
    where: str,
    *,
    case_sensitive: bool = True,
    related: bool = True,
    related_prefix: str | None = None,
    relationships: Collection[str] | None = None,
    max_relationships: int | None = None,
) -> list[Problem]:
    """One problem per property `model` reads that `available` lacks, located in the model
    file at `model_path`; `where` ends the message (`in the columns of leads.csv`).

    With `related=False` (a CRM's list of one object's properties), related-record names
    (`company.industry`, `Account.Industry`) are not checked; a file export holds them as
    columns of their own. With `related_prefix` as well (`Account.`), the fields of that one
    related record are (`Account.Industry`, which `available` then lists with the prefix), not
    the paths past it (`Account.Owner.Name`) nor other relationships (`Owner.Name`). With
    `relationships` (the record's relationship names), a dotted name left unchecked must at
    least start with one of them (`Owner.Name` on a Lead, not `Account.Industry`). With
    `max_relationships`, a dotted name may climb at most that many (Salesforce: 4, five levels
    with the queried object).
    """
    known = set(available) if case_sensitive else {a.casefold() for a in available}
    heads = None if relationships is None else {r.casefold() for r in relationships}
    missing: list[tuple[str, str]] = []  # (name, why: empty when `available` lacks it)
    for name in sorted(spec_properties(model.spec)):
        climbs = name.count(".")
        if max_relationships is not None and climbs > max_relationships:
            missing.append(
                (name, f": a field path climbs at most {max_relationships} relationships "
                       f"(this one {climbs})")
            )  # fmt: skip
            continue
        checked = related or _of_related(name, related_prefix, case_sensitive=case_sensitive)
        if "." in name and not checked:
            head = name.split(".", 1)[0]
            if heads is not None and head.casefold() not in heads:
                missing.append((name, f": no relationship '{head}'"))
            continue
        if (name if case_sensitive else name.casefold()) not in known:
            missing.append((name, ""))
    if not missing:
        return []
    source = str(model_path)
    located = _locations(model_path)
    problems = []
    for name, why in missing:
        if why.startswith(": no relationship"):
            head = name.split(".", 1)[0]
            hint = why + did_you_mean(head, relationships or ())
        elif why:
            hint = why
        else:
            hint = did_you_mean(name, available) if case_sensitive else _close(name, available)
        message = f"no property '{name}' {where}{hint}"
        node = located.get(name)
        if node is None:
            problems.append(Problem(source, None, None, "", message))
        else:
            problems.append(Problem(source, node.line, node.col, node.path, message))
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def _of_related(name: str, prefix: str | None, *, case_sensitive: bool) -> bool:
    """Whether `name` is a field of the related record `prefix` names (one step past it)."""
    if prefix is None:
        return False
    head, rest = name[: len(prefix)], name[len(prefix) :]
    same = head == prefix if case_sensitive else head.casefold() == prefix.casefold()
    return same and bool(rest) and "." not in rest


def _close(name: str, available: Collection[str]) -> str:
    # case-insensitive sources (Salesforce): a case-only difference is no difference
    return did_you_mean(name.casefold(), available) if available else ""


def _locations(model_path: str | Path) -> dict[str, Node]:
    try:
        text = Path(model_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    found: dict[str, Node] = {}
    for name, node in property_mentions(Node(load_yaml(text, str(model_path)), "", 1, 1)):
        found.setdefault(name, node)
    return found


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
