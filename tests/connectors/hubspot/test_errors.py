"""The HubSpot error classification table: (status, body, headers) -> exception class."""

from __future__ import annotations

import json

import pytest

from connectors.errors import (
    AuthError,
    BudgetExhausted,
    MissingPermission,
    PermanentError,
    RateLimited,
    TransientError,
)
from connectors.hubspot.errors import (
    HubSpotRejected,
    TokenRejected,
    classify,
    required_scopes,
    retry_after,
)


def body(category: str | None = None, message: str = "m", **extra: object) -> str:
    data: dict[str, object] = {"status": "error", "message": message, "correlationId": "c-1"}
    if category:
        data["category"] = category
    data.update(extra)
    return json.dumps(data)


def rate_body(policy: str) -> str:
    return json.dumps(
        {"status": "error", "message": "limit", "errorType": "RATE_LIMIT", "policyName": policy}
    )


SCOPES_BODY = body(
    "MISSING_SCOPES",
    "This app hasn't been granted all required scopes to make this call.",
    errors=[
        {
            "message": "One or more of the following scopes are required.",
            "context": {"requiredGranularScopes": ["crm.objects.contacts.write"]},
        }
    ],
)


@pytest.mark.parametrize(
    ("status", "raw", "headers", "expected", "match"),
    [
        (429, rate_body("TEN_SECONDLY_ROLLING"), {}, RateLimited, "TEN_SECONDLY_ROLLING: limit"),
        (429, rate_body("SECONDLY"), {}, RateLimited, "limit"),
        (429, rate_body("DAILY"), {}, BudgetExhausted, "daily API limit resets"),
        (429, "", {"Retry-After": "7"}, RateLimited, "HTTP 429"),
        (401, body("EXPIRED_AUTHENTICATION", "The OAuth token expired 1 hour(s) ago."), {},
         TokenRejected, "EXPIRED_AUTHENTICATION: The OAuth token expired"),
        (401, body("INVALID_AUTHENTICATION", "Authentication credentials not found."), {},
         TokenRejected, "INVALID_AUTHENTICATION"),
        (403, SCOPES_BODY, {}, MissingPermission, r"scope\(s\): crm.objects.contacts.write"),
        (403, body("MISSING_SCOPES", "Missing auth details: web-analytics-api-access"), {},
         MissingPermission, "web-analytics-api-access"),
        (400, body("VALIDATION_ERROR", "Property 'x' does not exist"), {}, HubSpotRejected,
         "400 VALIDATION_ERROR: Property 'x' does not exist"),
        (404, body("OBJECT_NOT_FOUND", "gone"), {}, HubSpotRejected,
         r"404 OBJECT_NOT_FOUND: gone \(correlationId c-1\)$"),
        (404, "", {}, HubSpotRejected,
         r"404: HTTP 404; no HubSpot API at this path: check base_url \(the host alone, "
         r"https://api.hubapi.com\)$"),
        (409, body("OBJECT_ALREADY_EXISTS", "exists"), {}, HubSpotRejected, "409"),
        (408, "", {}, TransientError, "408"),
        (423, body("LOCKED", "locked"), {}, TransientError, "423 LOCKED"),
        (500, body("INTERNAL_ERROR", "internal error"), {}, TransientError, "500"),
        (502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {}, TransientError, "502"),
        (503, body("SERVICE_UNAVAILABLE", "down"), {}, TransientError, "503"),
        (504, "<html>504</html>", {}, TransientError, "HTTP 504"),
        (521, "", {}, TransientError, "521"),
    ],
)  # fmt: skip
def test_classification_table(status, raw, headers, expected, match) -> None:
    error = classify(status, raw, headers, endpoint="objects.list")
    assert type(error) is expected
    with pytest.raises(expected, match=match):
        raise error


def test_rate_limited_carries_policy_and_retry_after() -> None:
    error = classify(429, rate_body("SECONDLY"), {"retry-after": "2.5"}, endpoint="search")
    assert isinstance(error, RateLimited)
    assert (error.policy, error.retry_after) == ("SECONDLY", 2.5)
    no_header = classify(429, rate_body("TEN_SECONDLY_ROLLING"), {}, endpoint="x")
    assert isinstance(no_header, RateLimited)
    assert no_header.retry_after is None


def test_rejections_keep_status_and_category_and_correlation_id() -> None:
    error = classify(409, body("OBJECT_ALREADY_EXISTS", "exists"), {}, endpoint="groups.create")
    assert isinstance(error, HubSpotRejected)
    assert isinstance(error, PermanentError)
    assert (error.status, error.category) == (409, "OBJECT_ALREADY_EXISTS")
    assert "(correlationId c-1)" in str(error)


def test_token_rejected_is_an_auth_error() -> None:
    assert issubclass(TokenRejected, AuthError)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"errors": [{"context": {"requiredGranularScopes": ["a", "b"]}}]}, ["a", "b"]),
        ({"errors": [{"context": {"requiredScopes": ["contacts"]}}]}, ["contacts"]),
        ({"context": {"missingScopes": ["x"]}, "errors": [{"context": {"requiredScopes": ["x"]}}]},
         ["x"]),
        ({"errors": [{"message": "no context"}]}, []),
        ({}, []),
    ],
)  # fmt: skip
def test_required_scopes(data, expected) -> None:
    assert required_scopes(data) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, None), ({"Retry-After": "3"}, 3.0), ({"Retry-After": "-1"}, 0.0),
     ({"Retry-After": "soon"}, None), ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0)],
)  # fmt: skip
def test_retry_after(headers, expected) -> None:
    assert retry_after(headers) == expected
