"""The org's OAuth 2.0 token endpoint and its sessions.

`POST /services/oauth2/token` (form-encoded) accepts the grants a server integration uses:

* `client_credentials`: the connected app's consumer key and secret (in the body or as HTTP
  Basic), running as the app's "Run As" user (the integration user);
* `urn:ietf:params:oauth:grant-type:jwt-bearer`: an RS256 JWT signed with the private key whose
  certificate is registered on the connected app; `iss` is the consumer key, `sub` the username,
  `aud` the login URL (or `https://login.salesforce.com` / `https://test.salesforce.com`), `exp`
  at most a few minutes ahead;
* `password` (deprecated by Salesforce, kept for completeness).

Failures are HTTP 400 with `{"error", "error_description"}` as Salesforce answers them. Access
tokens are opaque `00D...!...` strings; they expire after `session_ttl` seconds or when a test
expires them, after which the REST API answers 401 `INVALID_SESSION_ID`.
"""

from __future__ import annotations

import base64
import functools
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.httpserver import Request, Response
from sandbox.salesforce.store import Store

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Session:
    """One issued access token."""

    user: str
    expires: float


@functools.cache
def _connected_app_key() -> rsa.RSAPrivateKey:
    # One RSA key per process: generating one takes a noticeable fraction of a second, and
    # each sandbox org still gets its own client id and secret.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response(status, {"error": error, "error_description": description})


@dataclass
class OAuthServer:
    """Issues and checks access tokens for one org."""

    store: Store
    session_ttl: float = 7200.0
    client_id: str = field(default_factory=lambda: "3MVG9" + secrets.token_urlsafe(60)[:80])
    client_secret: str = field(default_factory=lambda: secrets.token_hex(32).upper())
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    key_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="leadsync-sf-")))
    sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        key = _connected_app_key()
        self.private_key_file = self.key_dir / "connected-app-key.pem"
        self.private_key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.private_key_file.chmod(0o600)
        self._public_key = key.public_key()

    def token(self, request: Request, base_url: str) -> Response:
        """Handle `POST /services/oauth2/token`."""
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8")).items()}
        grant = form.get("grant_type", "")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        authorization = request.header("Authorization")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode("utf-8")
            client_id, _, client_secret = decoded.partition(":")
        if not grant:
            return _oauth_error("invalid_request", "grant type is missing")
        if grant == "client_credentials":
            if client_id != self.client_id or client_secret != self.client_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
            return self._issue(self.store.integration_user, base_url)
        if grant == JWT_GRANT:
            return self._jwt(form.get("assertion", ""), base_url)
        if grant == "password":
            if client_id != self.client_id or client_secret != self.client_secret:
                return _oauth_error("invalid_client", "invalid client credentials")
            user = self._user(form.get("username", ""))
            if user is None or form.get("password") != self.password:
                return _oauth_error(
                    "invalid_grant",
                    "authentication failure - invalid username, password, or security token",
                )
            return self._issue(user, base_url)
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    def _jwt(self, assertion: str, base_url: str) -> Response:
        try:
            claims: dict[str, Any] = jwt.decode(
                assertion,
                self._public_key,
                algorithms=["RS256"],
                options={"require": ["iss", "sub", "aud", "exp"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            return _oauth_error("invalid_grant", "expired authorization code")
        except jwt.InvalidTokenError:
            return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        audiences = {base_url, "https://login.salesforce.com", "https://test.salesforce.com"}
        audience = claims.get("aud")
        if (audience if isinstance(audience, str) else "").rstrip("/") not in audiences:
            return _oauth_error("invalid_grant", "audience is invalid")
        if float(claims["exp"]) > time.time() + 300:
            return _oauth_error("invalid_grant", "expiration time is too far in the future")
        user = self._user(str(claims.get("sub")))
        if user is None:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        return self._issue(user, base_url)

    def _user(self, username: str) -> str | None:
        for record in self.store.table("User").values():
            if record.get("Username") == username and record.get("IsActive"):
                return str(record["Id"])
        return None

    def _issue(self, user: str, base_url: str) -> Response:
        token = f"{self.store.org_id[:15]}!AQ" + secrets.token_urlsafe(72)
        with self._lock:
            self.sessions[token] = Session(user, time.monotonic() + self.session_ttl)
        issued_at = str(int(time.time() * 1000))
        return Response(
            200,
            {
                "access_token": token,
                "signature": base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
                "scope": "api",
                "instance_url": base_url,
                "id": f"{base_url}/id/{self.store.org_id}/{user}",
                "token_type": "Bearer",
                "issued_at": issued_at,
            },
        )

    def user_of(self, request: Request) -> str | None:
        """The user of a request's bearer token, or None when missing, unknown or expired."""
        authorization = request.header("Authorization")
        if not authorization.startswith(("Bearer ", "OAuth ")):
            return None
        token = authorization.split(" ", 1)[1].strip()
        with self._lock:
            session = self.sessions.get(token)
            if session is None:
                return None
            if session.expires <= time.monotonic():
                del self.sessions[token]
                return None
            return session.user

    def expire_all(self) -> int:
        """Expire every session (as a password change or a timeout would); returns how many."""
        with self._lock:
            count = len(self.sessions)
            self.sessions.clear()
        return count

    def userinfo(self, request: Request, base_url: str) -> Response:
        """Handle `GET /services/oauth2/userinfo`."""
        user = self.user_of(request)
        if user is None:
            return Response(403, "Bad_OAuth_Token", content_type="text/plain;charset=UTF-8")
        record = self.store.table("User")[user]
        return Response(
            200,
            {
                "sub": f"{base_url}/id/{self.store.org_id}/{user}",
                "user_id": user,
                "organization_id": self.store.org_id,
                "preferred_username": record["Username"],
                "name": record["Name"],
                "email": record.get("Email"),
            },
        )
