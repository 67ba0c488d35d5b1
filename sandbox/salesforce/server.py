"""`SalesforceSandbox`: a Salesforce-compatible org on loopback HTTPS.

Request path, in order: faults (latency, resets, timeouts, 5xx, session expiry) for REST calls;
OAuth endpoints (`/services/oauth2/token`, `/userinfo`, not counted); for `/services/data/vXX.X/`
a valid session (else 401 `INVALID_SESSION_ID`), the daily allowance, counted over the last 24
hours of the org's clock as Salesforce does (else 403 `REQUEST_LIMIT_EXCEEDED`, "TotalRequests
Limit exceeded."), one counted call, the resource. Every
REST response carries `Sforce-Limit-Info: api-usage=N/M`.

Control and inspection for tests and demos live under `/_sandbox/` (never counted, never
faulted): `GET health`, `GET stats`, `POST faults`, `POST usage`, `POST expire-sessions`,
`POST advance`, `GET records/{Object}/{id}`, `GET outcomes`.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sandbox.httpserver import DropConnection, Request, Response, Router, SandboxServer
from sandbox.salesforce.bulk import BulkIngest
from sandbox.salesforce.committees import add_buying_committees
from sandbox.salesforce.faults import Faults
from sandbox.salesforce.generator import generate
from sandbox.salesforce.oauth import OAuthServer
from sandbox.salesforce.rest import Call, RestApi, api_error, auto_assign_of, batch_size_of
from sandbox.salesforce.retrieve import retrieve
from sandbox.salesforce.schema import without_list_email_engagement
from sandbox.salesforce.store import Store
from sandbox.salesforce.tooling import ToolingApi
from sandbox.salesforce.values import to_epoch

_DATA = re.compile(r"^/services/data/v(?P<version>\d+\.\d)(?P<rest>/.*)?$")
MIN_VERSION, MAX_VERSION = 31.0, 67.0
_SEASONS = ("Summer", "Winter", "Spring")
WINDOW_S = 86_400  # the daily allowance counts the calls of the last 24 hours
Handler = Callable[..., Response]
_ID = r"(?P<record_id>[A-Za-z0-9]{15,18})"


class SalesforceSandbox:
    """An in-process Salesforce org served over HTTPS with a CA generated at start.

    `leads` leads and `accounts` prospect Accounts (default: one per 20 leads) with a quarter
    as many Contacts as leads; `buying_committees` adds domain-matched Leads, committees that
    engage together and a won Opportunity per Account that their breadth predicts
    (`sandbox.salesforce.committees`). The org serves API versions 31.0 to `max_version` (67.0,
    Summer '26, by default; `ListEmailSentResult` exists from 67.0); `list_email_engagement`
    is the org feature behind that object's engagement fields (off: the shape of orgs whose
    describe lacks them).
    """

    def __init__(  # noqa: PLR0913  collaborators, settings and test seams (clock, sleep)
        self,
        *,
        leads: int = 1000,
        accounts: int | None = None,
        buying_committees: bool = False,
        seed: int = 7,
        now: datetime | None = None,
        daily_api_limit: int = 100_000,
        latency_ms: float = 0.0,
        port: int = 0,
        max_version: float = MAX_VERSION,
        list_email_engagement: bool = True,
    ) -> None:
        moment = now or datetime.now(UTC)
        self.store = Store(now_epoch=to_epoch(moment), seed=seed)
        generate(self.store, leads=leads, seed=seed, accounts=accounts)
        if not list_email_engagement:
            without_list_email_engagement(self.store.objects)
        self.max_version = max_version
        if buying_committees:
            add_buying_committees(self.store, seed=seed)
        self.faults = Faults(seed=seed, latency_ms=latency_ms)
        self.oauth = OAuthServer(self.store)
        self.rest = RestApi(self.store, self.faults)
        self.bulk = BulkIngest(self.store, self.faults)
        self.tooling = ToolingApi(self.store)
        self.daily_api_limit = daily_api_limit
        self._calls: deque[int] = deque()  # org-clock second of each counted call
        self.counters: Counter[str] = Counter()
        #: counted REST calls by route and API version (`("query", "67.0")`)
        self.calls_by_version: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._routes = self._build_routes()
        self._server = SandboxServer(self._dispatch, port=port, tls=True)

    # -- public surface -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The login and instance URL, e.g. `https://127.0.0.1:51234`."""
        return self._server.url

    @property
    def ca_file(self) -> str:
        """The CA bundle clients must trust."""
        ca = self._server.ca_file
        assert ca is not None
        return ca

    @property
    def client_id(self) -> str:
        """The connected app's consumer key."""
        return self.oauth.client_id

    @property
    def client_secret(self) -> str:
        """The connected app's consumer secret."""
        return self.oauth.client_secret

    @property
    def username(self) -> str:
        """The integration user's username (the `sub` of a JWT bearer assertion)."""
        return self.store.integration_username

    @property
    def private_key_file(self) -> str:
        """The private key whose certificate the connected app trusts for JWT bearer."""
        return str(self.oauth.private_key_file)

    @property
    def integration_user_id(self) -> str:
        """Id of the user the connected app runs as."""
        return self.store.integration_user

    def start(self) -> SalesforceSandbox:
        """Serve in a background thread."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread (for `leadsync sandbox serve`)."""
        self._server.serve_forever()

    def __enter__(self) -> SalesforceSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_used(self) -> int:
        """Calls counted in the last 24 hours of the org's clock (Salesforce's rolling window)."""
        with self._lock:
            return self._in_window()

    def _in_window(self) -> int:
        horizon = self.store.now() - WINDOW_S
        while self._calls and self._calls[0] <= horizon:
            self._calls.popleft()
        return len(self._calls)

    def set_usage(self, used: int) -> None:
        """Pretend other clients made `used` calls just now (they leave the window in 24 h)."""
        with self._lock:
            self._calls = deque([self.store.now()] * used)

    def install_leadsync_fields(self, *, grant: bool = True) -> list[str]:
        """Create leadsync's output fields on Lead and Contact directly (demo and bench setup).

        With `grant`, a `Leadsync_Integration` permission set granting read/edit is assigned to
        the integration user, so the fields are visible. Returns the field API names."""
        from sandbox.salesforce.setup import install_leadsync_fields

        return install_leadsync_fields(self.store, grant=grant)

    def move_contact(self, contact_id: str, account_id: str, *, at: int | None = None) -> None:
        """The Contact changed Accounts at `at` (epoch seconds; default the org's clock now), as
        a user's edit: `AccountId` updated with its two `ContactHistory` rows (the org tracks
        the field). Raises ValueError with the save errors Salesforce would answer."""
        store = self.store
        with store.lock:
            errors = store.update(
                "Contact",
                contact_id,
                {"AccountId": account_id},
                user=store.integration_user,
                auto_assign=False,
                stamp=store.now() if at is None else at,
            )
        if errors:
            raise ValueError(f"cannot move {contact_id} to {account_id}: {errors}")

    # -- dispatch ---------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        self.counters["requests"] += 1
        path = request.path
        if path.startswith("/_sandbox/"):
            return self._control(request)
        fault = self.faults.next_request_fault() if path.startswith("/services/data/") else None
        if self.faults.latency_ms > 0:
            time.sleep(self.faults.latency_ms / 1000)
        if fault == "reset":
            raise DropConnection
        if fault == "timeout":
            time.sleep(self.faults.hang_s)
            raise DropConnection
        if fault == "expire":
            self.oauth.expire_all()
        if path == "/services/oauth2/token" and request.method == "POST":
            self.counters["oauth_token"] += 1
            return self.oauth.token(request, self.url)
        if path == "/services/oauth2/userinfo":
            self.counters["userinfo"] += 1
            return self.oauth.userinfo(request, self.url)
        if path.rstrip("/") == "/services/data" and request.method == "GET":
            self.counters["versions"] += 1
            return Response(200, self.versions())
        match = _DATA.match(path)
        if not match:
            return api_error(404, "NOT_FOUND", "The requested resource does not exist")
        response = self._data(request, match.group("version"), match.group("rest") or "/", fault)
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_used}/{self.daily_api_limit}"
        return response

    def _data(self, request: Request, version: str, rest: str, fault: str | None) -> Response:
        user = self.oauth.user_of(request)
        if user is None:
            self.counters["unauthorized"] += 1
            return api_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if not MIN_VERSION <= float(version) <= self.max_version:
            return api_error(404, "NOT_FOUND", "The requested resource does not exist")
        with self._lock:
            if self._in_window() >= self.daily_api_limit:
                self.counters["limit_exceeded"] += 1
                return api_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self._calls.append(self.store.now())
        if fault == "503":
            return api_error(
                503, "SERVER_UNAVAILABLE", "Server unavailable, please try again later."
            )
        if fault == "500":
            return api_error(
                500,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact "
                "support: 1234567-89 (-1)",
            )
        if fault == "concurrent":
            return api_error(
                403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."
            )
        call = Call(
            user=user,
            version=version,
            auto_assign=auto_assign_of(request.header("Sforce-Auto-Assign")),
            batch_size=batch_size_of(request.header("Sforce-Query-Options")),
        )
        return self._route(request, call, rest)

    def _route(self, request: Request, call: Call, rest: str) -> Response:
        """Run one REST resource (also used for composite subrequests, without counting)."""
        found = self._routes.resolve(request.method, rest)
        if found is None:
            return api_error(404, "NOT_FOUND", "The requested resource does not exist")
        if found.handler is None:
            return api_error(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{request.method}' not allowed. Allowed are GET,PATCH,POST",
            )
        name, handler = found.handler
        self.counters[name] += 1
        self.calls_by_version[(name, call.version)] += 1
        result: Response = handler(request, call, **found.params)
        return result

    def _subrequest(self, request: Request, call: Call) -> Response:
        match = _DATA.match(request.path)
        if not match:
            return api_error(
                400, "INVALID_API_INPUT", "subrequest URLs start with /services/data/vXX.X/"
            )
        version = match.group("version")
        return self._route(
            request,
            Call(call.user, version, call.auto_assign, call.batch_size),
            match.group("rest") or "/",
        )

    def _build_routes(self) -> Router[tuple[str, Handler]]:
        rest, bulk, tooling = self.rest, self.bulk, self.tooling
        locator = r"(?P<locator>01g[A-Za-z0-9]+-\d+)"
        job = r"(?P<job_id>750[A-Za-z0-9]+)"
        table: list[tuple[str, str, str, Handler]] = [
            ("GET", r"/query/?", "query", rest.query),
            ("GET", f"/query/{locator}", "query_more", rest.query_more),
            ("GET", r"/queryAll/?", "query_all", partial(rest.query, include_deleted=True)),
            ("GET", f"/queryAll/{locator}", "query_more", rest.query_more),
            ("GET", r"/limits/?", "limits", self._limits),
            ("GET", r"/sobjects/?", "describe_global", rest.describe_global),
            ("GET", r"/sobjects/(?P<name>\w+)/describe/?", "describe", rest.describe),
            ("GET", rf"/sobjects/(?P<name>\w+)/{_ID}/?", "record_get", rest.get_record),
            ("PATCH", rf"/sobjects/(?P<name>\w+)/{_ID}/?", "record_update", rest.update_record),
            ("POST", r"/sobjects/(?P<name>\w+)/?", "record_create", rest.create_record),
            (
                "PATCH",
                r"/composite/sobjects/?",
                "collections_update",
                partial(rest.collections, create=False),
            ),
            (
                "POST",
                r"/composite/sobjects/?",
                "collections_create",
                partial(rest.collections, create=True),
            ),
            (
                "POST",
                r"/composite/sobjects/(?P<name>\w+)/?",
                "collections_retrieve",
                partial(retrieve, self.store),
            ),
            (
                "GET",
                r"/composite/sobjects/(?P<name>\w+)/?",
                "collections_retrieve",
                partial(retrieve, self.store),
            ),
            (
                "POST",
                r"/composite/?",
                "composite",
                partial(rest.composite, dispatch=self._subrequest),
            ),
            ("GET", r"/tooling/query/?", "tooling_query", partial(rest.query, tooling=True)),
            (
                "GET",
                f"/tooling/query/{locator}",
                "tooling_query_more",
                partial(rest.query_more, tooling=True),
            ),
            (
                "POST",
                r"/tooling/sobjects/CustomField/?",
                "tooling_create",
                tooling.create_custom_field,
            ),
            (
                "GET",
                rf"/tooling/sobjects/CustomField/{_ID}/?",
                "tooling_get",
                tooling.get_custom_field,
            ),
            (
                "PATCH",
                rf"/tooling/sobjects/CustomField/{_ID}/?",
                "tooling_update",
                tooling.update_custom_field,
            ),
            ("POST", r"/jobs/ingest/?", "bulk_create", bulk.create),
            ("PUT", f"/jobs/ingest/{job}/batches/?", "bulk_upload", bulk.upload),
            ("PATCH", f"/jobs/ingest/{job}/?", "bulk_state", bulk.patch),
            ("GET", f"/jobs/ingest/{job}/?", "bulk_info", bulk.info),
            ("DELETE", f"/jobs/ingest/{job}/?", "bulk_delete", bulk.delete),
            (
                "GET",
                f"/jobs/ingest/{job}/(?P<kind>successfulResults|failedResults|unprocessedrecords)/?",
                "bulk_results",
                bulk.results,
            ),
        ]
        router: Router[tuple[str, Handler]] = Router()
        for method, pattern, name, handler in table:
            router.add(method, pattern, (name, handler))
        return router

    def versions(self) -> list[dict[str, str]]:
        """The Versions resource (`GET /services/data/`, no session needed): every API version
        the org serves, oldest first, with its release label."""
        served = []
        number = int(MIN_VERSION)
        while number <= self.max_version:
            step = number - int(MIN_VERSION)
            label = f"{_SEASONS[step % 3]} '{14 + (step + 2) // 3:02d}"
            version = f"{number}.0"
            served.append({"label": label, "url": f"/services/data/v{version}", "version": version})
            number += 1
        return served

    def _limits(self, request: Request, call: Call) -> Response:
        return self.rest.limits(request, call, used=self.api_used, limit=self.daily_api_limit)

    # -- control API ------------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        path = request.path.removeprefix("/_sandbox")
        try:
            body = request.json() if request.body else {}
        except ValueError:
            return Response(400, {"message": "malformed JSON"})
        if path == "/health" and request.method == "GET":
            leads = len(self.store.table("Lead"))
            return Response(200, {"status": "ok", "leads": leads, "seed": self.store.seed})
        if path == "/stats" and request.method == "GET":
            return Response(200, self.stats())
        if path == "/faults" and request.method == "POST":
            try:
                self.faults.update(body or {})
            except (ValueError, TypeError) as error:
                return Response(400, {"message": str(error)})
            return Response(200, self.faults.to_json())
        if path == "/usage" and request.method == "POST":
            self.set_usage(int(body.get("used", 0)))
            return Response(200, self.stats())
        if path == "/expire-sessions" and request.method == "POST":
            return Response(200, {"expired": self.oauth.expire_all()})
        if path == "/advance" and request.method == "POST":
            self.store.advance(int(body.get("seconds", 0)))
            return Response(200, {"now": self.store.now()})
        if path == "/outcomes" and request.method == "GET":
            truth = {key: vars(value) for key, value in self.store.outcomes.items()}
            return Response(200, truth)
        match = re.match(r"^/records/(?P<name>\w+)/(?P<id>\w+)$", path)
        if match and request.method == "GET":
            found = self.store.get(match.group("id"))
            if not found:
                return Response(404, {"message": "no such record"})
            return Response(200, {"type": found[0], "fields": found[1]})
        return Response(404, {"message": f"unknown control endpoint {path}"})

    def stats(self) -> dict[str, Any]:
        """Request counters and API usage."""
        return {
            "api_used": self.api_used,
            "daily_api_limit": self.daily_api_limit,
            "counters": dict(self.counters),
            "faults": self.faults.to_json(),
        }
