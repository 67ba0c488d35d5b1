"""HubSpot's error bodies.

Every error carries `status: "error"`, a `message`, a `correlationId` (a UUID, also sent as the
`X-HubSpot-Correlation-Id` header) and a `category`
(https://developers.hubspot.com/docs/api/error-handling). Rate-limit errors use the older shape
with `errorType: "RATE_LIMIT"`, `policyName` and `requestId` instead of `category`
(https://developers.hubspot.com/docs/api/usage-details, "429 response").
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.httpserver import Response

#: Used by the sandbox for unknown routes; HubSpot answers an empty 404 there.
NOT_FOUND_ROUTE = Response(404, b"", content_type="text/plain")
METHOD_NOT_ALLOWED = Response(405, {"message": "Method not allowed"})


def correlation_id() -> str:
    """A fresh correlation id."""
    return str(uuid.uuid4())


def error(status: int, category: str, message: str, **extra: Any) -> Response:
    """An error response in HubSpot's standard shape."""
    cid = correlation_id()
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": cid}
    body.update(extra)
    body["category"] = category
    return Response(status, body, headers={"X-HubSpot-Correlation-Id": cid})


def validation(message: str, **extra: Any) -> Response:
    """400 VALIDATION_ERROR."""
    return error(400, "VALIDATION_ERROR", message, **extra)


def not_found(message: str) -> Response:
    """404 OBJECT_NOT_FOUND."""
    return error(404, "OBJECT_NOT_FOUND", message)


def rate_limited(policy: str, message: str) -> Response:
    """429 in HubSpot's rate-limit shape; HubSpot sends no Retry-After header."""
    cid = correlation_id()
    body = {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": cid,
        "policyName": policy,
        "requestId": uuid.uuid4().hex,
    }
    return Response(429, body, headers={"X-HubSpot-Correlation-Id": cid})


def server_error(status: int) -> Response:
    """A 5xx as HubSpot's edge or backend sends it."""
    if status == 500:
        return error(500, "INTERNAL_ERROR", "internal error")
    if status == 502:
        return Response(
            502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
        )
    if status == 503:
        return error(503, "SERVICE_UNAVAILABLE", "Service Unavailable")
    return Response(
        504, b"<html><body><h1>504 Gateway Time-out</h1></body></html>", content_type="text/html"
    )
