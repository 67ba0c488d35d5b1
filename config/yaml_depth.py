"""The nesting bound of a YAML document, checked before its tree is built.

ruamel.yaml builds the tree recursively, about four Python frames a level, so a document nested a
few hundred levels deep (conditions 120 deep in all/any are two levels each: a mapping and its
list) ends in a RecursionError: a traceback instead of a located error. Its parser is iterative,
so the events are read first, stopping at the first collection past the bound; every model and
configuration leadsync accepts stays far below it.
"""

from __future__ import annotations

from ruamel.yaml import YAML
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

from config.errors import Problem, ProblemsError

#: Mappings and lists inside one another, the document's own included. Conditions at their
#: bound (config.model_conditions.MAX_NESTING, 32 in all/any) need under 80; the tree of 160
#: levels takes under 700 frames of Python's default recursion limit of 1,000.
MAX_DEPTH = 160


def too_deep(text: str) -> tuple[int, int] | None:
    """The line and column (1-based) of the first mapping or list of `text` nested deeper than
    MAX_DEPTH, or None. Raises ruamel's `YAMLError` on a syntax error met before it."""
    depth = 0
    for event in YAML(typ="rt").parse(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                return mark.line + 1, mark.column + 1
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return None


def refuse_too_deep(text: str, source: str, message: str) -> None:
    """Raise `ProblemsError` with `message`, located at the first collection of `text` (the
    file `source`) nested deeper than MAX_DEPTH, if there is one."""
    deep = too_deep(text)
    if deep is not None:
        raise ProblemsError([Problem(source, *deep, "", message)])
