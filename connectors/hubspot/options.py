"""`HubSpotOptions`: how the connector reaches one HubSpot account and how hard it may press it."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from connectors.retry import RetryPolicy

#: The address of HubSpot's APIs.
DEFAULT_HOST = "https://api.hubapi.com"

__all__ = ["HubSpotOptions"]


@dataclass(frozen=True, slots=True)
class HubSpotOptions:
    """One HubSpot account's connection options (secrets stay `SecretStr` until the HTTP call).

    Credentials: a private-app `access_token`, or an OAuth app's `client_id`, `client_secret`
    and `refresh_token`. `tier` sizes the rolling 10-second budget (free/starter 100,
    professional/enterprise 190; OAuth apps 100), which the `X-HubSpot-RateLimit-*` headers then
    correct. `daily_budget` caps this connection's calls per UTC day (None: no cap).
    `search_per_second` is the search endpoints' own limit. `overlap_s` more seconds are re-read
    before `since` on incremental reads (0 by default: the sync engine already passes
    `watermark - read.overlap`, which covers HubSpot's search index trailing writes by a few
    seconds). `workers` bounds concurrent calls.
    """

    base_url: str = DEFAULT_HOST
    access_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    tier: str = "professional"
    ca_bundle: str | None = None
    timeout: float = 30.0
    daily_budget: int | None = None
    search_per_second: int = 5
    overlap_s: float = 0.0
    workers: int = 8
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    #: Namespaces of the connection's further models of a kind (`pl_a_`: they own
    #: `leadsync_pl_a_score` ...), read and written besides the `leadsync_*` outputs.
    output_namespaces: tuple[str, ...] = ()

    @property
    def oauth(self) -> bool:
        """True when the OAuth app's client id, client secret and refresh token are all set."""
        return bool(self.client_id and self.client_secret and self.refresh_token)
