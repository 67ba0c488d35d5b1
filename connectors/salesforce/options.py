"""`SalesforceOptions`: how the connector reaches one Salesforce org and how it reads and writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import SecretStr

from connectors.retry import RetryPolicy

__all__ = ["SalesforceOptions"]


@dataclass(frozen=True, slots=True)
class SalesforceOptions:
    """One Salesforce org's connection options (secrets stay `SecretStr` until the HTTP call).

    Authenticates with JWT bearer (`client_id`, `username`, `private_key_file`; `jwt_audience`
    overrides the `aud` claim derived from `login_url`) or client credentials (`client_id`,
    `client_secret`), or uses an existing `session_id` + `instance_url` (re-authenticating with
    the configured grant, if any, when it expires). `daily_share` is the fraction of the org's
    daily API allowance this connection may spend; `bulk_threshold` the number of changes from
    which writes use Bulk API 2.0 (polled every `bulk_poll_s` seconds). `batch_size` records a
    query page (200 to 2000), `activity_days` of Task/Event history per record, `overlap` more
    re-read before `since` on incremental reads. `output_namespaces` are the further models'
    output namespaces (`pl_a_`: they write `Leadsync_Pl_A_Score__c`, ...) besides leadsync's own.
    """

    login_url: str
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    private_key_file: str | None = None
    session_id: SecretStr | None = None
    instance_url: str | None = None
    api_version: str = "62.0"
    ca_bundle: str | None = None
    timeout: float = 30.0
    daily_share: float = 0.2
    bulk_threshold: int = 10000
    sales_permission_set: str | None = None
    batch_size: int = 2000
    activity_days: int = 365
    overlap: timedelta = timedelta(0)
    jwt_audience: str | None = None
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    bulk_poll_s: float = 2.0
    output_namespaces: tuple[str, ...] = ()
