"""The HubSpot transport: SDK API objects built once, one retry layer, budgets, auth, usage.

Every HubSpot call goes through `HubSpotApi.call`, which

1. refreshes an OAuth access token shortly before it expires (and once after a 401),
2. counts the call against the connection's daily cap (`BudgetExhausted` past it, saying when
   the account's day ends: `connectors.hubspot.account`),
3. takes a slot in the rolling 10-second window (and the search endpoints' per-second window),
4. calls the SDK with `_preload_content=False` and parses the JSON itself (the SDK's model
   objects cost more than the request at 100 records a page; see docs/architecture.md); batch
   reads and updates bypass the SDK's body encoding too (`post_json`, `batch_path`),
5. corrects the windows from the `X-HubSpot-RateLimit-*` headers,
6. classifies failures once (`connectors.hubspot.errors`) and retries transient ones through
   `connectors.retry` (the SDK's own urllib3 retries are off). A 429 closes its window for every
   thread (`RollingWindow.refused`: Retry-After when HubSpot sends one, else a jittered backoff
   growing with the refusals in a row, up to `RetryPolicy.rate_ceiling`); the `RateLimited` the
   retry layer sees carries that hold as its `retry_after`. A 429 whose headers count no call
   left in the window lengthens the backoff, and so does one of an exempt call (association
   batch reads: no window and no count of their own, so nothing shows room left); any other
   (room left, or a search's per-second refusal) is not the window's doing: the refused call
   alone pauses for about one slot's spacing.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import urllib3
from hubspot import events as sdk_events
from hubspot import oauth as sdk_oauth
from hubspot.crm import associations as sdk_associations
from hubspot.crm import objects as sdk_objects
from hubspot.crm import properties as sdk_properties
from hubspot.marketing import forms as sdk_forms
from pydantic import SecretStr
from tenacity import Retrying

from connectors import jsontext
from connectors.base import ApiUsage, CallMeter
from connectors.errors import (
    AuthError,
    BudgetExhausted,
    ConnectorError,
    PermanentError,
    RateLimited,
    TransientError,
    Unreachable,
)
from connectors.hubspot.account import DETAILS_PATH, AccountZone, low, zone_of
from connectors.hubspot.errors import HubSpotRejected, TokenRejected, classify
from connectors.hubspot.options import HubSpotOptions
from connectors.ratelimit import DailyCap, RollingWindow
from connectors.reach import no_connection_reason, origin
from connectors.retry import RetryPolicy, rate_backoff, retrying

__all__ = ["TIER_LIMITS", "ApiReply", "HubSpotApi", "batch_path"]


def batch_path(object_type: str, action: str) -> str:
    """The path of a CRM objects batch endpoint (`read`, `update`) for `HubSpotApi.post_json`."""
    return f"/crm/v3/objects/{quote(object_type, safe='')}/batch/{action}"


log = logging.getLogger("leadsync.hubspot")

#: Calls per rolling 10 seconds for private apps by subscription tier (HubSpot usage guidelines);
#: OAuth apps are held to 100 whatever the tier.
TIER_LIMITS: Mapping[str, int] = {
    "free": 100,
    "starter": 100,
    "professional": 190,
    "enterprise": 190,
}
#: HubSpot's usage guidelines: "Apps using OAuth are only subject to a limit of 100 requests
#: every 10 seconds" (developers.hubspot.com/apisbytier; changelog "New and Improved HubSpot API
#: Limits"). The X-HubSpot-RateLimit-Max header raises it when an account allows more.
OAUTH_LIMIT = 100
WINDOW_S = 10.0
REFRESH_MARGIN_S = 60.0
#: Rate holds at least this long are logged as warnings (shorter ones are routine in a burst).
LOUD_HOLD_S = 5.0
USER_AGENT = "leadsync (hubspot-api-client)"

_SDK_ERRORS: tuple[type[Exception], ...] = (
    sdk_objects.ApiException,
    sdk_properties.ApiException,
    sdk_associations.ApiException,
    sdk_events.ApiException,
    sdk_oauth.ApiException,
    sdk_forms.ApiException,
)
#: What OpenSSL says when the answer to a TLS handshake is no TLS record (a plain-HTTP
#: server): `WRONG_VERSION_NUMBER` up to OpenSSL 3.1, `RECORD_LAYER_FAILURE` or
#: `PACKET_LENGTH_TOO_LONG` from 3.2.
_NOT_TLS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG")


@dataclass(frozen=True, slots=True)
class ApiReply:
    """A successful (2xx) reply: its status (200, 201, 207...) and parsed JSON body."""

    status: int
    data: Any


def _headers(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    try:
        return {str(k): str(v) for k, v in raw.items()}
    except AttributeError:
        return {}


def _reveal(secret: SecretStr | None) -> str | None:
    """The plain text of `secret`, only where it goes into an HTTP request."""
    return None if secret is None else secret.get_secret_value() or None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _remaining(headers: Mapping[str, str]) -> int | None:
    """X-HubSpot-RateLimit-Remaining: the calls the ten-second window has left."""
    name = "x-hubspot-ratelimit-remaining"
    return _int(next((v for k, v in headers.items() if k.lower() == name), None))


def _windows(
    policy: RetryPolicy,
    limits: tuple[tuple[int, float], tuple[int, float]],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> tuple[RollingWindow, RollingWindow]:
    """The ten-second and search windows, backing off after 429s with the policy's jitter."""
    jitter = policy.jitter or random.Random().random
    backoff = rate_backoff(policy, jitter)
    (n1, s1), (n2, s2) = limits
    return (
        RollingWindow(n1, s1, clock=clock, sleep=sleep, backoff=backoff, jitter=jitter),
        RollingWindow(n2, s2, clock=clock, sleep=sleep, backoff=backoff, jitter=jitter),
    )


class HubSpotApi:
    """One HubSpot account connection, shared by every thread of a connector."""

    def __init__(  # noqa: PLR0913  options, seeds and test seams, keyword-only
        self,
        options: HubSpotOptions,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        daily_used: int = 0,
        zone: AccountZone | None = None,
        meter: CallMeter | None = None,
    ) -> None:
        tier = options.tier.lower()
        if tier not in TIER_LIMITS:
            raise ValueError(
                f"unknown HubSpot tier {options.tier!r}; use one of {sorted(TIER_LIMITS)}"
            )
        self.base_url = options.base_url
        self._oauth = options.oauth
        if not options.access_token and not self._oauth:
            raise AuthError(
                "HubSpot needs a private-app access token, or client_id, client_secret and "
                "refresh_token of an OAuth app"
            )
        self._options = options
        self._token: SecretStr | None = options.access_token
        self._token_generation = 0
        self._expires_at: float | None = None
        self._auth_lock = threading.Lock()
        self._timeout = options.timeout
        self._sleep = sleep
        self._clock = clock
        self._policy = options.retry_policy
        limit = TIER_LIMITS[tier]
        if self._oauth and not options.access_token:
            limit = min(limit, OAUTH_LIMIT)
        self.window, self.search_window = _windows(
            self._policy, ((limit, WINDOW_S), (options.search_per_second, 1.0)), clock, sleep
        )
        self.daily = DailyCap(options.daily_budget, used=daily_used)
        self.zone: AccountZone | None = None  # the account's, once given or looked up
        self._zone_learned = False  # looked up by this process (the store should keep it)
        self._zone_wanted = options.daily_budget is not None
        self._zone_tried = zone is not None  # an earlier process learned it: not asked again
        if zone is not None:
            self._use_zone(zone)
        self._zone_lock = threading.Lock()
        # what this process spent, and who else is told of each call
        self._usage, self._meter = ApiUsage(daily_limit=options.daily_budget), meter
        self._usage_lock = threading.Lock()
        self.last_latency = 0.0  # seconds, of the latest answered call

        self._configs: list[Any] = []

        def client(package: Any) -> Any:
            config = package.Configuration(host=options.base_url.rstrip("/"))
            config.access_token = _reveal(self._token)
            config.retries = False  # the one retry layer is ours
            config.ssl_ca_cert = options.ca_bundle
            config.connection_pool_maxsize = max(4, options.workers * 2)
            api_client = package.ApiClient(configuration=config)
            api_client.user_agent = USER_AGENT
            self._configs.append(config)
            return api_client

        objects = client(sdk_objects)
        self.objects_basic = sdk_objects.BasicApi(objects)
        self.objects_search = sdk_objects.SearchApi(objects)
        properties = client(sdk_properties)
        self.properties_core = sdk_properties.CoreApi(properties)
        self.properties_groups = sdk_properties.GroupsApi(properties)
        self.events_api = sdk_events.EventsApi(client(sdk_events))
        self.forms_api = sdk_forms.FormsApi(client(sdk_forms))
        self.tokens_api = sdk_oauth.TokensApi(client(sdk_oauth))

    # -- usage ----------------------------------------------------------------------------

    @property
    def usage(self) -> ApiUsage:
        """A snapshot of the calls made so far (by endpoint; `<endpoint> 429` counts 429s)."""
        with self._usage_lock:
            u = self._usage
            return ApiUsage(
                calls=u.calls,
                rate_limited=u.rate_limited,
                errors=u.errors,
                by_endpoint=dict(u.by_endpoint),
                daily_used=u.daily_used if u.daily_used is not None else self.daily.used,
                daily_limit=u.daily_limit,
                account_zone=self.zone if self._zone_learned else None,
            )

    def _count(self, endpoint: str, status: int | None) -> None:
        with self._usage_lock:
            u = self._usage
            u.calls += 1
            u.by_endpoint[endpoint] = u.by_endpoint.get(endpoint, 0) + 1
            if status == 429:
                u.rate_limited += 1
                key = f"{endpoint} 429"
                u.by_endpoint[key] = u.by_endpoint.get(key, 0) + 1
            elif status is None or status >= 400:
                u.errors += 1
        if self._meter is not None:
            self._meter.spent(1, 1 if status == 429 else 0)

    # -- the call path --------------------------------------------------------------------

    def call(  # noqa: PLR0913  the endpoint and SDK method, then how to call it, keyword-only
        self,
        endpoint: str,
        fn: Callable[..., Any],
        *args: Any,
        search: bool = False,
        exempt: bool = False,
        check: Callable[[Any], None] | None = None,
        on_resend: Callable[[BaseException], None] | None = None,
        **kwargs: Any,
    ) -> ApiReply:
        """Call one SDK method with retries, budgets and auth; returns the parsed 2xx reply.

        `search` calls take a slot of the search endpoints' per-second window instead of the
        ten-second one; `exempt` calls (association batch reads) take neither: the OpenAPI
        specs mark both `x-hubspot-rate-limit-exemptions: ["ten-secondly"]`. Both count
        against the day.

        `check(data)` validates the parsed body inside the retried attempt: it raises
        `TransientError` for a malformed payload, which is then retried like a 5xx.
        `on_resend(error)` is told of each retry that sends the call again after HubSpot may
        have acted on it (`connectors.retry.retrying`).
        """
        if self._zone_wanted and not self._zone_tried:
            self._load_zone()
        try:
            return self._call(
                endpoint,
                fn,
                args,
                kwargs,
                search=search,
                exempt=exempt,
                check=check,
                on_resend=on_resend,
            )
        except BudgetExhausted as exc:
            raise self._explain(exc) from None

    def _call(  # noqa: PLR0913  `call`'s arguments, keyword-only
        self,
        endpoint: str,
        fn: Callable[..., Any],
        args: Iterable[Any],
        kwargs: Mapping[str, Any],
        *,
        search: bool,
        exempt: bool,
        check: Callable[[Any], None] | None,
        on_resend: Callable[[BaseException], None] | None = None,
    ) -> ApiReply:
        windows: tuple[RollingWindow, ...]
        if search:
            windows = (self.search_window,)
        elif exempt:
            windows = ()
        else:
            windows = (self.window,)
        refreshed = False
        while True:
            self._refresh_if_expiring()
            generation = self._token_generation

            def attempt() -> ApiReply:
                reply = self._attempt(endpoint, fn, args, kwargs, windows)
                if check is not None:
                    check(reply.data)
                return reply

            try:
                result: ApiReply = self._retry(endpoint, on_resend)(attempt)
                return result
            except TokenRejected as exc:
                if refreshed or not self._oauth:
                    raise AuthError(str(exc)) from None
                self._refresh(generation)
                refreshed = True

    def _retry(
        self, endpoint: str, on_resend: Callable[[BaseException], None] | None = None
    ) -> Retrying:
        def on_retry(error: BaseException, wait: float) -> None:
            if isinstance(error, RateLimited) and wait >= LOUD_HOLD_S:
                log.warning(
                    "CRM refusing calls for rate, backing off",
                    extra={"endpoint": endpoint, "policy": error.policy, "hold_s": round(wait, 3)},
                )

        return retrying(
            self._policy,
            sleep=self._sleep,
            on_retry=on_retry,
            on_resend=on_resend,
            shared_rate_hold=True,
        )

    def _attempt(
        self,
        endpoint: str,
        fn: Callable[..., Any],
        args: Iterable[Any],
        kwargs: Mapping[str, Any],
        windows: tuple[RollingWindow, ...],
    ) -> ApiReply:
        self.daily.spend()
        for window in windows:
            window.acquire()
        status: int | None = None
        try:
            sent = self._clock()
            try:
                response = fn(
                    *args, _preload_content=False, _request_timeout=self._timeout, **kwargs
                )
                self.last_latency = self._clock() - sent
                status = int(response.status)
                headers = _headers(response.headers)
                raw = response.data
                response.release_conn()
            except _SDK_ERRORS as exc:
                status = int(getattr(exc, "status", 0) or 0)
                headers = _headers(getattr(exc, "headers", None))
                raw = getattr(exc, "body", None)
                if status == 0:
                    raise self._tls_or_transient(
                        endpoint, str(getattr(exc, "reason", ""))
                    ) from None
            except AttributeError as exc:
                # The SDK decodes the body of its own status-0 (TLS) ApiException, which is
                # None, so a TLS failure arrives as an AttributeError raised over it.
                inner = exc.__context__
                if not isinstance(inner, _SDK_ERRORS):
                    raise
                reason = str(getattr(inner, "reason", ""))
                raise self._tls_or_transient(endpoint, reason) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                refused = no_connection_reason(exc)
                if refused is not None:
                    raise Unreachable(
                        f"HubSpot {endpoint}: cannot connect to {origin(self.base_url)} "
                        f"({refused}); check base_url"
                    ) from None
                raise TransientError(
                    f"HubSpot {endpoint}: connection failed ({type(exc).__name__})"
                ) from None
            if self.window in windows:  # exempt replies report no ten-second window
                self._observe(headers)
        finally:
            for window in windows:
                window.release()
            self._count(endpoint, status)
        return self._reply(endpoint, status, raw, headers, sent=sent, windows=windows)

    def _reply(  # noqa: PLR0913  one answered call's parts
        self,
        endpoint: str,
        status: int,
        raw: Any,
        headers: Mapping[str, str],
        *,
        sent: float,
        windows: tuple[RollingWindow, ...],
    ) -> ApiReply:
        """The parsed 2xx reply, or the classified error raised; a 429 closes its window."""
        if 200 <= status < 300:
            for window in windows:
                window.answered()
            return ApiReply(status, self._json(endpoint, status, raw))
        error = classify(status, raw, headers, endpoint=endpoint)
        if isinstance(error, RateLimited):
            raise self._held(error, sent, headers, exempt=not windows)
        raise error

    def _held(
        self, error: RateLimited, sent: float, headers: Mapping[str, str], *, exempt: bool
    ) -> RateLimited:
        """Close the refused call's window (`RollingWindow.refused`) and return the error with
        the hold as its `retry_after`. An exempt call (no window of its own, no window headers)
        refused for rate has no count to show room left, so it backs off like a full window
        instead of retrying at a slot's spacing."""
        window = self.search_window if error.policy == "SECONDLY" else self.window
        # Search replies carry no window headers, and our own count never fills a window.
        remaining = _remaining(headers) if window is self.window else None
        hold = window.refused(
            sent=sent,
            retry_after=error.retry_after,
            window_full=exempt or (remaining is not None and remaining <= 0),
        )
        return RateLimited(str(error), hold, error.policy)

    def post_json(
        self,
        path: str,
        body: bytes,
        *,
        _preload_content: bool = False,
        _request_timeout: float | None = None,
    ) -> Any:
        """POST an already encoded JSON `body` to `path` (a batch read or update), for `call`
        (its retries, limits and counts apply). The SDK walks and re-encodes a whole body on
        every call, about as much work as building it; the reply is the raw urllib3 response
        (`call` reads the status, headers and JSON of any status)."""
        return self._raw("POST", path, body, _request_timeout)

    def get_json(
        self, path: str, *, _preload_content: bool = False, _request_timeout: float | None = None
    ) -> Any:
        """GET `path` (an API the SDK does not cover, such as Account Info), for `call`; the
        reply is the raw urllib3 response."""
        return self._raw("GET", path, None, _request_timeout)

    def _raw(self, method: str, path: str, body: bytes | None, timeout: float | None) -> Any:
        """`method` `path` over the objects client's pool, token and user agent."""
        client = self.objects_basic.api_client
        config = client.configuration
        headers = {"Accept": "application/json", "User-Agent": client.user_agent}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if config.access_token:
            headers["Authorization"] = f"Bearer {config.access_token}"
        try:
            return client.rest_client.pool_manager.request(
                method,
                f"{config.host}{path}",
                body=body,
                headers=headers,
                preload_content=False,
                timeout=urllib3.Timeout(total=timeout),
            )
        except urllib3.exceptions.SSLError as exc:
            raise self._tls_or_transient(path, str(exc)) from None

    # -- the account's day ----------------------------------------------------------------

    def account_zone(self) -> AccountZone | None:
        """The account's time zone, looked up now unless it is known or was asked for."""
        if not self._zone_tried:
            self._load_zone()
        return self.zone

    def _load_zone(self) -> None:
        """Ask once for the account's time zone; the daily cap's day is the account's from
        then on. The call counts against the cap like any other (a process started on a spent
        day makes none); a failure or a refusal leaves the day UTC's."""
        with self._zone_lock:
            if self._zone_tried:
                return
            self._zone_tried = True
            if self.daily.server_spent:
                return  # HubSpot would refuse this call too
            try:
                reply = self._retry("account.details")(
                    lambda: self._attempt(
                        "account.details",
                        self.get_json,
                        (DETAILS_PATH,),
                        {},
                        (self.window,),
                    )
                )
            except (ConnectorError, TokenRejected):
                return
            data = reply.data if isinstance(reply.data, dict) else {}
            self._use_zone(zone_of(data))
            self._zone_learned = True

    def _use_zone(self, zone: AccountZone) -> None:
        """The daily cap's day is the account's from now on."""
        self.zone = zone
        self.daily.rezone(lambda: zone.today(datetime.now(UTC)))

    def _explain(self, exc: BudgetExhausted) -> BudgetExhausted:
        """`exc` saying when the account's day ends: `...; resumes at 00:00 America/New_York
        (05:00 UTC)`."""
        if exc.resume_at is not None:
            return exc
        if self.zone is None and not self._zone_tried:
            self._load_zone()
        zone = self.zone
        if zone is None:
            return BudgetExhausted(f"{exc}; resumes at midnight in the HubSpot account's time zone")
        now = datetime.now(UTC)
        return BudgetExhausted(f"{exc}; {zone.resumes(now)}", resume_at=zone.next_midnight(now))

    def _tls_or_transient(self, endpoint: str, reason: str) -> ConnectorError:
        if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate verify failed" in reason:
            return PermanentError(
                f"HubSpot {endpoint}: the server's TLS certificate is not trusted; "
                "set ca_bundle to the CA file that signed it"
            )
        if any(sign in reason for sign in _NOT_TLS):
            # bytes that are no TLS record: an https:// base_url on a plain-HTTP server, which
            # retrying for the length of an outage would not change
            return PermanentError(
                f"HubSpot {endpoint}: {origin(self.base_url)} does not answer in TLS (it "
                "speaks plain HTTP); check base_url (http:// for a server without TLS)"
            )
        return TransientError(f"HubSpot {endpoint}: TLS failure")

    @staticmethod
    def _json(endpoint: str, status: int, raw: bytes | str | None) -> Any:
        if not raw:
            return {}
        try:
            return jsontext.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise TransientError(
                f"HubSpot {endpoint}: {status} reply is not JSON (truncated or an error page)"
            ) from None

    def _observe(self, headers: Mapping[str, str]) -> None:
        lower = {k.lower(): v for k, v in headers.items()}
        interval = _int(lower.get("x-hubspot-ratelimit-interval-milliseconds"))
        self.window.observe(
            limit=_int(lower.get("x-hubspot-ratelimit-max")),
            remaining=_int(lower.get("x-hubspot-ratelimit-remaining")),
            window=interval / 1000.0 if interval else None,
        )
        daily_remaining = _int(lower.get("x-hubspot-ratelimit-daily-remaining"))
        daily = _int(lower.get("x-hubspot-ratelimit-daily"))
        self.daily.observe(remaining=daily_remaining)
        if self.zone is None and low(daily, daily_remaining):
            self._zone_wanted = True
        if daily is not None and daily_remaining is not None:
            with self._usage_lock:
                self._usage.daily_used = daily - daily_remaining
                if self.daily.limit is None:
                    self._usage.daily_limit = daily

    # -- OAuth ----------------------------------------------------------------------------

    def _refresh_if_expiring(self) -> None:
        if not self._oauth:
            return
        expires_at = self._expires_at
        if _reveal(self._token) is None or (
            expires_at is not None and self._clock() >= expires_at - REFRESH_MARGIN_S
        ):
            self._refresh(self._token_generation)

    def _refresh(self, seen_generation: int) -> None:
        """Exchange the refresh token for a new access token, unless another thread just did."""
        with self._auth_lock:
            if self._token_generation != seen_generation:
                return
            try:
                reply = self._retry("oauth.token")(
                    lambda: self._attempt(
                        "oauth.token",
                        self.tokens_api.create,
                        (),
                        {
                            "grant_type": "refresh_token",
                            "client_id": self._options.client_id,
                            "client_secret": _reveal(self._options.client_secret),
                            "refresh_token": _reveal(self._options.refresh_token),
                        },
                        (self.window,),
                    )
                )
            except (HubSpotRejected, TokenRejected) as exc:
                raise AuthError(
                    f"HubSpot OAuth refresh failed: {exc}; reinstall the app or replace the "
                    "refresh token"
                ) from None
            token = reply.data.get("access_token") if isinstance(reply.data, dict) else None
            if not isinstance(token, str) or not token:
                raise AuthError("HubSpot OAuth refresh answered without an access_token")
            expires_in = reply.data.get("expires_in")
            self._token = SecretStr(token)
            self._expires_at = (
                self._clock() + float(expires_in) if isinstance(expires_in, int | float) else None
            )
            for config in self._configs:
                config.access_token = token
            self._token_generation += 1

    def close(self) -> None:
        """Close every SDK connection pool."""
        for api in (
            self.objects_basic,
            self.properties_core,
            self.events_api,
            self.forms_api,
            self.tokens_api,
        ):
            pool = getattr(getattr(api.api_client, "rest_client", None), "pool_manager", None)
            if pool is not None:
                pool.clear()
