"""A HubSpot sandbox route: a handler with what the request pipeline needs to know about it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sandbox.httpserver import Request, Response

#: The scopes a request needs, from its path parameters.
Scopes = Callable[[dict[str, str]], Iterable[str]]


def no_scopes(_params: dict[str, str]) -> Iterable[str]:
    """Routes anyone may call (control, OAuth)."""
    return ()


class Route:
    """A handler with what the pipeline needs to know about it."""

    def __init__(
        self, label: str, handler: Callable[[Request], Response], scopes: Scopes, *, kind: str
    ) -> None:
        self.label = label
        self.handler = handler
        self.scopes = scopes
        self.kind = kind  # "api", "search", "oauth" or "control"

    def __call__(self, request: Request) -> Response:
        return self.handler(request)
