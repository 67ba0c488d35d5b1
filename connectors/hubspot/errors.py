"""HubSpot failures classified once, as data: (status, body category or policy) -> error class.

HubSpot error bodies (https://developers.hubspot.com/docs/api/error-handling) carry `status:
"error"`, `message`, `correlationId` and a `category`; 429s use the older shape with
`errorType: "RATE_LIMIT"` and a `policyName` (`TEN_SECONDLY_ROLLING`, `SECONDLY` for search,
`DAILY`). A missing scope is a 403 `MISSING_SCOPES` naming the scopes in `errors[].context`.

    RULES (first match wins)           -> connectors.errors class
    429 DAILY                          -> BudgetExhausted (the account's day is spent)
    429 any other policy               -> RateLimited (Retry-After honoured when sent)
    401 any                            -> TokenRejected (an AuthError; refreshed once if possible)
    403 MISSING_SCOPES                 -> MissingPermission naming the scopes
    403 other                          -> MissingPermission (tier or portal permission)
    408, 423, 425, 5xx                 -> TransientError
    other 4xx                          -> HubSpotRejected (a RequestRejected with status/category)

A record's failure inside a batch update is not an exception: `WRITE_ACTIONS` maps its category
to the `WriteAction` the engine carries out (OBJECT_NOT_FOUND: gone; INTERNAL_ERROR and other
passing trouble: retry; anything else: dead letter).

Transport failures (resets, timeouts, refused connections, truncated or non-JSON 2xx bodies) are
TransientError; a TLS verification failure is permanent (fix `ca_bundle`). Messages carry
HubSpot's text and correlation id, never credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from connectors.base import WriteAction
from connectors.errors import (
    AuthError,
    BudgetExhausted,
    ConnectorError,
    MissingPermission,
    RateLimited,
    RequestRejected,
    TransientError,
)
from connectors.hubspot.options import DEFAULT_HOST

__all__ = [
    "RULES",
    "WRITE_ACTIONS",
    "HubSpotRejected",
    "Rule",
    "TokenRejected",
    "classify",
    "parse_body",
    "required_scopes",
    "retry_after",
    "write_action",
]


class TokenRejected(AuthError):
    """A 401: the connector refreshes an OAuth token once, then reports an `AuthError`."""

    def __init__(self, message: str, category: str | None = None) -> None:
        super().__init__(message)
        self.category = category


class HubSpotRejected(RequestRejected):
    """A 4xx HubSpot will never accept as sent; keeps the status and category for callers."""

    def __init__(self, message: str, status: int, category: str | None) -> None:
        super().__init__(message, status, category)
        self.category = category


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the classification table; `key` matches the body's category or policyName."""

    statuses: frozenset[int]
    key: str | None
    outcome: str  # budget | rate | token | scope | transient | permanent


def _codes(*codes: int | range) -> frozenset[int]:
    out: set[int] = set()
    for code in codes:
        out.update(code if isinstance(code, range) else (code,))
    return frozenset(out)


RULES: tuple[Rule, ...] = (
    Rule(_codes(429), "DAILY", "budget"),
    Rule(_codes(429), None, "rate"),
    Rule(_codes(401), None, "token"),
    Rule(_codes(403), None, "scope"),
    Rule(_codes(408, 423, 425, range(500, 600)), None, "transient"),
    Rule(_codes(range(400, 500)), None, "permanent"),
)


#: A record's error category in a batch update reply (or of a batch refused whole) -> what
#: becomes of its write; any other category (VALIDATION_ERROR, ...) is dead-lettered.
#: UNCONFIRMED is ours: a reply that neither confirmed nor rejected the record.
WRITE_ACTIONS: Mapping[str, WriteAction] = {
    "OBJECT_NOT_FOUND": WriteAction.GONE,
    "INTERNAL_ERROR": WriteAction.RETRY,
    "RATE_LIMITS": WriteAction.RETRY,
    "RATE_LIMIT": WriteAction.RETRY,
    "TIMEOUT": WriteAction.RETRY,
    "SERVICE_UNAVAILABLE": WriteAction.RETRY,
    "UNCONFIRMED": WriteAction.RETRY,
}


def write_action(category: str | None) -> WriteAction:
    """What to do with a record write HubSpot failed with `category`."""
    return WRITE_ACTIONS.get(category or "", WriteAction.DEAD_LETTER)


def parse_body(raw: bytes | str | None) -> dict[str, Any]:
    """The error body as a dict; `{}` when it is empty, HTML or not JSON."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def required_scopes(body: Mapping[str, Any]) -> list[str]:
    """Scopes a MISSING_SCOPES body names (`requiredGranularScopes`, `requiredScopes`, ...)."""
    found: list[str] = []
    contexts = [body.get("context")]
    contexts += [e.get("context") for e in body.get("errors") or [] if isinstance(e, dict)]
    for context in contexts:
        if not isinstance(context, dict):
            continue
        for key, values in context.items():
            if "scope" in key.lower() and isinstance(values, list):
                found += [str(v) for v in values if str(v) not in found]
    return found


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header (delta seconds or HTTP date); None when absent."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _rule(status: int, key: str | None) -> Rule | None:
    for rule in RULES:
        if status in rule.statuses and (rule.key is None or rule.key == key):
            return rule
    return None


def classify(
    status: int, raw_body: bytes | str | None, headers: Mapping[str, str], *, endpoint: str
) -> ConnectorError:
    """The `connectors.errors` exception for one failed HubSpot response."""
    body = parse_body(raw_body)
    # OAuth errors put their code in `status` (BAD_REFRESH_TOKEN...) instead of a category.
    code = body.get("status") if body.get("status") not in (None, "error") else None
    category = body.get("category") or body.get("policyName") or body.get("errorType") or code
    key = body.get("policyName") if status == 429 else category
    text = str(body.get("message") or "").strip() or f"HTTP {status}"
    cid = body.get("correlationId")
    where = f"HubSpot {endpoint}: {status}{f' {category}' if category else ''}: {text}"
    if cid:
        where += f" (correlationId {cid})"
    if status == 404 and not category:
        # HubSpot names a missing record (OBJECT_NOT_FOUND); a bare 404 is a path no API has
        where += f"; no HubSpot API at this path: check base_url (the host alone, {DEFAULT_HOST})"
    rule = _rule(status, key if isinstance(key, str) else None)
    outcome = rule.outcome if rule else ("transient" if status >= 500 else "permanent")
    if outcome == "budget":
        return BudgetExhausted(f"{where}; HubSpot's daily API limit resets at midnight")
    if outcome == "rate":
        policy = body.get("policyName")
        return RateLimited(where, retry_after(headers), str(policy) if policy else None)
    if outcome == "token":
        return TokenRejected(where, str(category) if category else None)
    if outcome == "scope":
        scopes = required_scopes(body)
        if scopes:
            return MissingPermission(
                f"{where}; grant the private app (or OAuth app) the scope(s): {', '.join(scopes)}"
            )
        return MissingPermission(where)
    if outcome == "transient":
        return TransientError(where)
    return HubSpotRejected(where, status, str(category) if category else None)
