"""Salesforce record ids in the one form the API returns: 18 characters.

An id is 15 case-sensitive letters and digits (what Classic URLs and report exports show) or
the same 15 followed by a 3-character case-safe suffix (what the API returns, and what leadsync
stores). Each suffix character encodes the case of 5 of the 15: bit j (value 2**j) is set when
the chunk's j-th character is an uppercase letter, and the 5-bit number indexes
`ABCDEFGHIJKLMNOPQRSTUVWXYZ012345` (Salesforce's CASESAFEID; `500x000000003TR` becomes
`500x000000003TRAAY`). The suffix makes an 18-character id survive tools that ignore case, so
an 18-character id given in the wrong case is brought back to the case it encodes.
"""

from __future__ import annotations

import re

__all__ = ["KIND_PREFIXES", "NotASalesforceId", "case_safe_id", "kind_of"]

#: The key prefix (an id's first 3 characters) of each record kind leadsync scores: Account
#: `001`, Contact `003`, Lead `00Q` (Salesforce's standard object key prefixes).
KIND_PREFIXES = {"account": "001", "contact": "003", "lead": "00Q"}

_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


class NotASalesforceId(ValueError):
    """Text that cannot be a Salesforce record id; the message says why."""


def _suffix(id15: str) -> str:
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << j for j, ch in enumerate(id15[start : start + 5]) if "A" <= ch <= "Z")
        suffix += _SUFFIX[bits]
    return suffix


def _cased(id15: str, suffix: str) -> str:
    """`id15` with each letter in the case the (upper-cased) `suffix` encodes."""
    chars = []
    for i, ch in enumerate(id15):
        upper = _SUFFIX.index(suffix[i // 5]) >> (i % 5) & 1
        chars.append(ch.upper() if upper else ch.lower())
    return "".join(chars)


def case_safe_id(text: str) -> str:
    """The 18-character id of `text`, a 15- or 18-character Salesforce record id; raise
    `NotASalesforceId` for anything else (checked here, so no API call is spent on it)."""
    if _ID.fullmatch(text) is None:
        raise NotASalesforceId(f"{text!r}: not a Salesforce id: 15 or 18 letters/digits")
    if len(text) == 15:
        return text + _suffix(text)
    suffix = text[15:].upper()
    if any(ch not in _SUFFIX for ch in suffix):
        raise NotASalesforceId(
            f"{text!r}: not a Salesforce id: the last 3 of 18 characters are letters or digits 0-5"
        )
    cased = _cased(text[:15], suffix)
    if _suffix(cased) != suffix:
        raise NotASalesforceId(
            f"{text!r}: not a Salesforce id: its last 3 characters do not match the first 15"
        )
    return cased + suffix


def kind_of(record_id: str) -> str | None:
    """The record kind leadsync scores whose key prefix `record_id` has (None: another)."""
    prefix = record_id[:3]
    return next((kind for kind, own in KIND_PREFIXES.items() if own == prefix), None)
