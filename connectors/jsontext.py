"""Tolerant JSON for CRM replies: a lone UTF-16 surrogate must not fail a page.

JSON may escape half of a surrogate pair (`"\\ud83d"` with no low half after it): the text is
valid JSON, a CRM stores and returns it as it was given, but it is no Unicode string, so orjson
refuses the reply and no UTF-8 store can keep the value. Such a value is a poison pill: left as is
it fails its whole page, and every later run stops at the same page. Here it is decoded the
tolerant way, each lone surrogate becoming U+FFFD (the replacement character), and the rest of
the reply is kept exactly.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(raw: bytes | str) -> Any:
    """Parse a reply; lone surrogates in strings become U+FFFD. `ValueError` when not JSON, or
    nested too deeply for the parser."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # The standard library accepts lone surrogate escapes (as lone code points); only then
        # is the slower walk needed.
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            return without_lone_surrogates(json.loads(text))
        except RecursionError:
            # orjson refuses nesting past 1,024 levels; the standard library would recurse
            # until the interpreter's limit: such a reply is no CRM's, and is not JSON to us
            raise ValueError("reply nested too deeply to parse") from None


def encodable(data: Any) -> Any:
    """`data` as is when every string in it is valid Unicode, else a copy with U+FFFD in place
    of each lone surrogate (for replies parsed by a library, such as simple-salesforce)."""
    try:
        orjson.dumps(data)
    except orjson.JSONEncodeError:
        return without_lone_surrogates(data)
    return data


def without_lone_surrogates(data: Any) -> Any:
    """A copy of parsed JSON with every lone surrogate in its strings replaced by U+FFFD."""
    if isinstance(data, str):
        return _clean(data)
    if isinstance(data, dict):
        return {_clean(k): without_lone_surrogates(v) for k, v in data.items()}
    if isinstance(data, list):
        return [without_lone_surrogates(v) for v in data]
    return data


def _clean(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
