"""Telling "nothing answers at this address" from a failure half-way through a call.

A refused connection or a host name that does not resolve means no request reached the CRM: at
the start of a run that is a misconfigured URL far more often than an outage, so the error names
the address (`Unreachable`). Resets, timeouts and TLS failures mean something answered.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


def no_connection_reason(error: BaseException) -> str | None:
    """ "connection refused" or "unknown host" when `error` (or an exception it wraps) says no
    connection was opened at all, else None."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "unknown host"
        stack.extend((current.__cause__, current.__context__, getattr(current, "reason", None)))
        stack.extend(a for a in current.args if isinstance(a, BaseException))
    return None


def origin(url: str) -> str:
    """`scheme://host[:port]` of `url` (no path, query or credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
