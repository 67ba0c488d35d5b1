"""The sandbox's own control and inspection API under `/_sandbox/` (not part of HubSpot).

- `GET /_sandbox/health` -> `{"status": "ok", "contacts": N, "seed": S}`
- `POST /_sandbox/reset` `{"seed"?: int}` -> regenerate the data, clear counts, limits, faults
- `POST /_sandbox/seed` `{"seed": int}` -> restart the fault sequence from a seed
- `GET /_sandbox/faults` -> rates, seed, queued actions;
  `POST /_sandbox/faults` `{"rates"?: {...}, "queue"?: [...], "seed"?: int, "clear"?: bool}`
- `GET /_sandbox/requests` -> counts by endpoint and status; `DELETE` clears them
- `POST /_sandbox/mutate` `{"count": N, "create"?: N, "archive"?: N, "at"?: ISO-8601}` ->
  `{"ids": [...], "created": [...], "archived": [...], "at"}` (new activity on `count` contacts,
  1 unless only `create`/`archive` are given; `create` new contacts; `archive` contacts deleted)
- `POST /_sandbox/tokens` `{"scopes"?: [...]}` -> a new private-app token;
  `POST /_sandbox/expire-tokens` -> expire every OAuth access token
- `GET /_sandbox/outcomes` -> hidden conversion outcomes by contact id
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from sandbox.httpserver import Request, Response, Router
from sandbox.hubspot.auth import ALL_SCOPES, Auth
from sandbox.hubspot.faults import Faults
from sandbox.hubspot.routes import Route, no_scopes
from sandbox.hubspot.store import Store
from sandbox.hubspot.values import iso_ms, to_ms


class Controlled(Protocol):
    """What the control API drives: the sandbox (`HubSpotSandbox`), without importing it."""

    store: Store
    faults: Faults
    auth: Auth

    @property
    def calls(self) -> int: ...

    def reset(self, *, seed: int | None = None) -> None: ...

    def request_counts(self) -> dict[str, dict[str, int]]: ...

    def clear_counts(self) -> None: ...

    def new_token(self, scopes: Iterable[str] = ...) -> str: ...

    def mutate(self, count: int, *, at: dt.datetime | None = None) -> list[str]: ...

    def create_contacts(self, count: int, *, at: dt.datetime | None = None) -> list[str]: ...

    def archive_contacts(self, count: int, *, at: dt.datetime | None = None) -> list[str]: ...

    def ground_truth(self) -> dict[str, dict[str, Any]]: ...


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _bad(message: str) -> Response:
    return Response(400, {"status": "error", "message": message})


class ControlApi:
    """Routes of the control API bound to one sandbox."""

    def __init__(self, sandbox: Controlled) -> None:
        self.sandbox = sandbox

    def register(self, router: Router[Route]) -> None:
        """Add the control routes."""
        for method, path, handler in (
            ("GET", "health", self.health),
            ("POST", "reset", self.reset),
            ("POST", "seed", self.seed),
            ("GET", "faults", self.get_faults),
            ("POST", "faults", self.set_faults),
            ("GET", "requests", self.requests),
            ("DELETE", "requests", self.clear_requests),
            ("POST", "mutate", self.mutate),
            ("POST", "tokens", self.tokens),
            ("POST", "expire-tokens", self.expire_tokens),
            ("GET", "outcomes", self.outcomes),
        ):
            route = Route(f"{method} /_sandbox/{path}", handler, no_scopes, kind="control")
            router.add(method, f"/_sandbox/{path}", route)

    def health(self, request: Request) -> Response:
        """Liveness and what is loaded."""
        store = self.sandbox.store
        with store.lock:
            contacts = sum(1 for row in store.table("contacts").rows.values() if not row.archived)
        return Response(200, {"status": "ok", "contacts": contacts, "seed": store.seed})

    def reset(self, request: Request) -> Response:
        """Regenerate everything."""
        seed = _body(request).get("seed")
        if seed is not None and not isinstance(seed, int):
            return _bad("seed must be an integer")
        self.sandbox.reset(seed=seed)
        return self.health(request)

    def seed(self, request: Request) -> Response:
        """Restart the fault sequence."""
        seed = _body(request).get("seed")
        if not isinstance(seed, int):
            return _bad("seed must be an integer")
        self.sandbox.faults.reseed(seed)
        return Response(200, self.sandbox.faults.snapshot())

    def get_faults(self, request: Request) -> Response:
        """Current fault settings."""
        return Response(200, self.sandbox.faults.snapshot())

    def set_faults(self, request: Request) -> Response:
        """Change fault settings."""
        body = _body(request)
        faults = self.sandbox.faults
        try:
            if body.get("clear"):
                faults.clear()
            if "seed" in body:
                faults.reseed(int(body["seed"]))
            if body.get("rates"):
                faults.set(**body["rates"])
            if body.get("queue"):
                faults.queue(*body["queue"])
        except (TypeError, ValueError) as exc:
            return _bad(str(exc))
        return Response(200, faults.snapshot())

    def requests(self, request: Request) -> Response:
        """Counts by endpoint and status."""
        return Response(
            200, {"total": self.sandbox.calls, "byEndpoint": self.sandbox.request_counts()}
        )

    def clear_requests(self, request: Request) -> Response:
        """Forget the counts."""
        self.sandbox.clear_counts()
        return Response(204)

    def mutate(self, request: Request) -> Response:
        """New activity on N contacts, new contacts, deleted contacts."""
        body = _body(request)
        # Activity on one contact unless the request only creates or deletes contacts.
        activity = 0 if "create" in body or "archive" in body else 1
        counts = {
            key: body.get(key, default)
            for key, default in (("count", activity), ("create", 0), ("archive", 0))
        }
        for key, value in counts.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return _bad(f"{key} must be a non-negative integer")
        at = None
        if body.get("at"):
            try:
                at = dt.datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))
            except ValueError:
                return _bad("at must be an ISO-8601 datetime")
            if at.tzinfo is None:
                at = at.replace(tzinfo=dt.UTC)
        sandbox = self.sandbox
        ids = sandbox.mutate(counts["count"], at=at) if counts["count"] else []
        created = sandbox.create_contacts(counts["create"], at=at) if counts["create"] else []
        archived = sandbox.archive_contacts(counts["archive"], at=at) if counts["archive"] else []
        return Response(
            200,
            {
                "ids": ids,
                "created": created,
                "archived": archived,
                "at": iso_ms(to_ms(at)) if at else None,
            },
        )

    def tokens(self, request: Request) -> Response:
        """A new private-app token."""
        scopes = _body(request).get("scopes", sorted(ALL_SCOPES))
        if not isinstance(scopes, list):
            return _bad("scopes must be a list")
        return Response(200, {"token": self.sandbox.new_token([str(s) for s in scopes])})

    def expire_tokens(self, request: Request) -> Response:
        """Expire every OAuth access token."""
        return Response(200, {"expired": self.sandbox.auth.expire_all()})

    def outcomes(self, request: Request) -> Response:
        """The hidden conversion outcomes."""
        truth = self.sandbox.ground_truth()
        return Response(
            200,
            {
                key: {
                    **value,
                    "converted_at": iso_ms(to_ms(value["converted_at"]))
                    if value["converted_at"]
                    else None,
                }
                for key, value in truth.items()
            },
        )
