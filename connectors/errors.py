"""Errors every connector raises, classified once at the adapter boundary.

    ConnectorError
    ├── TransientError          retry later: 5xx, timeouts, connection resets, lock contention
    │   ├── RateLimited         the CRM refused for rate; `retry_after` seconds when it said so
    │   └── Unreachable         no connection at all (refused, unknown host); names the URL
    ├── AuthError               credentials rejected or expired beyond refresh; a run cannot go on
    ├── MissingPermission        a scope or field permission is missing; names what to grant
    │   └── SourceUnavailable   a source rules read refused (tier, scopes): what it serves, the fix
    ├── BudgetExhausted         the connection's share of the daily API allowance is spent
    └── PermanentError          the CRM will never accept this request as sent (per call)
        └── RequestRejected     a 4xx over the request's content: with `status` 400, a record
                                in it may be at fault and a smaller request may pass

Per-record failures inside a batch are not exceptions: they come back as `WriteResult`s whose
`WriteAction` the connector decided.
Messages never contain secrets.
"""

from __future__ import annotations

from datetime import datetime


class ConnectorError(Exception):
    """Base of every connector error."""


class TransientError(ConnectorError):
    """A failure that may succeed if retried later."""


class RateLimited(TransientError):
    """The CRM refused the call for rate; `retry_after` is in seconds when the CRM gave one."""

    def __init__(self, message: str, retry_after: float | None = None, policy: str | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.policy = policy


class Unreachable(TransientError):
    """No connection could be opened (refused, unknown host): an outage once the CRM has
    answered, a misconfigured URL before it ever did. The message names the URL."""


class AuthError(ConnectorError):
    """Authentication failed (bad or expired credentials that could not be refreshed)."""


class MissingPermission(ConnectorError):
    """The integration user lacks a scope or a field permission; the message names it."""


class SourceUnavailable(MissingPermission):
    """A source the model's rules read refused access (subscription tier, revoked scopes):
    an engagement source (`event_types`, the canonical event types it serves) or a related
    record's values (`fields`, the field prefixes it serves, such as `company.`). `source` names
    it and `fix` says what to do; the engine adds the rules that read it to the message."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        fix: str,
        event_types: tuple[str, ...] = (),
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.source = source
        self.fix = fix
        self.event_types = event_types
        self.fields = fields


class BudgetExhausted(ConnectorError):
    """The connection reached its configured share of the CRM's daily API allowance.

    `resume_at`, when the connector knows it, is when the work will fit again.
    """

    def __init__(self, message: str, *, resume_at: datetime | None = None) -> None:
        super().__init__(message)
        self.resume_at = resume_at


class PermanentError(ConnectorError):
    """The CRM rejected the call as sent; retrying the same request cannot help."""


class UnknownField(PermanentError):
    """The CRM refused a read naming a field it does not have (a misspelt field of a related
    record in the model, say); `column` is the name it refused, `fields` the model's names
    holding it, once the connector has matched them (empty until then)."""

    def __init__(self, message: str, *, column: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.column = column
        self.fields = fields


class RequestRejected(PermanentError):
    """The CRM refused the request's content (a 4xx); `status` and the CRM's `code` say why."""

    def __init__(self, message: str, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
