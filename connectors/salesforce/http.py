"""The one `requests.Session` every Salesforce call goes through (simple-salesforce included).

It pins what the SDK leaves open: an explicit timeout on every request, TLS verification
against the configured CA bundle on every request (requests lets `REQUESTS_CA_BUNDLE` override
`Session.verify`, so it is passed per request), no transport retries (the connector's retry
layer is the only one), and it reads `Sforce-Limit-Info: api-usage=N/M` from every response.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

_API_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")


@dataclass(frozen=True, slots=True)
class LimitInfo:
    """The org-wide API usage a response reported."""

    used: int
    limit: int


def parse_limit_info(header: str | None) -> LimitInfo | None:
    """`api-usage=25/15000` (possibly with `per-app-api-usage=...`) as numbers, or None."""
    if not header:
        return None
    match = _API_USAGE.search(header)
    if not match:
        return None
    return LimitInfo(int(match.group(1)), int(match.group(2)))


class ApiSession(requests.Session):
    """A session with fixed timeout and CA bundle that reports each response's API usage."""

    def __init__(
        self,
        *,
        timeout: float,
        ca_bundle: str | None,
        on_limits: Callable[[LimitInfo], None],
    ) -> None:
        super().__init__()
        adapter = HTTPAdapter(max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.timeout = timeout
        self.ca_bundle = ca_bundle
        self._on_limits = on_limits

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send with the pinned timeout and CA bundle; report `Sforce-Limit-Info`."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs["verify"] = self.ca_bundle if self.ca_bundle else True
        response = super().request(method, url, *args, **kwargs)
        info = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if info is not None:
            self._on_limits(info)
        return response
