"""Alerts: conditions turn into one firing and one resolved webhook call each."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import responses
import sqlalchemy as sa

from config.model_loader import parse_model
from config.settings import AlertSettings, WebhookSettings
from connectors.base import ApiUsage
from connectors.errors import AuthError
from sync.alerts import (
    Alert,
    Alerter,
    WebhookSender,
    json_body,
    newly_qualified_per_day,
    slack_body,
)
from sync.daemon import Daemon
from sync.metrics import Metrics
from sync.run_summary import RunResult
from sync.state.records import RunCounts, RunStatus
from sync.state.store import StateStore
from tests.sync.fakes import POINTS_MODEL, FakeCRM
from tests.sync.test_daemon import NOW, settings

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def result(status: str, error_type: str | None = None) -> RunResult:
    return RunResult(
        connection="one",
        kind="contact",
        mode="incremental",
        dry_run=False,
        status=RunStatus(status),
        started_at=T0,
        error=None if status == "succeeded" else f"{error_type}: boom",
        error_type=error_type,
    )


def alerter(store, sent, **cfg) -> Alerter:
    cfg.setdefault("drift", None)
    return Alerter(AlertSettings(**cfg), store, sent.append, clock=Clock(T0))


def test_runs_failing_fires_once_at_the_threshold_and_resolves_on_success(store):
    sent: list[Alert] = []
    a = alerter(store, sent, failing_runs=3)
    for _ in range(2):
        assert a.after_job("one", [result("failed", "TransientError")]) == []
    (fired,) = a.after_job("one", [result("failed", "TransientError")])
    assert (fired.name, fired.firing, fired.summary) == (
        "runs_failing",
        True,
        "3 runs in a row failed: TransientError: boom",
    )
    assert a.after_job("one", [result("failed", "TransientError")]) == []  # still firing: quiet
    (resolved,) = a.after_job("one", [result("succeeded")])
    assert (resolved.name, resolved.firing, resolved.summary) == (
        "runs_failing",
        False,
        "runs finish again",
    )
    assert sent == [fired, resolved]


def test_auth_failing_fires_at_once_and_resolves_when_a_run_finishes(store):
    sent: list[Alert] = []
    a = alerter(store, sent, failing_runs=5)
    (fired,) = a.after_job("one", [result("failed", "AuthError")])
    assert (fired.name, fired.firing) == ("auth_failing", True)
    assert fired.summary == "the CRM refused leadsync's credentials: AuthError: boom"
    assert a.after_job("one", [result("failed", "TransientError")]) == []
    (resolved,) = a.after_job("one", [result("succeeded")])
    assert (resolved.name, resolved.firing) == ("auth_failing", False)


def test_busy_and_dry_runs_do_not_count(store):
    sent: list[Alert] = []
    a = alerter(store, sent, failing_runs=1)
    assert a.after_job("one", [result("busy")]) == []
    assert sent == []


def test_budget_near_cap(store):
    sent: list[Alert] = []
    a = alerter(store, sent, budget_share=0.9)
    assert a.after_job("one", [], ApiUsage(daily_used=899, daily_limit=1000)) == []
    (fired,) = a.after_job("one", [], ApiUsage(daily_used=900, daily_limit=1000))
    assert (fired.name, fired.summary) == (
        "budget_near_cap",
        "900 of 1,000 API calls used today (90%)",
    )
    assert a.after_job("one", [], ApiUsage(daily_used=950, daily_limit=1000)) == []
    assert a.after_job("one", [], ApiUsage(daily_used=950)) == []  # no cap: no opinion


def dead_letter(store, record_id: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(store.t.dead_letters).values(
                connection="one", kind="contact", record_id=record_id, run_id=1, payload="{}",
                error_code="INVALID", error="bad value", created_at=T0, updated_at=T0,
            )
        )  # fmt: skip


def test_dead_letters_growing_counts_from_the_first_job_of_the_day(store):
    sent: list[Alert] = []
    a = alerter(store, sent, dead_letters_growth=2)
    dead_letter(store, "a")
    assert a.after_job("one", []) == []  # baseline: 1 open
    dead_letter(store, "b")
    assert a.after_job("one", []) == []
    dead_letter(store, "c")
    (fired,) = a.after_job("one", [])
    assert (fired.name, fired.summary) == (
        "dead_letters_growing",
        "2 new dead letters today (3 open); see `leadsync status`",
    )


def test_payload_formats():
    alert = Alert("runs_failing", "one", True, "3 runs in a row failed", T0, {"n": 3})
    assert json_body(alert) == {
        "source": "leadsync",
        "alert": "runs_failing",
        "state": "firing",
        "connection": "one",
        "summary": "3 runs in a row failed",
        "at": "2026-11-21T09:00:00+00:00",
        "details": {"n": 3},
    }
    assert slack_body(alert) == {
        "text": ":rotating_light: *leadsync FIRING* `one` runs_failing: 3 runs in a row failed"
    }


@responses.activate
def test_webhook_sender_posts_each_format_and_survives_a_refusal(caplog):
    responses.post("https://hooks.example/json", status=500)
    responses.post("https://hooks.slack.example/services/T/B/secret", status=200)
    sender = WebhookSender(
        [
            WebhookSettings.model_validate({"url": "https://hooks.example/json"}),
            WebhookSettings.model_validate(
                {"url": "https://hooks.slack.example/services/T/B/secret", "format": "slack"}
            ),
        ],
        timeout=5,
    )
    alert = Alert("auth_failing", "one", False, "ok again", T0)
    sender(alert)
    assert [c.request.url for c in responses.calls] == [
        "https://hooks.example/json",
        "https://hooks.slack.example/services/T/B/secret",
    ]
    assert json.loads(str(responses.calls[0].request.body))["state"] == "resolved"
    assert json.loads(str(responses.calls[1].request.body))["text"].startswith(":white_check_mark:")
    assert "alert webhook refused" in caplog.text
    assert "secret" not in caplog.text


def test_webhook_url_must_be_http():
    with pytest.raises(ValueError, match="http:// or https:// URL"):
        WebhookSettings.model_validate({"url": "ftp://x"})


def test_daemon_sends_an_alert_when_runs_keep_failing(store):
    crm = FakeCRM(10)
    crm.raise_on_read = AuthError("401: token rejected")
    model = parse_model(POINTS_MODEL)
    sent: list[Alert] = []
    d = Daemon(
        settings(),
        {("one", "contact"): model, ("two", "contact"): model},
        store,
        connector_factory=lambda conn: crm,
        clock=lambda: NOW,
        metrics=Metrics(),
        send_alert=sent.append,
    )
    try:
        d.run_job("one", full=False)
        assert [(a.name, a.firing) for a in sent] == [("auth_failing", True)]
        crm.raise_on_read = None
        d.run_job("one", full=False)
        assert [(a.name, a.firing) for a in sent] == [
            ("auth_failing", True),
            ("auth_failing", False),
        ]
    finally:
        d.shutdown()


def ledger_write(store, record_id: str, *, at: datetime, qualified: bool) -> None:
    lg = store.t.ledger
    payload = json.dumps(
        {"new": {"qualified": qualified}, "old": {"qualified": False}, "reasons": []}
    )
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(lg).values(
                run_id=1, connection="one", kind="contact", record_id=record_id, status="applied",
                payload=payload, model_version="v", created_at=at,
            )
        )  # fmt: skip


def test_newly_qualified_per_day_and_drift(store):
    day0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
    n = 0
    for d in range(14):  # 6 a day for two weeks
        for _ in range(6):
            n += 1
            ledger_write(store, str(n), at=day0 + timedelta(days=d), qualified=True)
    ledger_write(store, "x", at=day0, qualified=False)  # not a qualification
    for _ in range(40):  # the day after: an import qualifies 40
        n += 1
        ledger_write(store, str(n), at=day0 + timedelta(days=14), qualified=True)
    per_day = newly_qualified_per_day(store, "one", day0.date(), (day0 + timedelta(days=15)).date())
    assert per_day[day0.date()] == 6
    assert per_day[(day0 + timedelta(days=14)).date()] == 40
    sent: list[Alert] = []
    a = Alerter(
        AlertSettings(), store, sent.append, clock=Clock(day0 + timedelta(days=15, hours=1))
    )
    (fired,) = a.after_job("one", [])
    assert (fired.name, fired.firing) == ("qualified_drift", True)
    assert fired.summary == (
        "40 records newly qualified on 2026-11-15, against a trailing average of 6.0 a day "
        "over 14 days"
    )
    assert a.after_job("one", []) == []  # checked once a day


def stored_run(store: StateStore, status: str, error: str | None = None) -> int:
    run_id = store.start_run(
        "one", "contact", mode="incremental", dry_run=False, started_at=T0, model_version="v"
    )
    store.finish_run(
        run_id, status=RunStatus(status), counts=RunCounts(), finished_at=T0, error=error
    )
    return run_id


def test_after_a_restart_failures_already_firing_resolve_and_do_not_page_again(store):
    for _ in range(3):
        stored_run(store, "failed", "AuthError: HubSpot 401 INVALID_AUTHENTICATION")
    # a new process (the token rotated, the daemon restarted): its first run finishes
    sent: list[Alert] = []
    done = stored_run(store, "succeeded")
    changes = alerter(store, sent, failing_runs=3).after_job(
        "one", [replace(result("succeeded"), run_id=done)]
    )
    assert [(a.name, a.firing, a.summary) for a in changes] == [
        ("runs_failing", False, "runs finish again"),
        ("auth_failing", False, "the CRM accepts the credentials again"),
    ]
    assert sent == changes
    # a restart while still failing does not page again; the count goes on from the store
    sent.clear()
    for _ in range(3):
        stored_run(store, "failed", "AuthError: HubSpot 401 INVALID_AUTHENTICATION")
    again = stored_run(store, "failed", "AuthError: HubSpot 401 INVALID_AUTHENTICATION")
    a = alerter(store, sent, failing_runs=3)
    assert a.after_job("one", [replace(result("failed", "AuthError"), run_id=again)]) == []
    assert sent == []


def test_after_a_restart_the_failed_runs_in_a_row_count_on_from_the_store(store):
    for _ in range(3):
        stored_run(store, "failed", "TransientError: HubSpot 503")
    failed = stored_run(store, "failed", "TransientError: HubSpot 503")
    sent: list[Alert] = []
    (fired,) = alerter(store, sent, failing_runs=4).after_job(
        "one", [replace(result("failed", "TransientError"), run_id=failed)]
    )
    assert (fired.name, fired.summary) == (
        "runs_failing",
        "4 runs in a row failed: TransientError: boom",
    )


def test_the_first_job_after_a_restart_is_judged_itself_not_seeded_from_its_own_runs(store):
    stored_run(store, "succeeded")
    failed = stored_run(store, "failed", "AuthError: refused")
    sent: list[Alert] = []
    (fired,) = alerter(store, sent, failing_runs=3).after_job(
        "one", [replace(result("failed", "AuthError"), run_id=failed)]
    )
    assert (fired.name, fired.firing) == ("auth_failing", True)
