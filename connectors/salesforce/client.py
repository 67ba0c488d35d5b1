"""Every Salesforce call of the connector, through simple-salesforce, in one place.

`SalesforceApi.call(endpoint, fn)` is the adapter boundary: it charges the daily share, runs
`fn(simple_salesforce.Salesforce)`, classifies any failure (`errors.classify`), re-authenticates
once on `INVALID_SESSION_ID` and repeats the call (a second 401 is an `AuthError`: never a
loop), and retries transient failures through the project's one retry layer
(`connectors.retry.retrying`, with the injected `sleep`). simple-salesforce itself never retries:
it is given a session id (so it cannot log in again) and an `ApiSession` without transport
retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from simple_salesforce.api import Salesforce
from simple_salesforce.util import call_salesforce

from connectors import jsontext
from connectors.base import ApiUsage, CallMeter
from connectors.errors import (
    AuthError,
    BudgetExhausted,
    ConnectorError,
    PermanentError,
    RateLimited,
)
from connectors.retry import retrying
from connectors.salesforce.auth import Credentials, Token, fetch_token
from connectors.salesforce.budget import DailyShare
from connectors.salesforce.errors import SessionExpired, classify, classify_status
from connectors.salesforce.http import ApiSession, LimitInfo
from connectors.salesforce.options import SalesforceOptions

T = TypeVar("T")
#: Query subrequests in one `POST composite`: Salesforce takes 25 subrequests of which at most
#: 5 may be queries or sObject Collections.
MAX_COMPOSITE_QUERIES = 5
#: Told of the error before a retry sends a call again (`connectors.retry.retrying`).
Resend = Callable[[BaseException], None]


class SalesforceApi:
    """An authenticated simple-salesforce client with budget, retries and one re-auth."""

    def __init__(
        self,
        options: SalesforceOptions,
        *,
        sleep: Callable[[float], None],
        daily_used: int = 0,
        clock: Callable[[], float] = time.time,
        meter: CallMeter | None = None,
    ) -> None:
        credentials = Credentials.of(options)
        self._meter = meter
        self.version = options.api_version
        self.usage = ApiUsage()
        self.budget = DailyShare(options.daily_share, clock=clock, used=daily_used)
        self.session = ApiSession(
            timeout=options.timeout, ca_bundle=options.ca_bundle, on_limits=self._on_limits
        )
        self.user_id: str | None = None
        self._credentials = credentials
        self._sleep = sleep
        self._clock = clock
        self._policy = options.retry_policy
        self._sf: Salesforce | None = None
        self._at_version: dict[str, Salesforce] = {}
        self.reauthentications = 0
        self.retries = 0
        if options.session_id and options.instance_url:
            self._connect(Token(options.session_id, options.instance_url.rstrip("/"), None))
        elif credentials.grant is None:
            raise AuthError(
                "no Salesforce credentials: configure client_id + client_secret (client "
                "credentials), client_id + username + private_key_file (JWT bearer), or "
                "session_id + instance_url"
            )

    # -- session ------------------------------------------------------------------------------

    def _on_limits(self, info: LimitInfo) -> None:
        self.usage.daily_used = info.used
        self.usage.daily_limit = info.limit
        self.budget.observe(info)

    def _connect(self, token: Token) -> None:
        self._sf = Salesforce(
            session_id=token.access_token.get_secret_value(),
            instance_url=token.instance_url,
            session=self.session,
            version=self.version,
        )
        self._at_version = {}
        self.instance_url = token.instance_url
        if token.user_id:
            self.user_id = token.user_id

    def authenticate(self) -> None:
        """Get a new access token with the configured grant."""

        def once() -> Token:
            self._count("oauth2/token")
            return fetch_token(self.session, self._credentials, now=self._clock)

        token = retrying(self._policy, sleep=self._sleep, on_retry=self._on_retry)(once)
        self._connect(token)

    @property
    def sf(self) -> Salesforce:
        """The simple-salesforce client, logging in on first use."""
        if self._sf is None:
            self.authenticate()
        assert self._sf is not None
        return self._sf

    def integration_user(self) -> str:
        """Id of the user the connector acts as (from the token, else from `userinfo`)."""
        if self.user_id is None:
            info = self.call("oauth2/userinfo", lambda sf: sf.oauth2("userinfo"), counted=False)
            self.user_id = str((info or {}).get("user_id") or "")
        return self.user_id

    # -- calls --------------------------------------------------------------------------------

    def call(
        self,
        endpoint: str,
        fn: Callable[[Salesforce], T],
        *,
        counted: bool = True,
        on_resend: Resend | None = None,
    ) -> T:
        """Run one API call with budget, error classification, one re-auth and retries
        (`on_resend(error)` told of each retry that sends the call again after the CRM may
        have acted on it: `connectors.retry.retrying`)."""
        if self._sf is None:
            self.authenticate()  # retried on its own, not once more for every try of the call
        if counted and self.budget.recheck_due():
            self.recheck_allowance()
        return self._call(endpoint, fn, counted=counted, on_resend=on_resend)

    def recheck_allowance(self) -> None:
        """Ask `GET limits` whether the org's spent allowance has room again (one call); raise
        `BudgetExhausted` with the next re-check time when it has not."""
        body = self._call("limits", lambda sf: sf.restful("limits/"), counted=True, recheck=True)
        daily = (body or {}).get("DailyApiRequests") or {}
        limit = int(daily.get("Max") or 0)
        if limit:
            self.budget.observe(
                LimitInfo(used=limit - int(daily.get("Remaining") or 0), limit=limit)
            )
        if self.budget.recheck_at is not None:
            raise self.budget.org_spent()

    def _call(
        self,
        endpoint: str,
        fn: Callable[[Salesforce], T],
        *,
        counted: bool,
        recheck: bool = False,
        on_resend: Resend | None = None,
    ) -> T:

        def attempt() -> T:
            try:
                return self._once(endpoint, fn, counted=counted, recheck=recheck)
            except SessionExpired as expired:
                if self._credentials.grant is None:
                    raise AuthError(
                        f"{expired} (the configured session_id expired and no client "
                        "credentials or JWT settings are configured to get a new one)"
                    ) from None
                self.reauthentications += 1
                self.authenticate()
                try:
                    return self._once(endpoint, fn, counted=counted, recheck=recheck)
                except SessionExpired as again:
                    raise AuthError(f"{again} (right after a fresh login)") from None

        return retrying(
            self._policy, sleep=self._sleep, on_retry=self._on_retry, on_resend=on_resend
        )(attempt)

    def _once(
        self, endpoint: str, fn: Callable[[Salesforce], T], *, counted: bool, recheck: bool
    ) -> T:
        sf = self.sf
        if counted:
            self.budget.spend(recheck=recheck)
        self._count(endpoint, counted=counted)
        try:
            return fn(sf)
        except Exception as error:
            classified = classify(endpoint, error)
            if isinstance(classified, RateLimited):
                self.usage.rate_limited += 1
                if counted and self._meter is not None:
                    self._meter.spent(0, 1)
            else:
                self.usage.errors += 1
            if isinstance(classified, BudgetExhausted):
                spent = self.budget.org_spent()
                raise BudgetExhausted(f"{classified}; {spent}", resume_at=spent.resume_at) from None
            raise classified from None

    def _count(self, endpoint: str, *, counted: bool = False) -> None:
        if counted:
            self.usage.calls += 1
            if self._meter is not None:
                self._meter.spent(1, 0)
        self.usage.by_endpoint[endpoint] = self.usage.by_endpoint.get(endpoint, 0) + 1

    def _on_retry(self, error: BaseException, wait: float) -> None:
        del error, wait
        self.retries += 1

    # -- resources ----------------------------------------------------------------------------

    def at(self, sf: Salesforce, version: str | None) -> Salesforce:
        """`sf`, or a client of the same session at API `version` (for the few reads that need
        a newer version than the configured one)."""
        if version is None or version == self.version:
            return sf
        found = self._at_version.get(version)
        if found is None or found.session_id != sf.session_id:
            found = Salesforce(
                session_id=sf.session_id,
                instance_url=self.instance_url,
                session=self.session,
                version=version,
            )
            self._at_version[version] = found
        return found

    def versions(self) -> list[dict[str, Any]]:
        """The Versions resource, `GET /services/data/`: every API version the org serves.
        It needs no session, so it is not charged to the daily share."""

        def get(sf: Salesforce) -> Any:
            url = f"https://{sf.sf_instance}/services/data/"
            return call_salesforce(url, "GET", self.session, sf.headers).json()

        body = self.call("versions", get, counted=False)
        return [v for v in body if isinstance(v, dict)] if isinstance(body, list) else []

    def query(
        self, soql: str, *, batch_size: int = 2000, version: str | None = None
    ) -> dict[str, Any]:
        """`GET query?q=` with the batch size header (at API `version`, default the configured
        one)."""
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        result: dict[str, Any] = self.call(
            "query", lambda sf: self.at(sf, version).query(soql, headers=headers)
        )
        return jsontext.encodable(result)  # type: ignore[no-any-return]

    def queries(
        self, soqls: Sequence[str], *, batch_size: int = 2000
    ) -> list[dict[str, Any] | ConnectorError]:
        """Up to `MAX_COMPOSITE_QUERIES` independent queries in one `POST composite` (one API
        call): each a `GET query?q=` subrequest with the batch size header, answered by its
        first page, or by the error the same query alone would have raised (classified as
        `classify_status` classifies a response; `allOrNone` false, so one failing leaves the
        others answered)."""
        if not 0 < len(soqls) <= MAX_COMPOSITE_QUERIES:
            raise ValueError(f"a composite call takes 1 to 5 queries, not {len(soqls)}")
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        request = {
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": f"/services/data/v{self.version}/query/?{urlencode({'q': soql})}",
                    "referenceId": f"query{index}",
                    "httpHeaders": headers,
                }
                for index, soql in enumerate(soqls)
            ],
        }
        body = self.rest("query/composite", "composite", method="POST", body=request)
        answers = {
            str(r.get("referenceId")): r
            for r in (body or {}).get("compositeResponse") or []
            if isinstance(r, dict)
        }
        results: list[dict[str, Any] | ConnectorError] = []
        for index in range(len(soqls)):
            answer = answers.get(f"query{index}")
            if answer is None:
                self.usage.errors += 1
                results.append(PermanentError(f"Salesforce composite: no answer for query{index}"))
                continue
            status = int(answer.get("httpStatusCode") or 0)
            if status >= 400:
                self.usage.errors += 1
                results.append(classify_status("query", status, answer.get("body")))
                continue
            results.append(jsontext.encodable(answer.get("body") or {}))
        return results

    def query_more(self, next_url: str, *, batch_size: int = 2000) -> dict[str, Any]:
        """`GET` a query's `nextRecordsUrl`."""
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        result: dict[str, Any] = self.call(
            "query_more",
            lambda sf: sf.query_more(next_url, identifier_is_url=True, headers=headers),
        )
        return jsontext.encodable(result)  # type: ignore[no-any-return]

    def rest(  # noqa: PLR0913  the resource, then how to send it, each keyword-only
        self,
        endpoint: str,
        path: str,
        *,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        version: str | None = None,
        on_resend: Resend | None = None,
    ) -> Any:
        """A REST resource under `/services/data/vXX.X/` (JSON in, JSON out; at API `version`,
        default the configured one; `on_resend` as in `call`)."""
        extra: dict[str, Any] = {}
        if body is not None:
            extra["json"] = body
        if headers:
            extra["headers"] = headers
        return self.call(
            endpoint,
            lambda sf: self.at(sf, version).restful(path, method=method, **extra),
            on_resend=on_resend,
        )

    def tooling(
        self,
        endpoint: str,
        action: str,
        *,
        method: str = "GET",
        data: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        """A Tooling API resource under `/services/data/vXX.X/tooling/`."""
        return self.call(
            endpoint, lambda sf: sf.toolingexecute(action, method=method, data=data, params=params)
        )

    def upload_csv(self, path: str, data: bytes, *, on_resend: Resend | None = None) -> None:
        """`PUT` CSV to a Bulk API 2.0 resource (201, empty body; `on_resend` as in `call`)."""

        def put(sf: Salesforce) -> None:
            headers = dict(sf.headers)
            headers["Content-Type"] = "text/csv"
            call_salesforce(sf.base_url + path, "PUT", self.session, headers, data=data)

        self.call("jobs/ingest/batches", put, on_resend=on_resend)

    def bulk_results(self, sobject: str, job_id: str, kind: str) -> str:
        """A Bulk API 2.0 job's `successfulResults` or `failedResults` CSV."""

        def fetch(sf: Salesforce) -> str:
            handler = getattr(sf.bulk2, sobject)
            if kind == "successfulResults":
                return str(handler.get_successful_records(job_id))
            return str(handler.get_failed_records(job_id))

        return self.call(f"jobs/ingest/{kind}", fetch)
