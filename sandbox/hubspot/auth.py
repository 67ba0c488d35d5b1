"""Private-app tokens, OAuth access/refresh tokens and scopes, answered as HubSpot does.

- Private-app tokens (`pat-na1-...`) never expire and carry a fixed scope set.
- `POST /oauth/v1/token` with `grant_type=refresh_token` (form-encoded) exchanges a refresh token
  for a 30-minute access token (https://developers.hubspot.com/docs/api/oauth/tokens);
  a bad grant type, client or refresh token -> 400 with RFC 6749's `error` and
  `error_description` beside HubSpot's own `status` (`BAD_GRANT_TYPE`, `BAD_CLIENT_ID`,
  `BAD_CLIENT_SECRET`, `BAD_REFRESH_TOKEN`) and `message`, as HubSpot's OAuth token guides show
  it ("Error handling").
- Unknown token -> 401 `INVALID_AUTHENTICATION`; expired -> 401 `EXPIRED_AUTHENTICATION` with
  "expired N unit(s) ago" and the expiry time in `context`.
- A missing scope -> 403 `MISSING_SCOPES` naming the scopes in `errors[].context`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs

from sandbox.httpserver import Request, Response
from sandbox.hubspot import errors
from sandbox.hubspot.values import iso_ms

ACCESS_TOKEN_SECONDS = 1800
ALL_SCOPES: frozenset[str] = frozenset(
    {
        "oauth",
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.objects.companies.read",
        "crm.objects.companies.write",
        "crm.objects.deals.read",
        "crm.schemas.contacts.read",
        "crm.schemas.contacts.write",
        "crm.schemas.companies.read",
        "crm.schemas.companies.write",
        "forms",
    }
)
_INVALID = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_SCOPES_URL = "https://developers.hubspot.com/scopes"


@dataclass
class Token:
    """An access token: who it belongs to (the rate-limit bucket), scopes, expiry."""

    value: str
    app: str
    scopes: frozenset[str]
    oauth: bool
    expires_at: float | None = None


class Auth:
    """Issues and checks tokens; thread-safe."""

    def __init__(self, *, seed: int, clock: Callable[[], float] = time.time) -> None:
        self._rng = random.Random(f"auth-{seed}")
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}
        self._clients: dict[str, tuple[str, frozenset[str]]] = {}
        self._refresh: dict[str, str] = {}

    def _hex(self, length: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def _uuid(self) -> str:
        h = self._hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def private_app_token(self, scopes: Iterable[str] = ALL_SCOPES) -> str:
        """A new private-app token with these scopes (each one its own rate-limit bucket)."""
        with self._lock:
            value = f"pat-na1-{self._uuid()}"
            self._tokens[value] = Token(value, value, frozenset(scopes), oauth=False)
            return value

    def oauth_app(self, scopes: Iterable[str] = ALL_SCOPES) -> tuple[str, str, str]:
        """A new OAuth app installation: (client_id, client_secret, refresh_token)."""
        with self._lock:
            client_id, secret, refresh = self._uuid(), self._uuid(), f"na1-{self._uuid()}"
            self._clients[client_id] = (secret, frozenset(scopes))
            self._refresh[refresh] = client_id
            return client_id, secret, refresh

    def issue_access_token(self, client_id: str) -> Token:
        """A fresh 30-minute access token for an installed OAuth app."""
        with self._lock:
            _, scopes = self._clients[client_id]
            value = f"CJ{self._hex(40)}"
            token = Token(
                value,
                client_id,
                scopes,
                oauth=True,
                expires_at=self._clock() + ACCESS_TOKEN_SECONDS,
            )
            self._tokens[value] = token
            return token

    def expire(self, value: str) -> None:
        """Expire one OAuth access token now (private-app tokens do not expire)."""
        with self._lock:
            token = self._tokens.get(value)
            if token is not None and token.oauth:
                token.expires_at = min(token.expires_at or 0.0, self._clock() - 0.001)

    def expire_all(self) -> int:
        """Expire every OAuth access token; returns how many."""
        with self._lock:
            tokens = [t for t in self._tokens.values() if t.oauth]
        for token in tokens:
            self.expire(token.value)
        return len(tokens)

    def authenticate(self, request: Request) -> Token | Response:
        """The request's token, or the 401 HubSpot sends."""
        header = request.header("Authorization")
        value = header[7:].strip() if header[:7].lower() == "bearer " else ""
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            return errors.error(401, "INVALID_AUTHENTICATION", _INVALID)
        return self.check(token)

    def check(self, token: Token) -> Token | Response:
        """The token itself while valid, else the 401 for an expired token."""
        if token.expires_at is not None:
            now = self._clock()
            if now >= token.expires_at:
                ago = _ago(now - token.expires_at)
                return errors.error(
                    401,
                    "EXPIRED_AUTHENTICATION",
                    f"The OAuth token used to make this call expired {ago} ago.",
                    context={"expire time": [iso_ms(int(token.expires_at * 1000))]},
                )
        return token

    @staticmethod
    def require(token: Token, scopes: Iterable[str]) -> Response | None:
        """403 MISSING_SCOPES unless the token holds every one of `scopes`."""
        missing = sorted(set(scopes) - token.scopes)
        if not missing:
            return None
        return errors.error(
            403,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more "
            f"about required scopes here: {_SCOPES_URL}.",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": missing},
                }
            ],
            links={"scopes": _SCOPES_URL},
        )

    def token_endpoint(self, request: Request) -> Response:
        """`POST /oauth/v1/token`, refresh_token grant."""
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "refresh_token":
            return _oauth_error(
                "BAD_GRANT_TYPE", "unsupported_grant_type", "grant_type must be refresh_token"
            )
        client_id = form.get("client_id", "")
        with self._lock:
            client = self._clients.get(client_id)
            owner = self._refresh.get(form.get("refresh_token", ""))
        if client is None:
            return _oauth_error("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id")
        if client[0] != form.get("client_secret"):
            return _oauth_error(
                "BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret"
            )
        if owner != client_id:
            return _oauth_error(
                "BAD_REFRESH_TOKEN", "invalid_grant", "refresh token is invalid, expired or revoked"
            )
        token = self.issue_access_token(client_id)
        return Response(
            200,
            {
                "token_type": "bearer",
                "refresh_token": form["refresh_token"],
                "access_token": token.value,
                "expires_in": ACCESS_TOKEN_SECONDS,
            },
        )


def _oauth_error(status: str, error: str, message: str) -> Response:
    """A token endpoint refusal: RFC 6749's pair first, HubSpot's older pair kept beside it."""
    cid = errors.correlation_id()
    body = {
        "error": error,
        "error_description": message,
        "status": status,
        "message": message,
        "correlationId": cid,
    }
    return Response(400, body, headers={"X-HubSpot-Correlation-Id": cid})


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}(s)"
    return f"{seconds} second(s)"
