"""The Events API through the engine: calls only for contacts whose rollup gates moved since
their stored scoring, and a run that meets its 403 fails whole, saying why; so does a run whose
company reads (`company.<property>` rules) meet a 403."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from config.model_loader import parse_model
from connectors.hubspot import HubSpotConnector, HubSpotOptions
from connectors.outputs import output_fields
from sandbox.hubspot import HubSpotSandbox
from sandbox.hubspot.auth import ALL_SCOPES
from sandbox.hubspot.events import contact_events
from sync.engine import Engine, RunOptions
from sync.state.store import StateStore

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
MODEL = """\
name: web
object: contact
fit:
  max: 100
  rules:
    - {name: Free email domain, if: {email: {domain_in: [gmail.com]}}, points: -10}
interest:
  max: 100
  decay: {half_life_days: 30}
  rules:
    - {name: Demo request, event: form_submission, where: {form: {contains: demo}}, points: 50}
    - {name: Pricing page, event: page_view, where: {url: {contains: /pricing}}, points: 20}
    - {name: Any page, event: page_view, points: 1, max: 20}
"""


class Clock:
    def __init__(self) -> None:
        self.t = NOW.timestamp()

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


@pytest.fixture
def tier() -> str:
    return "enterprise"


@pytest.fixture
def setup(tmp_path, tier: str) -> Iterator[tuple[HubSpotSandbox, HubSpotConnector, Engine, Clock]]:
    clock = Clock()
    sandbox = HubSpotSandbox(
        contacts=400, now=NOW, tier=tier, rate_limit_10s=100_000, clock=clock
    ).start()
    connector = HubSpotConnector(
        HubSpotOptions(base_url=sandbox.url, access_token=SecretStr(sandbox.token)),
        sleep=clock.sleep,
        clock=clock,
    )
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}", now=NOW)
    model = parse_model(MODEL, "web.yaml")
    connector.ensure_schema("contact", output_fields(model.grades, model.labels), apply=True)
    try:
        yield sandbox, connector, Engine(store, connector, connection="t", clock=clock.now), clock
    finally:
        connector.close()
        store.close()
        sandbox.stop()


def event_pages(sandbox: HubSpotSandbox, ids: Any, after: datetime | None = None) -> int:
    """Events API calls a read of these contacts' web events (occurred at or after `after`)
    takes, 100 events a page."""
    table = sandbox.store.table("contacts")
    low = -math.inf if after is None else after.timestamp() * 1000
    return sum(
        max(
            1,
            math.ceil(
                sum(1 for at, _ in contact_events(sandbox.store, table.rows[int(i)]) if at >= low)
                / 100
            ),
        )
        for i in ids
    )


def active(sandbox: HubSpotSandbox) -> list[int]:
    table = sandbox.store.table("contacts")
    return [
        row.id
        for row in table.rows.values()
        if int(table.raw(row, "hs_analytics_num_page_views") or 0) > 0
        or int(table.raw(row, "num_conversion_events") or 0) > 0
    ]


def test_full_runs_ask_the_events_api_only_for_contacts_whose_gates_moved(setup) -> None:
    sandbox, connector, engine, clock = setup
    model = parse_model(MODEL, "web.yaml")

    def events_calls() -> int:
        return int(connector.usage.by_endpoint.get("events.list", 0))

    first = engine.run("contact", model, RunOptions(full=True), now=clock.now())
    assert first.finished
    assert events_calls() == event_pages(sandbox, active(sandbox))

    # nothing happened since: the second full rescore reads no event at all
    clock.sleep(3600)
    before = events_calls()
    second = engine.run("contact", model, RunOptions(full=True), now=clock.now())
    assert (second.counts.read, events_calls() - before) == (400, 0)
    assert second.counts.api_calls == 4  # the four list pages, nothing else
    assert second.counts.written == 0  # the stored events gave the same scores

    # 12 contacts come back to the site: exactly their events are read again
    clock.sleep(3600)
    touched = sandbox.mutate(12, at=clock.now() - timedelta(minutes=1))
    before = events_calls()
    third = engine.run("contact", model, RunOptions(full=True), now=clock.now())
    assert third.finished
    assert events_calls() - before == event_pages(sandbox, touched)
    assert third.counts.scored == 400


@pytest.mark.parametrize("tier", ["professional"])
def test_an_events_api_403_fails_the_run_naming_source_rules_and_fix(setup) -> None:
    sandbox, _, engine, clock = setup  # the portal is not Enterprise after all
    model = parse_model(MODEL, "web.yaml")
    result = engine.run("contact", model, RunOptions(full=True), now=clock.now())
    assert (result.status.value, result.error_type) == ("failed", "MissingPermission")
    error = result.error or ""
    assert "the HubSpot Events API (GET /events/v3/events)" in error
    assert (
        "its page_view, form_submission rules ('Demo request', 'Pricing page', 'Any page')" in error
    )
    assert "nothing was scored without them" in error
    assert "Fix: set the connection's tier to the account's real tier" in error
    # nothing half-scored: no write reached the CRM, no score was stored
    assert (result.counts.scored, result.counts.written) == (0, 0)
    assert "POST /crm/v3/objects/{object}/batch/update" not in sandbox.request_counts()


FIRMOGRAPHIC = """\
name: firmographic
object: contact
fit:
  max: 100
  rules:
    - {name: 500+ employees, if: {company.numberofemployees: {gte: 500}}, points: 40}
    - {name: Manager, if: {jobtitle: {matches: '(?i)manager'}}, points: 10}
    - {name: Software, if: {company.industry: {in: [COMPUTER_SOFTWARE]}}, points: 20}
disqualify:
  - {name: Tiny company, if: {company.numberofemployees: {lt: 2}}, reason: Too small}
"""


def test_a_company_read_403_fails_the_run_naming_source_rules_and_fix(setup, tmp_path) -> None:
    sandbox, _, _, clock = setup  # the app was not granted the companies scope
    token = sandbox.new_token(ALL_SCOPES - {"crm.objects.companies.read"})
    connector = HubSpotConnector(
        HubSpotOptions(base_url=sandbox.url, access_token=SecretStr(token)),
        sleep=clock.sleep,
        clock=clock,
    )
    store = StateStore.open(f"sqlite:///{tmp_path / 'companies.db'}", now=NOW)
    try:
        model = parse_model(FIRMOGRAPHIC, "firmographic.yaml")
        connector.ensure_schema("contact", output_fields(model.grades, model.labels), apply=True)
        engine = Engine(store, connector, connection="t", clock=clock.now)
        result = engine.run("contact", model, RunOptions(full=True), now=clock.now())
    finally:
        connector.close()
        store.close()
    assert (result.status.value, result.error_type) == ("failed", "MissingPermission")
    error = re.sub(r"correlationId [0-9a-f-]{36}", "correlationId <id>", result.error or "")
    assert error == (
        "MissingPermission: HubSpot's company reads for company context (contact -> company "
        "associations, company batch reads and searches) refused access (HubSpot "
        "associations.batch_read: 403 MISSING_SCOPES: This app hasn't been granted all "
        "required scopes to make this call. Read more about required scopes here: "
        "https://developers.hubspot.com/scopes. (correlationId <id>); grant the private app "
        "(or OAuth app) the scope(s): crm.objects.companies.read). Model 'firmographic' needs "
        "it for its company.<property> rules ('500+ employees', 'Software', 'Tiny company'); "
        "nothing was scored without them. Fix: grant crm.objects.companies.read to the app "
        "(the private app's scopes, or the OAuth app's scopes and a reinstall), or remove "
        "those rules"
    )
    # nothing half-scored: no write reached the CRM, no score was stored
    assert (result.counts.scored, result.counts.written) == (0, 0)
    assert "POST /crm/v3/objects/{object}/batch/update" not in sandbox.request_counts()


WINDOWED = """\
name: web-windowed
object: contact
fit:
  max: 100
  rules:
    - {name: Free email domain, if: {email: {domain_in: [gmail.com]}}, points: -10}
interest:
  max: 100
  rules:
    - {name: Demo request, event: form_submission, points: 50, within_days: 14}
    - {name: Recent page, event: page_view, points: 5, max: 20, within_days: 30}
    - {name: Quarter pages, event: page_view, points: 1, max: 10, within_days: 90}
"""


def test_the_events_api_is_asked_only_for_the_window_the_model_can_score(setup) -> None:
    sandbox, _, engine, clock = setup
    sent = sandbox.journal("GET /events/v3/events/")
    result = engine.run(
        "contact", parse_model(WINDOWED, "w.yaml"), RunOptions(full=True), now=clock.now()
    )
    assert result.finished
    # both types in one call: from the longest horizon of the rules on either (90 days)
    bound = clock.now() - timedelta(days=90)
    afters = {datetime.fromisoformat(q["occurredAfter"][0]) for q in sent}
    assert afters == {bound}
    # one call per active contact and 100 events of the window, fewer than all their events take
    assert len(sent) == event_pages(sandbox, active(sandbox), after=bound)
    assert len(sent) < event_pages(sandbox, active(sandbox))


def test_a_model_scoring_events_of_any_age_asks_for_every_event(setup) -> None:
    sandbox, _, engine, clock = setup
    sent = sandbox.journal("GET /events/v3/events/")
    model = parse_model(MODEL, "web.yaml")
    result = engine.run("contact", model, RunOptions(full=True), now=clock.now())
    assert result.finished
    # half-life decay scores a page view of any age: every event, no occurredAfter
    assert len(sent) == event_pages(sandbox, active(sandbox))
    assert [q for q in sent if "occurredAfter" in q] == []
