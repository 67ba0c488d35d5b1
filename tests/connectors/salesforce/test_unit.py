"""Unit tests of the Salesforce connector with `responses`: the error table, one re-auth and
never a loop, retries through the one retry layer, `Sforce-Limit-Info`, the daily share, the
token grants, the pinned timeout and CA bundle, activity mapping, cursors and value encoding."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from responses.registries import OrderedRegistry

from config.model_loader import parse_model
from connectors.errors import (
    AuthError,
    BudgetExhausted,
    MissingPermission,
    PermanentError,
    RateLimited,
    RequestRejected,
    TransientError,
    UnknownField,
)
from connectors.retry import RetryPolicy
from connectors.salesforce.activity import (
    EMAIL_MESSAGES,
    EMAIL_STATUSES,
    EVENTS,
    TASKS,
    parse_datetime,
    sources_for,
)
from connectors.salesforce.auth import Credentials, fetch_token
from connectors.salesforce.budget import DailyShare, share_cap, share_text
from connectors.salesforce.client import SalesforceApi
from connectors.salesforce.errors import (
    QueryLocatorExpired,
    SessionExpired,
    classify_status,
    in_model,
)
from connectors.salesforce.fields import api_name, encode, encode_csv
from connectors.salesforce.http import LimitInfo, parse_limit_info
from connectors.salesforce.options import SalesforceOptions
from connectors.salesforce.queries import quote, soql_datetime
from connectors.salesforce.reader import ReadCursor
from scoring.evaluate import score
from scoring.types import Record

LOGIN = "https://acme.my.salesforce.com"
INSTANCE = "https://acme.my.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
QUERY_URL = re.compile(rf"{INSTANCE}/services/data/v62\.0/query/.*")
SECRET = "s3cr3t-value-never-shown"


def _token_body(n: int = 1) -> dict[str, str]:
    return {
        "access_token": f"00Dxx!token{n}",
        "instance_url": INSTANCE,
        "id": f"{LOGIN}/id/00Dxx0000001gPLEAY/005xx000001SvogAAC",
        "token_type": "Bearer",
        "issued_at": "1795000000000",
        "signature": "sig",
    }


def _api(sleeps: list[float], **kwargs) -> SalesforceApi:
    runtime = {name: kwargs.pop(name) for name in ("clock", "daily_used") if name in kwargs}
    if not {"client_id", "username", "session_id"} & set(kwargs):
        kwargs.update(client_id="3MVG9", client_secret=_secret())
    kwargs.setdefault("retry_policy", RetryPolicy(attempts=4, jitter=lambda: 0.0))
    kwargs.setdefault("timeout", 7.0)
    options = SalesforceOptions(login_url=kwargs.pop("login_url", LOGIN), **kwargs)
    return SalesforceApi(options, sleep=sleeps.append, **runtime)


def _secret():
    from pydantic import SecretStr

    return SecretStr(SECRET)


def _error(code: str, message: str) -> list[dict[str, str]]:
    return [{"message": message, "errorCode": code}]


# -- the error table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (401, "INVALID_SESSION_ID", "Session expired or invalid", SessionExpired),
        (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", BudgetExhausted),
        (403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", RateLimited),
        (
            403,
            "API_DISABLED_FOR_ORG",
            "API is not enabled for this Organization",
            MissingPermission,
        ),
        (403, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights", MissingPermission),
        (400, "INVALID_FIELD", "Lead.Foo__c is not visible", MissingPermission),
        (400, "INVALID_TYPE", "sObject type 'Foo' is not supported", MissingPermission),
        (400, "INVALID_QUERY_LOCATOR", "invalid query locator", QueryLocatorExpired),
        (400, "MALFORMED_QUERY", "unexpected token: 'OR'", RequestRejected),
        (400, "JSON_PARSER_ERROR", "Unexpected character", RequestRejected),
        (404, "NOT_FOUND", "The requested resource does not exist", RequestRejected),
        (429, "", "", RateLimited),
        (500, "UNKNOWN_EXCEPTION", "An unexpected error occurred", TransientError),
        (503, "SERVER_UNAVAILABLE", "Server unavailable", TransientError),
    ],
)
def test_error_table(status, code, message, expected):
    error = classify_status("query", status, _error(code, message))
    assert type(error) is expected
    assert f"HTTP {status}" in str(error)
    assert message in str(error)


def test_a_query_naming_no_such_column_is_an_unknown_field_named_as_the_model_names_it():
    """Salesforce echoes the whole statement; the error is one line naming the column, and the
    read names the model's field holding it, with no setup advice (setup cannot help)."""
    soql = "SELECT Id, Owner.Nmae FROM Lead\n        ^\nERROR at Row:1:Column:12\n"
    error = classify_status(
        "query", 400, _error("INVALID_FIELD", soql + "No such column 'Nmae' on entity 'Name'.")
    )
    assert type(error) is UnknownField
    assert str(error) == "Salesforce query: HTTP 400 INVALID_FIELD: no field 'Nmae' on Name"
    named = in_model(error, "Lead", ["NumberOfEmployees", "Owner.Nmae"])
    assert (named.fields, str(named)) == (
        ("Owner.Nmae",),
        "Salesforce Lead has no field Owner.Nmae (Salesforce query: HTTP 400 INVALID_FIELD: no "
        "field 'Nmae' on Name): fix the name in the model; `leadsync validate --config` checks "
        "every field path against the describes",
    )
    assert in_model(error, "Lead", ["Title"]) is error


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("api-usage=18/5000", LimitInfo(18, 5000)),
        (
            "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
            LimitInfo(25, 5000),
        ),
        ("per-app-api-usage=17/250(appName=x); api-usage=3/100", LimitInfo(3, 100)),
        ("", None),
        (None, None),
        ("garbage", None),
    ],
)
def test_limit_header_parsing(header, expected):
    assert parse_limit_info(header) == expected


# -- auth, re-auth once, retries -------------------------------------------------------------------


@responses.activate(registry=OrderedRegistry)
def test_expired_session_reauthenticates_once_and_repeats_the_call():
    responses.post(TOKEN_URL, json=_token_body(1))
    responses.get(
        QUERY_URL, status=401, json=_error("INVALID_SESSION_ID", "Session expired or invalid")
    )
    responses.post(TOKEN_URL, json=_token_body(2))
    responses.get(
        QUERY_URL,
        json={"totalSize": 0, "done": True, "records": []},
        headers={"Sforce-Limit-Info": "api-usage=41/15000"},
    )
    sleeps: list[float] = []
    api = _api(sleeps)
    assert api.query("SELECT Id FROM Lead") == {"totalSize": 0, "done": True, "records": []}
    assert [c.request.headers.get("Authorization") for c in responses.calls[1::2]] == [
        "Bearer 00Dxx!token1",
        "Bearer 00Dxx!token2",
    ]
    assert api.reauthentications == 1 and sleeps == []
    assert (api.usage.daily_used, api.usage.daily_limit) == (41, 15000)
    assert api.user_id == "005xx000001SvogAAC"


@responses.activate(registry=OrderedRegistry)
def test_a_second_401_after_login_is_auth_error_not_a_loop():
    responses.post(TOKEN_URL, json=_token_body(1))
    responses.get(
        QUERY_URL, status=401, json=_error("INVALID_SESSION_ID", "Session expired or invalid")
    )
    responses.post(TOKEN_URL, json=_token_body(2))
    responses.get(
        QUERY_URL, status=401, json=_error("INVALID_SESSION_ID", "Session expired or invalid")
    )
    api = _api([])
    with pytest.raises(AuthError, match="right after a fresh login"):
        api.query("SELECT Id FROM Lead")
    assert len(responses.calls) == 4


@responses.activate(registry=OrderedRegistry)
def test_transient_failures_are_retried_with_the_injected_sleep():
    responses.post(TOKEN_URL, json=_token_body())
    responses.get(QUERY_URL, status=503, json=_error("SERVER_UNAVAILABLE", "Server unavailable"))
    responses.get(QUERY_URL, body=requests.ConnectionError("reset by peer"))
    responses.get(QUERY_URL, body=requests.ReadTimeout("read timed out"))
    responses.get(QUERY_URL, json={"totalSize": 1, "done": True, "records": [{"Id": "00Q1"}]})
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=4, base=1.0, cap=10.0, jitter=lambda: 0.5)
    api = _api(sleeps, retry_policy=policy)
    assert api.query("SELECT Id FROM Lead")["records"] == [{"Id": "00Q1"}]
    assert sleeps == [0.75, 1.5, 3.0]  # e/2 + 0.5 * e/2 for e = 1, 2, 4
    assert (api.usage.calls, api.usage.errors, api.retries) == (4, 3, 3)


@responses.activate(registry=OrderedRegistry)
def test_daily_allowance_spent_is_not_retried():
    responses.post(TOKEN_URL, json=_token_body())
    responses.get(
        QUERY_URL,
        status=403,
        json=_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    )
    sleeps: list[float] = []
    with pytest.raises(BudgetExhausted, match=r"TotalRequests.*asks Salesforce again at"):
        _api(sleeps).query("SELECT Id FROM Lead")
    assert sleeps == [] and len(responses.calls) == 2


@responses.activate(registry=OrderedRegistry)
def test_concurrency_limit_is_rate_limited_and_retried():
    responses.post(TOKEN_URL, json=_token_body())
    responses.get(
        QUERY_URL,
        status=403,
        json=_error("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
    )
    responses.get(QUERY_URL, json={"totalSize": 0, "done": True, "records": []})
    sleeps: list[float] = []
    api = _api(sleeps)
    api.query("SELECT Id FROM Lead")
    assert sleeps == [0.25] and api.usage.rate_limited == 1


@responses.activate
def test_timeout_and_ca_bundle_are_pinned_on_every_request(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    responses.post(TOKEN_URL, json=_token_body())
    responses.get(QUERY_URL, json={"totalSize": 0, "done": True, "records": []})
    _api([], ca_bundle="/etc/leadsync/ca.pem", timeout=7.0).query("SELECT Id FROM Lead")
    for call in responses.calls:
        sent: Any = call.request  # responses records the send() keyword arguments on it
        assert sent.req_kwargs["verify"] == "/etc/leadsync/ca.pem"
        assert sent.req_kwargs["timeout"] == 7.0


@responses.activate
def test_token_refusal_is_auth_error_without_the_secret():
    responses.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_client", "error_description": "invalid client credentials"},
    )
    with pytest.raises(AuthError) as caught:
        _api([]).query("SELECT Id FROM Lead")
    assert (
        str(caught.value) == "Salesforce refused the client_credentials grant: invalid_client: "
        "invalid client credentials"
    )
    assert SECRET not in str(caught.value)
    form = parse_qs(str(responses.calls[0].request.body))
    assert form["grant_type"] == ["client_credentials"] and form["client_id"] == ["3MVG9"]


@responses.activate
def test_a_token_answer_that_is_not_an_oauth_object_is_an_auth_error_naming_login_url():
    # what a login_url with a path gets: the REST API's 404, a JSON list of errors
    responses.post(
        TOKEN_URL,
        status=404,
        json=[{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
    )
    with pytest.raises(AuthError) as caught:
        _api([]).query("SELECT Id FROM Lead")
    assert str(caught.value) == (
        f"Salesforce token endpoint: HTTP 404, not an OAuth answer (is login_url {LOGIN} "
        "right? it is the org's address alone, e.g. https://acme.my.salesforce.com)"
    )


@responses.activate
def test_jwt_bearer_assertion(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    responses.post(TOKEN_URL, json=_token_body())
    responses.get(QUERY_URL, json={"totalSize": 0, "done": True, "records": []})
    _api(
        [],
        client_id="3MVG9",
        username="int@acme.com",
        private_key_file=str(key_file),
        clock=lambda: 1_795_000_000.0,
    ).query("SELECT Id FROM Lead")
    form = parse_qs(str(responses.calls[0].request.body))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0],
        key.public_key(),
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": "3MVG9",
        "sub": "int@acme.com",
        "aud": "https://login.salesforce.com",
        "exp": 1_795_000_180,
    }


@pytest.mark.parametrize(
    ("login_url", "audience"),
    [
        ("https://login.salesforce.com", "https://login.salesforce.com"),
        ("https://test.salesforce.com", "https://test.salesforce.com"),
        ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
    ],
)
def test_jwt_audience(login_url, audience):
    assert Credentials(login_url).jwt_audience() == audience


def test_no_credentials_at_all_is_auth_error():
    with pytest.raises(AuthError, match="no Salesforce credentials"):
        _api([], client_id=None)


# -- the daily share ------------------------------------------------------------------------------


T0 = dt.datetime(2026, 11, 18, 4, 0, tzinfo=dt.UTC).timestamp()


def test_daily_share_counts_calls_over_a_rolling_24_hours():
    now = [T0]
    share = DailyShare(0.2, clock=lambda: now[0])
    share.spend()  # before any response names the allowance
    share.observe(LimitInfo(used=50, limit=100))
    assert (share.limit, share.used, share.remaining()) == (20, 1, 19)
    for _ in range(17):
        now[0] += 3600  # one call an hour: calls 2..18 at T0 + 1h .. T0 + 17h
        share.spend()
    share.require(2, "a page")
    with pytest.raises(BudgetExhausted, match="a page needs 3 API calls but 2 remain") as caught:
        share.require(3, "a page")
    # one call must age out: the oldest (T0) leaves at T0 + 24h
    assert caught.value.resume_at == dt.datetime.fromtimestamp(T0 + 86_400, dt.UTC)
    assert "resumes from its cursor at 2026-11-19 04:00 UTC" in str(caught.value)
    share.spend()
    with pytest.raises(BudgetExhausted, match="at 2026-11-19 05:00 UTC"):
        share.require(3, "a page")  # 19 used: the oldest two (T0, T0 + 1h) must go
    share.spend()
    with pytest.raises(BudgetExhausted, match="frees up from 2026-11-19 04:00 UTC") as caught:
        share.spend()
    assert caught.value.resume_at == dt.datetime.fromtimestamp(T0 + 86_400, dt.UTC)
    now[0] = T0 + 86_400  # the first call leaves the window: one call fits, not midnight
    share.spend()
    assert share.used == 20
    with pytest.raises(BudgetExhausted):
        share.spend()
    with pytest.raises(BudgetExhausted, match="can never fit: raise daily_share"):
        share.require(21, "a write")


def test_daily_share_catches_up_with_calls_other_processes_recorded():
    now = [T0]
    share = DailyShare(0.1, clock=lambda: now[0], used=3)
    share.observe(LimitInfo(used=50, limit=100))  # a cap of 10 calls
    share.catch_up(2)  # fewer than counted: the count stays
    assert share.used == 3
    now[0] += 3600
    share.catch_up(8)  # five more, taken as made now
    assert (share.used, share.remaining()) == (8, 2)
    now[0] = T0 + 86_400  # the first three leave the window, the five an hour later
    assert share.used == 5
    now[0] += 3600
    assert share.used == 0


@pytest.mark.parametrize(
    ("share", "org_limit", "cap", "text"),
    [
        # floor of the decimal written: the binary products are 895.999... and 28.999...
        (0.00896, 100_000, 896, "0.896%"),
        (0.07, 1_000, 70, "7%"),
        (0.29, 100, 29, "29%"),
        (0.2, 100_000, 20_000, "20%"),
        (0.125, 15, 1, "12.5%"),
        (1.0, 15_000, 15_000, "100%"),
        (0.00001, 5_000, 1, "0.001%"),  # never below one call
    ],
)
def test_the_share_cap_floors_the_decimal_written_and_shows_every_digit(
    share, org_limit, cap, text
):
    assert (share_cap(share, org_limit), share_text(share)) == (cap, text)
    budget = DailyShare(share, clock=lambda: T0)
    budget.observe(LimitInfo(used=0, limit=org_limit))
    assert budget.limit == cap


def test_a_spent_share_names_it_with_every_digit():
    share = DailyShare(0.00896, clock=lambda: T0, used=896)
    share.observe(LimitInfo(used=5_000, limit=100_000))
    with pytest.raises(BudgetExhausted) as caught:
        share.spend()
    assert str(caught.value) == (
        "this connection's share of the org's API allowance (896 calls in 24 hours, 0.896% of "
        "100000) is spent; it frees up from 2026-11-19 04:00 UTC, when the run resumes (or raise "
        "daily_share)"
    )
    with pytest.raises(BudgetExhausted, match=re.escape("(0.896% of the org's 100000 calls")):
        share.require(2, "a page")


@pytest.mark.parametrize(("used", "calls"), [(0, 20), (15, 5), (19, 1), (20, 0), (35, 0)])
def test_daily_share_seeded_with_calls_of_earlier_processes(used, calls):
    now = [T0]
    share = DailyShare(0.2, clock=lambda: now[0], used=used)
    share.observe(LimitInfo(used=50, limit=100))
    assert share.remaining() == calls
    for _ in range(calls):
        share.spend()
    with pytest.raises(BudgetExhausted, match="share of the org's API allowance"):
        share.spend()
    now[0] += 86_400  # seeded calls are taken as made at start: gone a day later
    assert share.remaining() == 20


def test_a_spent_org_allowance_stops_calls_until_the_recheck_time():
    now = [T0]
    share = DailyShare(0.5, clock=lambda: now[0])
    share.observe(LimitInfo(used=100, limit=100))
    with pytest.raises(BudgetExhausted, match="asks Salesforce again at 2026-11-18 04:15 UTC"):
        share.spend()
    assert share.recheck_at == dt.datetime.fromtimestamp(T0 + 900, dt.UTC)
    assert not share.recheck_due()
    with pytest.raises(BudgetExhausted):
        share.spend(recheck=True)  # not even the re-check before its time
    now[0] += 900
    assert share.recheck_due()
    share.spend(recheck=True)
    share.observe(LimitInfo(used=99, limit=100))  # the window moved on
    assert share.recheck_at is None and not share.recheck_due()
    share.spend()


# -- activity, cursors, values --------------------------------------------------------------------

ALL = {"email_open", "email_click", "email_reply", "call", "meeting", "campaign_response"}
AT = "2026-11-01T10:00:00.000+0000"


CALL = {"TaskSubtype": "Call", "CallDisposition": "Connected", "CallDurationInSeconds": 300}
LOGGED_CALL = {"TaskSubtype": "Task", "Type": "Call", "Status": "Completed"}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {**CALL, "Subject": "Call"},
            ("call", {"outcome": "Connected", "duration_s": 300, "subject": "Call"}),
        ),
        (
            {**LOGGED_CALL, "Subject": "Logged"},
            ("call", {"outcome": "Completed", "duration_s": None, "subject": "Logged"}),
        ),
        ({"TaskSubtype": "Task", "Subject": "Send contract"}, None),
        # email Tasks are no engagement: opens, clicks and replies live on EmailMessage
        ({"TaskSubtype": "Email", "Subject": "Email Opened: Q3 Update"}, None),
        ({"TaskSubtype": "ListEmail", "Subject": "Q3 Update"}, None),
    ],
)
def test_task_mapping(row, expected):
    events = TASKS.events({"CreatedDate": AT, **row}, ALL)
    if expected is None:
        assert events == []
    else:
        assert [(e.type, dict(e.attributes)) for e in events] == [expected]
        assert events[0].at == dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)


LATER = "2026-11-03T08:30:00.000+0000"
CLICK = "2026-11-01T10:05:00.000+0000"


def _relation(kind: str, **message: Any) -> dict[str, Any]:
    return {
        "RelationType": kind,
        "EmailMessage": {"Subject": "Notes from our call", "MessageDate": AT, **message},
    }


def _at(text: str) -> dt.datetime:
    parsed = parse_datetime(text)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            _relation("ToAddress", Incoming=False, FirstOpenedDate=AT, LastOpenedDate=LATER),
            [("email_open", AT), ("email_open", LATER)],
        ),
        (
            _relation(
                "ToAddress",
                Incoming=False,
                FirstOpenedDate=AT,
                LastOpenedDate=AT,
                FirstLinkClickedDate=CLICK,
            ),
            [("email_open", AT), ("email_click", CLICK)],
        ),
        (_relation("ToAddress", Incoming=False), []),  # sent, never opened
        (_relation("FromAddress", Incoming=True, MessageDate=LATER), [("email_reply", LATER)]),
        (_relation("FromAddress", Incoming=False), []),  # the lead as sender of an outgoing mail
    ],
)
def test_email_message_mapping(row, expected):
    events = EMAIL_MESSAGES.events(row, ALL)
    assert [(e.type, e.at) for e in events] == [(kind, _at(at)) for kind, at in expected]
    assert all(e.attributes["email"] == "Notes from our call" for e in events)
    assert all(e.attributes["source"] == "EmailMessage" for e in events)
    assert EMAIL_MESSAGES.events(row, {"call"}) == []


def test_email_status_mapping():
    row = {
        "EmailTemplateName": "Q3 Product Update",
        "TimesOpened": 4,
        "FirstOpenDate": AT,
        "LastOpenDate": LATER,
    }
    events = EMAIL_STATUSES.events(row, ALL)
    assert [(e.type, e.at) for e in events] == [("email_open", _at(AT)), ("email_open", _at(LATER))]
    assert dict(events[0].attributes) == {
        "email": "Q3 Product Update",
        "source": "EmailStatus",
        "times_opened": 4,
    }
    once = {**row, "TimesOpened": 1, "LastOpenDate": AT}
    assert [e.at for e in EMAIL_STATUSES.events(once, ALL)] == [_at(AT)]


def test_only_the_objects_a_model_needs_are_read():
    def names(types: set[str]) -> list[str]:
        return [source.sobject for source in sources_for(types)]

    assert names({"email_open"}) == ["EmailMessageRelation", "EmailStatus"]
    assert names({"email_click", "email_reply"}) == ["EmailMessageRelation"]
    assert names({"meeting"}) == ["Event"]
    assert names({"page_view", "form_submission"}) == []
    assert EMAIL_MESSAGES.where({"email_reply"}, 90) == (
        "EmailMessage.MessageDate = LAST_N_DAYS:90 AND "
        "((RelationType = 'FromAddress' AND EmailMessage.Incoming = true))"
    )
    assert EVENTS.where({"meeting"}, 365) == "StartDateTime >= LAST_N_DAYS:365"


def test_rules_tell_past_from_future_meetings():
    model = parse_model(
        """
name: meetings
object: lead
interest:
  max: 100
  decay: {half_life_days: 30}
  rules:
    - {name: Meeting held, event: meeting, where: {start: {older_than_days: 0}}, points: 20}
    - name: Meeting booked
      event: meeting
      where: {not: {start: {older_than_days: 0}}}
      points: 40
"""
    )
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    rows = [
        {"StartDateTime": "2026-11-27T15:00:00.000+0000", "Subject": "Demo"},
        {"StartDateTime": "2026-11-20T09:00:00.000+0000", "Subject": "Intro"},
    ]
    events = [e for row in rows for e in EVENTS.events(row, {"meeting"})]
    result = score(Record("00Q1", "lead", {}, tuple(events)), model, now)
    points = {c.rule: round(c.points, 2) for c in result.contributions}
    assert points["Meeting booked"] == 40.0  # a future meeting counts in full
    assert 19.5 < points["Meeting held"] < 20.0  # three hours of decay


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T10:15:30.000+0000", dt.datetime(2026, 11, 20, 10, 15, 30, tzinfo=dt.UTC)),
        ("2026-11-20T10:15:30Z", dt.datetime(2026, 11, 20, 10, 15, 30, tzinfo=dt.UTC)),
        ("2026-11-20", dt.datetime(2026, 11, 20, tzinfo=dt.UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected


def test_read_cursor_round_trip_and_refusal():
    cursor = ReadCursor("incremental", "00Q5g0000000001EAA", "2026-11-20T10:15:30Z")
    assert ReadCursor.decode(cursor.encode()) == cursor
    with pytest.raises(PermanentError, match="not a Salesforce read cursor"):
        ReadCursor.decode('{"after": 5}')


def test_soql_literals():
    assert quote("O'Brien \\ Co") == "'O\\'Brien \\\\ Co'"
    assert (
        soql_datetime(dt.datetime(2026, 11, 20, 10, 15, 30, 999, tzinfo=dt.UTC))
        == "2026-11-20T10:15:30Z"
    )


CET = dt.timezone(dt.timedelta(hours=1))


@pytest.mark.parametrize(
    ("canonical", "value", "json_value", "csv_value"),
    [
        ("score", 87.6, 88, "88"),
        ("qualified", True, True, "true"),
        ("qualified", "false", False, "false"),
        (
            "scored_at",
            dt.datetime(2026, 11, 20, 11, tzinfo=CET),
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00Z",
        ),
        ("reasons", "a" * 40000, "a" * 32768, "a" * 32768),
        ("changes", "", "", "#N/A"),
        ("grade", None, None, "#N/A"),
    ],
)
def test_value_encoding(canonical, value, json_value, csv_value):
    assert encode(canonical, value) == json_value
    assert encode_csv(canonical, value) == csv_value


def test_api_names():
    assert [api_name(n) for n in ("fit", "scored_at", "model_version")] == [
        "Leadsync_Fit__c",
        "Leadsync_Scored_At__c",
        "Leadsync_Model_Version__c",
    ]


def test_a_key_file_replaced_by_something_else_after_loading_is_an_auth_error(tmp_path):
    key = tmp_path / "jwt.key"
    key.write_text("not a key\n")
    credentials = Credentials(
        "https://login.example", client_id="c", username="u", private_key_file=str(key)
    )
    with pytest.raises(AuthError) as info:
        fetch_token(requests.Session(), credentials, now=lambda: 0.0)
    assert str(info.value) == (
        "private_key_file is not a usable RSA private key: Could not parse the provided public key."
    )
