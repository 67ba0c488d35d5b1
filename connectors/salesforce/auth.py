"""Getting an access token: JWT bearer, client credentials, or a session the caller already has.

simple-salesforce builds login URLs on `salesforce.com` and always uses https, so the connector
asks `{login_url}/services/oauth2/token` itself and hands the library `session_id` and
`instance_url`. JWT bearer signs `{iss: client id, sub: username, aud, exp: now + 3 min}` with
RS256 and the private key whose certificate is on the connected app. The audience is
`https://login.salesforce.com` for production and My Domain hosts, `https://test.salesforce.com`
for sandboxes, and the login URL itself for anything else (such as the local sandbox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import requests
from pydantic import SecretStr

from connectors.errors import AuthError, PermanentError, TransientError, Unreachable
from connectors.reach import no_connection_reason, origin
from connectors.salesforce.options import SalesforceOptions

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class Token:
    """An access token, the instance to call, and the user it acts as."""

    access_token: SecretStr
    instance_url: str
    user_id: str | None


@dataclass(frozen=True)
class Credentials:
    """What the connector may authenticate with; `grant` says which flow applies."""

    login_url: str
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    private_key_file: str | None = None
    audience: str | None = None

    @classmethod
    def of(cls, options: SalesforceOptions) -> Credentials:
        """The credentials among a connection's options."""
        return cls(
            login_url=options.login_url.rstrip("/"),
            client_id=options.client_id,
            client_secret=options.client_secret,
            username=options.username,
            private_key_file=options.private_key_file,
            audience=options.jwt_audience,
        )

    @property
    def grant(self) -> str | None:
        """`jwt`, `client_credentials`, or None when only an existing session was given."""
        if self.client_id and self.username and self.private_key_file:
            return "jwt"
        if self.client_id and self.client_secret:
            return "client_credentials"
        return None

    def jwt_audience(self) -> str:
        """The `aud` claim Salesforce expects for this login URL."""
        if self.audience:
            return self.audience
        host = urlsplit(self.login_url).hostname or ""
        if host in ("login.salesforce.com", "test.salesforce.com"):
            return f"https://{host}"
        if host.endswith(".sandbox.my.salesforce.com"):
            return "https://test.salesforce.com"
        if host.endswith(".salesforce.com"):
            return "https://login.salesforce.com"
        return self.login_url.rstrip("/")


def _user_of(identity_url: str) -> str | None:
    """The user id at the end of an identity URL `https://.../id/{org id}/{user id}`."""
    if "/id/" not in identity_url:
        return None
    parts = identity_url.split("/id/", 1)[1].strip("/").split("/")
    return parts[1] if len(parts) == 2 else None


def fetch_token(
    session: requests.Session, credentials: Credentials, *, now: Callable[[], float]
) -> Token:
    """Ask the token endpoint for an access token; raises AuthError when refused."""
    grant = credentials.grant
    form: dict[str, str]
    if grant == "jwt":
        try:
            key = Path(str(credentials.private_key_file)).read_bytes()
        except OSError as error:
            raise AuthError(
                f"cannot read private_key_file {credentials.private_key_file}: {error.strerror}"
            ) from None
        claims = {
            "iss": credentials.client_id,
            "sub": credentials.username,
            "aud": credentials.jwt_audience(),
            "exp": int(now()) + 180,
        }
        try:
            assertion = jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as error:
            # the file changed since the configuration was checked (`config.key_files`)
            raise AuthError(f"private_key_file is not a usable RSA private key: {error}") from None
        form = {"grant_type": JWT_GRANT, "assertion": assertion}
    elif grant == "client_credentials":
        assert credentials.client_secret is not None
        form = {
            "grant_type": "client_credentials",
            "client_id": str(credentials.client_id),
            "client_secret": credentials.client_secret.get_secret_value(),
        }
    else:
        raise AuthError(
            "no way to get a new Salesforce session: configure client_id with client_secret "
            "(client credentials) or client_id, username and private_key_file (JWT bearer)"
        )
    url = credentials.login_url.rstrip("/") + "/services/oauth2/token"
    try:
        response = session.post(url, data=form, headers={"Accept": "application/json"})
    except requests.exceptions.SSLError:
        raise PermanentError(
            "Salesforce token endpoint: TLS verification failed; set ca_bundle to the CA that "
            "signed the server certificate"
        ) from None
    except requests.RequestException as error:
        reason = no_connection_reason(error)
        if reason is not None:
            raise Unreachable(
                f"Salesforce token endpoint: cannot connect to {origin(url)} ({reason}); "
                "check login_url"
            ) from None
        raise TransientError(f"Salesforce token endpoint: {type(error).__name__}") from None
    if response.status_code >= 500:
        raise TransientError(f"Salesforce token endpoint: HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise AuthError(
            f"Salesforce token endpoint: HTTP {response.status_code}, not a JSON answer "
            f"(is login_url {credentials.login_url} right?)"
        ) from None
    if not isinstance(body, dict):
        # not the token endpoint: the REST API's error list, as a login_url with a path gets
        raise AuthError(
            f"Salesforce token endpoint: HTTP {response.status_code}, not an OAuth answer (is "
            f"login_url {credentials.login_url} right? it is the org's address alone, e.g. "
            "https://acme.my.salesforce.com)"
        )
    if response.status_code != 200 or "access_token" not in body:
        code = body.get("error", "unknown_error")
        description = body.get("error_description", "")
        raise AuthError(f"Salesforce refused the {grant} grant: {code}: {description}")
    return Token(
        access_token=SecretStr(str(body["access_token"])),
        instance_url=str(body.get("instance_url") or credentials.login_url).rstrip("/"),
        user_id=_user_of(str(body.get("id") or "")),
    )
