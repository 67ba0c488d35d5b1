"""Salesforce record ids: 15 case-sensitive characters plus a 3-character case-safe suffix.

An id is a 3-character key prefix naming the object (`00Q` Lead, `003` Contact...), 2 characters
of pod, and a base-62 counter. The alphabet is `0-9A-Za-z`, which sorts the same way as the
counter, so `ORDER BY Id` and Python string order agree. The 18-character form appends one
character per 5-character chunk encoding which of its letters are upper case.
"""

from __future__ import annotations

import itertools
import threading

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

#: Key prefixes of the objects the sandbox serves (as in every Salesforce org). Field history
#: objects share `017`; `object_of` names the first (LeadHistory) for such an id, and ids stay
#: unique because the counter is per prefix.
KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
    "Lead": "00Q",
    "Task": "00T",
    "Event": "00U",
    "User": "005",
    "Group": "00G",
    "Organization": "00D",
    "Campaign": "701",
    "CampaignMember": "00v",
    "LeadHistory": "017",
    "ContactHistory": "017",
    "AccountHistory": "017",
    "EmailMessage": "02s",
    "EmailMessageRelation": "0Ed",
    "EmailStatus": "018",
    "ListEmail": "0XB",
    "ListEmailSentResult": "0Xs",
    "CustomField": "00N",
    "PermissionSet": "0PS",
    "FieldPermissions": "01k",
    "PermissionSetAssignment": "0Pa",
    "AsyncApexJob": "707",
    "Job": "750",
    "QueryLocator": "01g",
}


_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 2-digit base-62 strings, in order


def case_safe(id15: str) -> str:
    """The 18-character form of a 15-character id."""
    suffix = ""
    for start in (0, 5, 10):
        flags = 0
        for bit in range(5):
            if id15[start + bit] in _UPPER:
                flags |= 1 << bit
        suffix += _SUFFIX[flags]
    return id15 + suffix


def _base62(number: int, width: int) -> str:
    """`number` in `width` base-62 digits (width even)."""
    pairs = []
    for _ in range(width // 2):
        number, rest = divmod(number, 3844)
        pairs.append(_PAIRS[rest])
    return "".join(reversed(pairs))


class IdFactory:
    """Hands out fresh, ascending 18-character ids per object (thread-safe)."""

    def __init__(self, pod: str = "5g") -> None:
        self._pod = pod
        self._counters: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()

    def new(self, sobject: str) -> str:
        """A fresh id for a record of `sobject`."""
        prefix = KEY_PREFIXES[sobject]
        with self._lock:
            counter = self._counters.setdefault(prefix, itertools.count(1))
            number = next(counter)
        return case_safe(prefix + self._pod + _base62(number, 10))


def object_of(record_id: str) -> str | None:
    """The object an id belongs to, from its key prefix."""
    prefix = record_id[:3]
    for name, key in KEY_PREFIXES.items():
        if key == prefix:
            return name
    return None


def normalise(record_id: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or None when it is not an id."""
    if len(record_id) == 15 and all(c in _ALPHABET for c in record_id):
        return case_safe(record_id)
    if len(record_id) == 18 and all(c in _ALPHABET for c in record_id):
        full = case_safe(record_id[:15])
        return full if full[15:] == record_id[15:].upper() else None
    return None
