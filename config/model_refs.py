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
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol

from config.errors import Problem
from config.model_loader import load_yaml
from config.model_mentions import member_mentions, property_mentions
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


class Reached(Protocol):
    """What a relationship path leads to (`connectors.property_names.RelatedNames`): the
    object(s), the fields a path may end with there, the relationships it may climb on (None:
    not known, a longer path is left to the read), and whether it is polymorphic."""

    @property
    def target(self) -> str:
        """The object the path reaches (`User`; `User or Group` when polymorphic)."""
        ...

    @property
    def names(self) -> frozenset[str]:
        """The fields a path may end with there."""
        ...

    @property
    def relationships(self) -> frozenset[str] | None:
        """The relationships a longer path may climb on (None: not known)."""
        ...

    @property
    def polymorphic(self) -> bool:
        """Whether the path's last step may lead to several objects."""
        ...


#: What a relationship path (`("Account", "Owner")`) leads to, None when its last step is no
#: relationship of the object before it.
Walk = Callable[[tuple[str, ...]], Reached | None]


def unknown_properties(  # noqa: PLR0913  what to check, against what, and how names match
    model: ScoringModel,
    model_path: str | Path,
    available: Collection[str],
    where: str,
    *,
    case_sensitive: bool = True,
    related: bool = True,
    walk: Walk | None = None,
    max_relationships: int | None = None,
    members: bool = False,
) -> list[Problem]:
    """One problem per property `model` reads that `available` lacks, located in the model
    file at `model_path`; `where` ends the message (`in the columns of leads.csv`).

    With `related=False` (a CRM's list of one object's properties), related-record names
    (`company.industry`, `Account.Industry`) are not checked against `available`; a file
    export holds them as columns of their own. With `walk` as well (Salesforce's
    relationships), a dotted name is a relationship path: each step must be a relationship of
    the object before it and the last name a field of the object the path reaches. With
    `max_relationships`, a dotted name may climb at most that many (Salesforce: 4, five levels
    with the queried object). With `members`, the names checked are those an account model
    reads of its people (`members`: the title and the roles' conditions), not the rules'.
    """
    known = set(available) if case_sensitive else {a.casefold() for a in available}
    missing: list[tuple[str, str]] = []  # (name, hint ending the message)
    if members:
        names = model.rollup.properties if model.rollup is not None else frozenset()
    else:
        names = spec_properties(model.spec)
    for name in sorted(names):
        climbs = name.count(".")
        if max_relationships is not None and climbs > max_relationships:
            missing.append(
                (name, f": a field path climbs at most {max_relationships} relationships "
                       f"(this one {climbs})")
            )  # fmt: skip
        elif climbs and not related:
            if walk is not None and (hint := _path_hint(name, walk)) is not None:
                missing.append((name, hint))
        elif (name if case_sensitive else name.casefold()) not in known:
            close = did_you_mean(name, available) if case_sensitive else _close(name, available)
            missing.append((name, close))
    if not missing:
        return []
    source = str(model_path)
    located = _locations(model_path, members=members)
    problems = []
    for name, hint in missing:
        message = f"no property '{name}' {where}{hint}"
        node = located.get(name)
        if node is None:
            problems.append(Problem(source, None, None, "", message))
        else:
            problems.append(Problem(source, node.line, node.col, node.path, message))
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def _path_hint(name: str, walk: Walk) -> str | None:
    """Why the relationship path `name` reads nothing, with a suggestion (None: it names a
    field, or climbs past what describes tell); names match in any case, as in SOQL."""
    steps = tuple(name.split("."))
    for depth, step in enumerate(steps):
        reached = walk(steps[:depth])
        if reached is None:
            return None
        if depth == len(steps) - 1:
            if step.casefold() in {n.casefold() for n in reached.names}:
                return None
            head = name[: -len(step)]
            hint = _close(name, [head + n for n in reached.names])
            if reached.polymorphic:
                return (
                    f": {steps[-2]} can be a {reached.target}, so SOQL reads only the fields of "
                    f"Salesforce's Name object past it{hint}"
                )
            return hint
        if reached.relationships is None:
            return None
        if step.casefold() not in {r.casefold() for r in reached.relationships}:
            on = f" on {'.'.join(steps[:depth])} ({reached.target})" if depth else ""
            return f": no relationship '{step}'{on}" + did_you_mean(step, reached.relationships)
    return None


def _close(name: str, available: Collection[str]) -> str:
    # case-insensitive sources (Salesforce): a case-only difference is no difference
    return did_you_mean(name.casefold(), available) if available else ""


def _locations(model_path: str | Path, *, members: bool = False) -> dict[str, Node]:
    try:
        text = Path(model_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    found: dict[str, Node] = {}
    root = Node(load_yaml(text, str(model_path)), "", 1, 1)
    for name, node in member_mentions(root) if members else property_mentions(root):
        found.setdefault(name, node)
    return found
