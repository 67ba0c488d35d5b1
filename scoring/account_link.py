"""People rules that read their account's result (`if: {account.grade: A}`), pure.

Within one run the engine scores accounts from their members' facts, then scores each person
with `with_account(record, account_result)`: the account's result fields are added to the
person's properties as `account.<field>` (`scoring.spec.ACCOUNT_FIELDS`), so ordinary
conditions read them and no second pass over the CRM is needed. A person without an account
(or whose account was not scored) has none of these values: `account.grade: A` does not hold,
`account.grade: {missing: true}` does.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter

from scoring.spec import ACCOUNT_FIELDS, ACCOUNT_PREFIX
from scoring.types import Record, ScoreResult

#: The result fields people read (`scoring.spec.ACCOUNT_FIELDS`), and their names as they read them
_ACCOUNT_VIEW = attrgetter(*ACCOUNT_FIELDS)
_ACCOUNT_KEYS = tuple(ACCOUNT_PREFIX + field for field in ACCOUNT_FIELDS)


def account_id(value: object) -> str | None:
    """An account id as stored, from a person's account field (HubSpot sends
    `associatedcompanyid` as a number's text); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def account_values(account: ScoreResult) -> dict[str, object]:
    """`{"account.fit": 80, "account.grade": "A", ...}` for one account result."""
    return dict(zip(_ACCOUNT_KEYS, _ACCOUNT_VIEW(account), strict=True))


def same_account_values(result: ScoreResult, other: ScoreResult) -> bool:
    """Whether two results give people the same `account_values`."""
    return bool(_ACCOUNT_VIEW(result) == _ACCOUNT_VIEW(other))


def with_account(record: Record, account: ScoreResult | None) -> Record:
    """`record` with its account's result readable as `account.<field>` (unchanged if None)."""
    if account is None:
        return record
    properties = {**record.properties, **account_values(account)}
    return dataclasses.replace(record, properties=properties)
