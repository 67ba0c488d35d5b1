"""`HubSpotSandbox`: the HubSpot-compatible server, its data, limits, faults and control API.

A request goes through: route -> authentication (401) -> rate limits (429) -> drawn faults
(latency, 429 bursts, 5xx, reset, timeout, token expiry) -> scopes (403) -> handler. Latency and
timeouts sleep outside the store lock, so slow requests never block others. Requests under
`/_sandbox/` are the control API: no auth, no faults, not counted.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.httpserver import DropConnection, Request, Response, Router, SandboxServer
from sandbox.hubspot import activity, errors
from sandbox.hubspot.account import AccountInfoApi
from sandbox.hubspot.associations import AssociationsApi
from sandbox.hubspot.associations import scopes as association_scopes
from sandbox.hubspot.auth import ALL_SCOPES, Auth, Token
from sandbox.hubspot.committees import add_buying_committees
from sandbox.hubspot.control import ControlApi
from sandbox.hubspot.crm import CrmApi, object_type, read_scope, write_scope
from sandbox.hubspot.events import EventsApi
from sandbox.hubspot.faults import Faults
from sandbox.hubspot.forms import FormsApi
from sandbox.hubspot.forms import scopes as forms_scopes
from sandbox.hubspot.generator import generate
from sandbox.hubspot.limits import RateLimiter
from sandbox.hubspot.properties import PropertiesApi
from sandbox.hubspot.properties import read_scope as schema_read
from sandbox.hubspot.properties import write_scope as schema_write
from sandbox.hubspot.routes import Route, Scopes, no_scopes
from sandbox.hubspot.store import Store
from sandbox.hubspot.values import from_ms, to_ms

TIERS = ("starter", "professional", "enterprise")
#: The association endpoints' own burst limit per ten seconds by tier (HubSpot's associations
#: guide, "Limits"), apart from the general window they are exempt from.
ASSOCIATION_BURST = {"starter": 100, "professional": 150, "enterprise": 150}


def _object_scope(pick: Callable[[str], str]) -> Scopes:
    def scopes(params: dict[str, str]) -> list[str]:
        kind = object_type(params.get("object", ""))
        return [pick(kind)] if kind else []

    return scopes


class HubSpotSandbox:
    """An in-process HubSpot look-alike on loopback; see the package docstring for the API.

    `contacts`/`companies`/`seed`/`now` shape the generated data (same values, same data);
    `rate_limit_10s`, `daily_limit` the limits; `latency_ms` the median latency; `tier` whether
    the Events API is available ("enterprise"); `tls` serves HTTPS with a throwaway CA
    (`ca_file`); `search_per_second` the search endpoints' own limit; `association_limit_10s`
    the association endpoints' own ten-second limit (default the tier's, `ASSOCIATION_BURST`);
    `archived_contacts` adds
    that many archived (deleted) contacts on top of `contacts`; `buying_committees` makes some
    companies in market, their people engaging together, with a hidden won deal per company
    (`sandbox.hubspot.committees`). `time_zone` is the account's (the Account Info API
    reports it; the daily limit resets at its midnight). `clock` (seconds since the epoch)
    drives rate windows, token expiry and write timestamps.
    """

    def __init__(  # noqa: PLR0913  collaborators, settings and test seams (clock, sleep)
        self,
        *,
        contacts: int = 1000,
        companies: int | None = None,
        seed: int = 7,
        now: dt.datetime | None = None,
        rate_limit_10s: int = 190,
        daily_limit: int = 1_000_000,
        latency_ms: float = 0.0,
        tier: str = "enterprise",
        tls: bool = False,
        port: int = 0,
        search_per_second: int = 5,
        association_limit_10s: int | None = None,
        archived_contacts: int = 0,
        buying_committees: bool = False,
        time_zone: str = "America/New_York",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, not {tier!r}")
        self.tier = tier
        self.clock = clock
        self._contacts, self._companies, self._tls, self._port = contacts, companies, tls, port
        self._archived = archived_contacts
        self._committees = buying_committees
        self.now = now or dt.datetime.fromtimestamp(clock(), dt.UTC)
        self.store = self._generate(seed)
        self.faults = Faults(seed=seed, latency_ms=latency_ms)
        self.limits = RateLimiter(
            per_window=rate_limit_10s,
            daily=daily_limit,
            search_per_second=search_per_second,
            associations_per_window=(
                association_limit_10s
                if association_limit_10s is not None
                else ASSOCIATION_BURST[tier]
            ),
            clock=clock,
            zone=ZoneInfo(time_zone),
        )
        self.auth = Auth(seed=seed, clock=clock)
        self.account = AccountInfoApi(
            time_zone=time_zone, limits=self.limits, auth=self.auth, clock=clock
        )
        self.token = self.auth.private_app_token()
        self.client_id, self.client_secret, self.refresh_token = self.auth.oauth_app()
        self._counts: Counter[tuple[str, int]] = Counter()
        self._journals: dict[str, list[Any]] = {}
        self._counts_lock = threading.Lock()
        self._stopping = threading.Event()
        self._mutations = 0
        self._server: SandboxServer | None = None
        self.crm = CrmApi(self.store, self.faults, base_url=lambda: self.url, clock=clock)
        self.properties = PropertiesApi(self.store, clock_ms=lambda: int(self.clock() * 1000))
        self.associations = AssociationsApi(self.store)
        self.events = EventsApi(self.store, tier=tier, base_url=lambda: self.url)
        self.forms = FormsApi()
        self.router: Router[Route] = Router()
        self._register()

    # -- lifecycle ------------------------------------------------------------------------

    def _generate(self, seed: int) -> Store:
        store = Store.empty(seed=seed, now_ms=to_ms(self.now))
        generate(
            store,
            contacts=self._contacts,
            companies=self._companies,
            seed=seed,
            archived=self._archived,
        )
        if self._committees:
            add_buying_committees(store, seed=seed)
        return store

    def start(self) -> HubSpotSandbox:
        """Serve in a background thread."""
        self._stopping.clear()
        self._server = SandboxServer(self.dispatch, port=self._port, tls=self._tls).start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI)."""
        self._server = SandboxServer(self.dispatch, port=self._port, tls=self._tls)
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving; requests sleeping in a timeout fault are released."""
        self._stopping.set()
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> HubSpotSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:51234` (the SDK's `host`)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return self._server.url

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return self._server.port

    @property
    def ca_file(self) -> str | None:
        """CA bundle to trust when serving TLS, else None."""
        return self._server.ca_file if self._server else None

    # -- test and demo helpers ------------------------------------------------------------

    def new_token(self, scopes: Iterable[str] = ALL_SCOPES) -> str:
        """Another private-app token, e.g. with fewer scopes."""
        return self.auth.private_app_token(scopes)

    def mutate(self, count: int, *, at: dt.datetime | None = None) -> list[str]:
        """New activity on `count` random contacts at `at` (default: the clock now); their
        modification dates move to that moment. Returns their ids. Reproducible per seed."""
        return self._change(activity.mutate, count, at)

    def create_contacts(self, count: int, *, at: dt.datetime | None = None) -> list[str]:
        """`count` new contacts created at `at` (default: the clock now), with ids above every
        existing one. Returns their ids. Reproducible per seed."""
        return self._change(activity.create, count, at)

    def archive_contacts(self, count: int, *, at: dt.datetime | None = None) -> list[str]:
        """Delete (archive) `count` random live contacts at `at` (default: the clock now).
        Returns their ids. Reproducible per seed."""
        return self._change(activity.archive, count, at)

    def move_contact(self, contact: str, company: str, *, at: dt.datetime | None = None) -> None:
        """The contact changed companies at `at` (default: the clock now): `company` becomes
        its only, primary one, and `associatedcompanyid` changes with its history."""
        with self.store.lock:
            at_ms = to_ms(at) if at is not None else self.crm.now_ms()
            activity.move(self.store, int(contact), int(company), at_ms=at_ms)

    def _change(
        self, change: Callable[..., list[str]], count: int, at: dt.datetime | None
    ) -> list[str]:
        with self.store.lock:
            at_ms = to_ms(at) if at is not None else self.crm.now_ms()
            rng = random.Random(f"{self.store.seed}:mutate:{self._mutations}")
            self._mutations += 1
            return change(self.store, count, at_ms=at_ms, rng=rng)

    def reset(self, *, seed: int | None = None) -> None:
        """Regenerate the data (same seed unless given), clear counts, limits and faults."""
        seed = self.store.seed if seed is None else seed
        store = self._generate(seed)
        self.store = store
        self.crm.reset(store)
        self.properties.store = store
        self.associations.store = store
        self.events.store = store
        self.faults.clear()
        self.faults.reseed(seed)
        self.limits.reset()
        self._mutations = 0
        self.clear_counts()

    def request_counts(self) -> dict[str, dict[str, int]]:
        """Requests served, by endpoint label and status code."""
        with self._counts_lock:
            items = list(self._counts.items())
        counts: dict[str, dict[str, int]] = {}
        for (label, status), count in sorted(items):
            counts.setdefault(label, {})[str(status)] = count
        return counts

    def journal(self, label: str) -> list[Any]:
        """From now on, the JSON body of every API request on the route `label` (as
        `request_counts` names it) is appended to the returned list, in arrival order, or for
        a request without a body its query parameters (`{name: [values]}`): what a client
        sent, for tests."""
        with self._counts_lock:
            return self._journals.setdefault(label, [])

    def clear_counts(self) -> None:
        """Forget the request counts."""
        with self._counts_lock:
            self._counts.clear()

    @property
    def calls(self) -> int:
        """Total API requests received (control requests excluded)."""
        with self._counts_lock:
            return sum(self._counts.values())

    def ground_truth(self) -> dict[str, dict[str, Any]]:
        """Hidden conversion outcome of every generated contact, by id."""
        with self.store.lock:
            return {
                key: {
                    "converted": o.converted,
                    "converted_at": from_ms(o.converted_at_ms) if o.converted_at_ms else None,
                    "fit": o.fit,
                    "engagement": o.engagement,
                }
                for key, o in self.store.ground_truth().items()
            }

    # -- routing --------------------------------------------------------------------------

    def _add(  # noqa: PLR0913  one route: method, pattern, label, handler, scopes, kind
        self,
        method: str,
        pattern: str,
        label: str,
        handler: Callable[[Request], Response],
        scopes: Scopes = no_scopes,
        *,
        kind: str = "api",
    ) -> None:
        self.router.add(method, pattern, Route(f"{method} {label}", handler, scopes, kind=kind))

    def _register(self) -> None:
        obj, ident, name = r"(?P<object>[\w-]+)", r"(?P<id>[^/]+)", r"(?P<name>[^/]+)"
        crm, props = self.crm, self.properties
        reads, writes = _object_scope(read_scope), _object_scope(write_scope)
        schema_reads, schema_writes = _object_scope(schema_read), _object_scope(schema_write)
        base = "/crm/v3/objects"
        self._add(
            "POST",
            f"{base}/{obj}/search",
            f"{base}/{{object}}/search",
            crm.search,
            reads,
            kind="search",
        )
        self._add(
            "POST",
            f"{base}/{obj}/batch/read",
            f"{base}/{{object}}/batch/read",
            crm.batch_read,
            reads,
        )
        self._add(
            "POST",
            f"{base}/{obj}/batch/update",
            f"{base}/{{object}}/batch/update",
            crm.batch_update,
            writes,
        )
        self._add("GET", f"{base}/{obj}", f"{base}/{{object}}", crm.list_objects, reads)
        self._add(
            "GET", f"{base}/{obj}/{ident}", f"{base}/{{object}}/{{id}}", crm.get_object, reads
        )
        self._add(
            "PATCH", f"{base}/{obj}/{ident}", f"{base}/{{object}}/{{id}}", crm.update_object, writes
        )
        pbase = "/crm/v3/properties"
        self._add(
            "GET",
            f"{pbase}/{obj}/groups",
            f"{pbase}/{{object}}/groups",
            props.list_groups,
            schema_reads,
        )
        self._add(
            "POST",
            f"{pbase}/{obj}/groups",
            f"{pbase}/{{object}}/groups",
            props.create_group,
            schema_writes,
        )
        self._add(
            "GET",
            f"{pbase}/{obj}/groups/{name}",
            f"{pbase}/{{object}}/groups/{{name}}",
            props.get_group,
            schema_reads,
        )
        self._add(
            "GET", f"{pbase}/{obj}", f"{pbase}/{{object}}", props.list_properties, schema_reads
        )
        self._add(
            "POST", f"{pbase}/{obj}", f"{pbase}/{{object}}", props.create_property, schema_writes
        )
        self._add(
            "GET",
            f"{pbase}/{obj}/{name}",
            f"{pbase}/{{object}}/{{name}}",
            props.get_property,
            schema_reads,
        )
        self._add(
            "PATCH",
            f"{pbase}/{obj}/{name}",
            f"{pbase}/{{object}}/{{name}}",
            props.update_property,
            schema_writes,
        )
        self._add(
            "POST",
            r"/crm/v4/associations/(?P<from>[\w-]+)/(?P<to>[\w-]+)/batch/read",
            "/crm/v4/associations/{from}/{to}/batch/read",
            self.associations.batch_read,
            association_scopes,
            # x-hubspot-rate-limit-exemptions: ["ten-secondly"] in the spec; a burst limit
            # of its own in the associations guide
            kind="associations",
        )
        self._add("GET", "/events/v3/events/?", "/events/v3/events/", self.events.list_events)
        self._add(
            "GET",
            "/events/v3/events/event-types",
            "/events/v3/events/event-types",
            self.events.event_types,
        )
        self._add(
            "GET", "/marketing/v3/forms/?", "/marketing/v3/forms", self.forms.list, forms_scopes
        )
        self._add(
            "GET",
            rf"/marketing/v3/forms/{ident}",
            "/marketing/v3/forms/{formId}",
            self.forms.get,
            forms_scopes,
        )
        self._add(
            "GET", "/account-info/v3/details", "/account-info/v3/details", self.account.details
        )
        self._add(
            "GET",
            "/account-info/v3/api-usage/daily/private-apps",
            "/account-info/v3/api-usage/daily/private-apps",
            self.account.private_app_usage,
        )
        self._add(
            "POST", "/oauth/v1/token", "/oauth/v1/token", self.auth.token_endpoint, kind="oauth"
        )
        ControlApi(self).register(self.router)

    # -- the request pipeline -------------------------------------------------------------

    def _count(self, label: str, status: int) -> None:
        with self._counts_lock:
            self._counts[(label, status)] += 1

    def _note(self, label: str, request: Request) -> None:
        with self._counts_lock:
            journal = self._journals.get(label)
            if journal is not None:
                journal.append(json.loads(request.body) if request.body else request.query)

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def dispatch(self, request: Request) -> Response:
        """Answer one request (the `SandboxServer` entry point)."""
        resolved = self.router.resolve(request.method, request.path)
        if resolved is None:
            self._count(f"{request.method} (unknown)", 404)
            return errors.NOT_FOUND_ROUTE
        route = resolved.handler
        if route is None:
            self._count(f"{request.method} {request.path}", 405)
            return errors.METHOD_NOT_ALLOWED
        request.params = resolved.params
        if route.kind == "control":
            return route(request)
        if self._journals:
            self._note(route.label, request)
        response = self._serve(route, request)
        self._count(route.label, response.status)
        return response

    def _serve(self, route: Route, request: Request) -> Response:
        fate = self.faults.draw()
        token: Token | None = None
        headers: dict[str, str] = {}
        if route.kind != "oauth":
            checked = self.auth.authenticate(request)
            if isinstance(checked, Response):
                return checked
            token = checked
            # Limits count a request when it arrives, before the simulated processing time, the
            # way a client's budget counts it when sent; refusals come back at once.
            refusal, headers = self.limits.admit(
                token.app,
                search=route.kind == "search",
                exempt=route.kind in ("search", "associations"),
                associations=route.kind == "associations",
                oauth=token.oauth,
            )
            if refusal is not None:
                refusal.headers.update(headers)
                return refusal
        self._pause(fate.latency_s)
        if fate.action == "reset":
            self._count(route.label, 0)
            raise DropConnection
        if fate.action == "timeout":
            self._pause(self.faults.rates.timeout_s)
            return errors.server_error(504)
        if token is None:
            if fate.action in ("500", "502", "503", "504"):
                return errors.server_error(int(fate.action))
            return route(request)
        response = self._faulted(fate.action, token, route)
        if response is None:
            denied = Auth.require(token, route.scopes(request.params))
            response = denied or route(request)
        response.headers.update(headers)
        return response

    def _faulted(self, action: str | None, token: Token, route: Route) -> Response | None:
        if action is None:
            return None
        if action == "429":
            policy = "SECONDLY" if route.kind == "search" else "TEN_SECONDLY_ROLLING"
            message = "secondly" if policy == "SECONDLY" else "ten_secondly_rolling"
            return errors.rate_limited(policy, f"You have reached your {message} limit.")
        if action == "expire":
            if not token.oauth:
                return None
            self.auth.expire(token.value)
            checked = self.auth.check(token)
            return checked if isinstance(checked, Response) else None
        return errors.server_error(int(action))
