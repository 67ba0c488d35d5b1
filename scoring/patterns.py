"""The model's regular expressions (`matches`), on a linear-time engine.

RevOps writes the patterns and the CRM supplies the text, so a backtracking engine would let one
value stall the process: Python's `re` takes time doubling per character for `(a+)+$` against
`aaaa…!`. RE2 (`google-re2`) matches in time linear in the text, whatever the pattern, and refuses
what it cannot do that way (backreferences, lookarounds, atomic groups, possessive quantifiers,
conditionals). Every pattern of a model is compiled here and only here: `pattern_problem` at
validation, `compile_pattern` when a model is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import re2

from scoring.coerce import new_memo

#: A compiled pattern's `search`: text in, a match object or None out.
Search = Callable[[str], object]

#: Memory RE2 may use for one compiled pattern (its default is 8 MB); a pattern needing more,
#: such as nested counted repetitions, is refused at validation.
MAX_PATTERN_MEMORY = 8 << 20

_UNSUPPORTED = (
    (re.compile(r"\\[1-9]|\(\?P="), "backreferences"),
    (re.compile(r"\(\?<?[=!]"), "lookahead or lookbehind"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers"),
    (re.compile(r"\(\?\("), "conditionals"),
    (re.compile(r"\\Z"), r"\Z (write \z or $)"),
)


_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = MAX_PATTERN_MEMORY
    options.log_errors = False
    return options


def pattern_problem(pattern: str) -> str | None:
    """What is wrong with `pattern` for the `matches` operator, or None when it compiles."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression {pattern!r}: {exc}"
    try:
        re2.compile(pattern, _options())
    except re2.error as exc:
        features = [name for rule, name in _UNSUPPORTED if _outside_classes(rule, pattern)]
        if features:
            return (
                f"regular expression {pattern!r} uses {', '.join(features)}, which the "
                "linear-time engine (RE2) does not support; rewrite it without them"
            )
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return (
            f"regular expression {pattern!r} is not supported by the linear-time engine (RE2): "
            f"{detail}"
        )
    return None


def _outside_classes(rule: re.Pattern[str], pattern: str) -> bool:
    # `[(?=]` is a character class, not a lookahead
    return rule.search(_CLASS.sub("_", pattern)) is not None


def compile_pattern(pattern: str) -> Search:
    """The case-insensitive `search` of a validated pattern (RE2: linear time in the text)."""
    search: Search = re2.compile(pattern, _options()).search
    return search


#: Texts up to this length have their test results remembered (titles, names, picklist values
#: repeat across records; long free text rarely does and would fill the memo).
MEMO_TEXT_CHARS = 256
#: Remembered texts per pattern at most; the memo starts over when full.
MEMO_ENTRIES = 4096


def compile_matcher(pattern: str) -> Callable[[str], bool]:
    """Whether `pattern` occurs in a text (`compile_pattern`'s search), remembered per text.

    RE2's Python binding costs about 3 us a search, three times Python's `re`, while the same
    short values come back record after record; a memo keeps the linear-time guarantee and
    most of that time. `scoring.coerce.clear_memos` empties it.
    """
    search = compile_pattern(pattern)
    memo: dict[str, bool] = new_memo()

    def matches(text: str) -> bool:
        found = memo.get(text)
        if found is None:
            found = search(text) is not None
            if len(text) <= MEMO_TEXT_CHARS:
                if len(memo) >= MEMO_ENTRIES:
                    memo.clear()
                memo[text] = found
        return found

    return matches
