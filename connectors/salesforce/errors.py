"""Salesforce failures classified once, as data: call-level errors and record-level codes.

Call level (an HTTP response, or no response at all), by (status, errorCode):

    401 INVALID_SESSION_ID ........................ re-authenticate once, then AuthError
    403 REQUEST_LIMIT_EXCEEDED "TotalRequests" .... BudgetExhausted (the org's 24-hour allowance)
    403 REQUEST_LIMIT_EXCEEDED (concurrency) ...... RateLimited (retry later)
    403 API_DISABLED_FOR_ORG, API_CURRENTLY_DISABLED, INSUFFICIENT_ACCESS* ... MissingPermission
    400 INVALID_FIELD "No such column 'X' on entity 'Y'" UnknownField (one line, no SOQL: the
                                                    reader names the model's field holding X)
    400 INVALID_FIELD, INVALID_TYPE ............... MissingPermission (missing, or hidden by
                                                    field-level security: Salesforce cannot tell)
    400 INVALID_QUERY_LOCATOR ..................... QueryLocatorExpired (restart the query)
    400/404/405/409/415 anything else ............. RequestRejected (a PermanentError)
    429 ........................................... RateLimited
    5xx, timeouts, connection resets .............. TransientError
    TLS certificate verification failures ......... PermanentError (fix ca_bundle)

Record level (a SaveResult or a Bulk 2.0 failed row), by statusCode (`WRITE_ACTIONS`):

    UNABLE_TO_LOCK_ROW, QUERY_TIMEOUT ............ retried in the call, then RETRY (a later batch)
    SERVER_UNAVAILABLE, REQUEST_RUNNING_TOO_LONG . retried in the call, then PAUSE_OUTAGE
    ENTITY_IS_DELETED ............................ GONE (the record is in the recycle bin or purged)
    CANNOT_UPDATE_CONVERTED_LEAD ................. GONE (a converted lead takes no more writes)
    UNPROCESSED (ours: a Bulk row with no result)  RETRY
    anything else ................................ DEAD_LETTER

Messages carry the endpoint, status, error code and Salesforce's message; never a token.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError

from connectors.base import Page, WriteAction
from connectors.errors import (
    AuthError,
    BudgetExhausted,
    ConnectorError,
    MissingPermission,
    PermanentError,
    RateLimited,
    RequestRejected,
    TransientError,
    UnknownField,
    Unreachable,
)
from connectors.reach import no_connection_reason, origin

#: Record-level codes worth another try within the call: lock contention and passing server
#: trouble.
RETRYABLE_RECORD_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG", "QUERY_TIMEOUT"}
)

#: A record's statusCode -> what becomes of its write once the call's own retries are spent;
#: any other code is dead-lettered.
WRITE_ACTIONS: Mapping[str, WriteAction] = {
    "UNABLE_TO_LOCK_ROW": WriteAction.RETRY,
    "QUERY_TIMEOUT": WriteAction.RETRY,
    "SERVER_UNAVAILABLE": WriteAction.PAUSE_OUTAGE,
    "REQUEST_RUNNING_TOO_LONG": WriteAction.PAUSE_OUTAGE,
    "ENTITY_IS_DELETED": WriteAction.GONE,
    "CANNOT_UPDATE_CONVERTED_LEAD": WriteAction.GONE,
    "UNPROCESSED": WriteAction.RETRY,
}


def write_action(code: str | None) -> WriteAction:
    """What to do with a record write Salesforce failed with status code `code`."""
    return WRITE_ACTIONS.get(code or "", WriteAction.DEAD_LETTER)


_PERMISSION_CODES = frozenset(
    {
        "API_DISABLED_FOR_ORG",
        "API_CURRENTLY_DISABLED",
        "INSUFFICIENT_ACCESS",
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "FUNCTIONALITY_NOT_ENABLED",
    }
)


#: Salesforce's message for a field a query names that the object lacks (or hides).
_NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)' on entity '([^']+)'")


class SessionExpired(AuthError):
    """401 INVALID_SESSION_ID: the caller re-authenticates once and repeats the call."""


class QueryLocatorExpired(PermanentError):
    """400 INVALID_QUERY_LOCATOR: a query cursor expired; restart the query from our cursor."""


def first_error(content: Any) -> tuple[str, str]:
    """(errorCode, message) of a REST error body (a JSON array of errors, usually)."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        error = content[0]
        return str(error.get("errorCode") or ""), str(error.get("message") or "")
    if isinstance(content, dict):
        code = content.get("errorCode") or content.get("error") or ""
        return str(code), str(content.get("message") or content.get("error_description") or "")
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return "", str(content or "")[:300]


def classify_status(endpoint: str, status: int, content: Any) -> ConnectorError:
    """The connector error for an HTTP error response."""
    code, message = first_error(content)
    text = f"Salesforce {endpoint}: HTTP {status} {code}: {message.strip()}".rstrip(": ")
    if status == 401:
        return SessionExpired(text)
    if code == "REQUEST_LIMIT_EXCEEDED":
        if "TotalRequests" in message:
            return BudgetExhausted(text)
        return RateLimited(text)
    if status == 429:
        return RateLimited(text)
    if code in _PERMISSION_CODES:
        return MissingPermission(
            f"{text} (give the integration user the permission the message names)"
        )
    column = _NO_SUCH_COLUMN.search(message) if code == "INVALID_FIELD" else None
    if column is not None:
        # the field names come from the model: a one-line answer naming the column, not the
        # whole SOQL statement Salesforce echoes, nor setup advice that cannot help
        return UnknownField(
            f"Salesforce {endpoint}: HTTP {status} INVALID_FIELD: no field '{column[1]}' on "
            f"{column[2]}",
            column=column[1],
        )
    if code in ("INVALID_FIELD", "INVALID_TYPE"):
        return MissingPermission(
            f"{text} (the field or object is missing, or field-level security hides it from the "
            "integration user: run `leadsync setup --apply`, or grant read access in a "
            "permission set assigned to that user)"
        )
    if code == "INVALID_QUERY_LOCATOR":
        return QueryLocatorExpired(text)
    if status >= 500:
        return TransientError(text)
    return RequestRejected(text, status, code or None)


def classify(endpoint: str, error: BaseException) -> ConnectorError:
    """The connector error for anything a simple-salesforce or requests call raised."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, SalesforceError):
        return classify_status(endpoint, error.status, error.content)
    if isinstance(error, requests.exceptions.SSLError):
        return PermanentError(
            f"Salesforce {endpoint}: TLS verification failed; set ca_bundle to the CA that signed "
            "the server certificate"
        )
    if isinstance(error, requests.Timeout):
        return TransientError(f"Salesforce {endpoint}: timed out")
    if isinstance(error, requests.ConnectionError):
        url = error.request.url if error.request is not None else None
        reason = no_connection_reason(error)
        if url and reason:
            return Unreachable(f"Salesforce {endpoint}: cannot connect to {origin(url)} ({reason})")
        return TransientError(f"Salesforce {endpoint}: connection failed ({type(error).__name__})")
    if isinstance(error, ValueError):
        # A body that is not JSON: an HTML page from a proxy or a maintenance window.
        return TransientError(f"Salesforce {endpoint}: unreadable response ({error})")
    raise error


def in_model(error: UnknownField, sobject: str, fields: Collection[str]) -> UnknownField:
    """`error` naming the fields of a read of `sobject` that hold its column (the last name of
    a relationship path, or the field itself), when there are any."""
    column = error.column.casefold()
    named = tuple(sorted(f for f in fields if f.rsplit(".", 1)[-1].casefold() == column))
    if not named:
        return error
    return UnknownField(
        f"Salesforce {sobject} has no field {', '.join(named)} ({error}): fix the name in the "
        "model; `leadsync validate --config` checks every field path against the describes",
        column=error.column,
        fields=named,
    )


def naming_fields(pages: Iterator[Page], sobject: str, fields: Collection[str]) -> Iterator[Page]:
    """`pages`, an `UnknownField` while reading them naming the model's fields (`in_model`)."""
    try:
        yield from pages
    except UnknownField as exc:
        raise in_model(exc, sobject, fields) from None
