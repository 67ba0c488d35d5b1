"""Alerts: webhooks (generic JSON or Slack-compatible) called when a condition starts and stops.

The daemon hands every finished job to `Alerter.after_job`, which keeps, per connection, whether
each condition holds and sends an `Alert` only when that changes (firing, then resolved), so a
run that keeps failing pages someone once, not every five minutes:

- `runs_failing`: `alerts.failing_runs` runs in a row failed; resolved by a run that finished.
- `auth_failing`: the CRM refused the credentials; resolved by a run that finished.
- `dead_letters_growing`: open dead letters grew by `alerts.dead_letters_growth` since the first
  job of the UTC day; resolved when they are back under that.
- `budget_near_cap`: today's CRM calls reached `alerts.budget_share` of the daily cap.
- `qualified_drift`: yesterday's newly qualified records were more than `drift.factor` times the
  trailing daily average, or less than that average divided by the factor (checked once a day).

State lives in memory, seeded at a connection's first job from its stored runs: the failed runs
in a row and, when the latest of them was refused its credentials, `auth_failing`. So a restart
neither pages again for failures the receiver already knows, nor leaves them firing there
forever once a run finishes again (rotating a token means a restart). The other conditions
start clear after a restart and fire once more if they still hold.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
import sqlalchemy as sa

from config.settings import AlertSettings, WebhookSettings
from connectors.base import ApiUsage
from sync.run_summary import RunResult
from sync.state.records import RunStatus
from sync.state.store import StateStore

log = logging.getLogger("leadsync.alerts")

#: Statuses of a run that did its job (the ones that clear failure alerts).
FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.INTERRUPTED, RunStatus.PAUSED})
#: Stored statuses that say nothing yet of how a run went.
_UNDECIDED = frozenset({RunStatus.RUNNING, RunStatus.BUSY})


@dataclass(frozen=True)
class Alert:
    """One change of one condition of one connection."""

    name: str
    connection: str
    firing: bool
    summary: str
    at: datetime
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """`firing` or `resolved`."""
        return "firing" if self.firing else "resolved"


def json_body(alert: Alert) -> dict[str, Any]:
    """The generic webhook payload."""
    return {
        "source": "leadsync",
        "alert": alert.name,
        "state": alert.state,
        "connection": alert.connection,
        "summary": alert.summary,
        "at": alert.at.isoformat(),
        "details": dict(alert.details),
    }


def slack_body(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook payload (`text` with mrkdwn)."""
    mark = ":rotating_light:" if alert.firing else ":white_check_mark:"
    state = "FIRING" if alert.firing else "resolved"
    return {"text": f"{mark} *leadsync {state}* `{alert.connection}` {alert.name}: {alert.summary}"}


class WebhookSender:
    """POSTs each alert to every configured webhook; a failing webhook is logged, never raised
    (its URL, a secret for Slack, is never logged)."""

    def __init__(
        self,
        webhooks: Sequence[WebhookSettings],
        *,
        timeout: float,
        session: requests.Session | None = None,
    ) -> None:
        self.webhooks = list(webhooks)
        self.timeout = timeout
        self.session = session or requests.Session()

    def __call__(self, alert: Alert) -> None:
        for index, hook in enumerate(self.webhooks):
            body = slack_body(alert) if hook.format == "slack" else json_body(alert)
            try:
                response = self.session.post(
                    hook.url.get_secret_value(),
                    data=json.dumps(body),
                    headers={"Content-Type": "application/json"},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                log.warning(
                    "alert webhook unreachable",
                    extra={"webhook": index, "alert": alert.name, "error": type(exc).__name__},
                )
                continue
            if response.status_code >= 300:
                log.warning(
                    "alert webhook refused",
                    extra={"webhook": index, "alert": alert.name, "status": response.status_code},
                )


@dataclass
class _ConnectionState:
    failed_in_a_row: int = 0
    firing: set[str] = field(default_factory=set)
    day: date | None = None
    dead_letters_at_day_start: int = 0
    drift_checked: date | None = None


class Alerter:
    """Turns finished jobs into alert state changes and hands those to `send`."""

    def __init__(
        self,
        settings: AlertSettings,
        store: StateStore,
        send: Callable[[Alert], None],
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.store = store
        self.send = send
        self.clock = clock
        self._state: dict[str, _ConnectionState] = {}

    def after_job(
        self, connection: str, results: Sequence[RunResult], usage: ApiUsage | None = None
    ) -> list[Alert]:
        """Update every condition of `connection` after a job and send what changed."""
        now = self.clock()
        st = self._state.get(connection)
        if st is None:
            job = {r.run_id for r in results if r.run_id is not None}
            st = self._state[connection] = self._seeded(connection, job)
        dead = self.store.dead_letter_count(connection)
        if st.day != now.date():
            st.day, st.dead_letters_at_day_start = now.date(), dead
        changes: list[Alert] = []
        for name, holds, summary, details in self._conditions(connection, st, results, dead, usage):
            if holds is None or holds == (name in st.firing):
                continue
            if holds:
                st.firing.add(name)
            else:
                st.firing.discard(name)
            changes.append(Alert(name, connection, holds, summary, now, details))
        for alert in changes:
            log.warning(
                "alert " + alert.state,
                extra={"alert": alert.name, "connection": connection, "summary": alert.summary},
            )
            self.send(alert)
        return changes

    def _seeded(self, connection: str, job: set[int]) -> _ConnectionState:
        """The failure conditions as the stored runs before the `job` ones left them."""
        st = _ConnectionState()
        runs = self.store.runs(connection, limit=self.settings.failing_runs + 50)
        done = [r for r in runs if r.id not in job and not r.dry_run and r.status not in _UNDECIDED]
        for run in done:
            if run.status in FINISHED:
                break
            st.failed_in_a_row += 1
        if st.failed_in_a_row >= self.settings.failing_runs:
            st.firing.add("runs_failing")
        if st.failed_in_a_row and (done[0].error or "").startswith("AuthError:"):
            st.firing.add("auth_failing")
        return st

    def _conditions(
        self,
        connection: str,
        st: _ConnectionState,
        results: Sequence[RunResult],
        dead: int,
        usage: ApiUsage | None,
    ) -> Iterable[tuple[str, bool | None, str, dict[str, object]]]:
        cfg = self.settings
        real = [r for r in results if not r.dry_run and r.status != RunStatus.BUSY]
        for r in real:
            st.failed_in_a_row = 0 if r.status in FINISHED else st.failed_in_a_row + 1
        last_error = next((r.error for r in reversed(real) if r.status == RunStatus.FAILED), None)
        if real:
            yield (
                "runs_failing",
                st.failed_in_a_row >= cfg.failing_runs,
                f"{st.failed_in_a_row} runs in a row failed: {last_error}"
                if st.failed_in_a_row
                else "runs finish again",
                {"failed_in_a_row": st.failed_in_a_row, "last_error": last_error},
            )
            auth = any(r.error_type == "AuthError" for r in real)
            yield (
                "auth_failing",
                auth if (auth or any(r.status in FINISHED for r in real)) else None,
                f"the CRM refused leadsync's credentials: {last_error}"
                if auth
                else "the CRM accepts the credentials again",
                {},
            )
        growth = dead - st.dead_letters_at_day_start
        yield (
            "dead_letters_growing",
            growth >= cfg.dead_letters_growth,
            f"{growth} new dead letters today ({dead} open); see `leadsync status`",
            {"open": dead, "new_today": growth},
        )
        if usage is not None and usage.daily_limit:
            used = usage.daily_used or 0
            share = used / usage.daily_limit
            yield (
                "budget_near_cap",
                share >= cfg.budget_share,
                f"{used:,} of {usage.daily_limit:,} API calls used today ({share:.0%})",
                {"used": used, "limit": usage.daily_limit},
            )
        if cfg.drift is not None and st.drift_checked != st.day:
            st.drift_checked = st.day
            yield self._drift(connection)

    def _drift(self, connection: str) -> tuple[str, bool | None, str, dict[str, object]]:
        drift = self.settings.drift
        assert drift is not None
        today = self.clock().date()
        since = today - timedelta(days=drift.trailing_days + 1)
        per_day = newly_qualified_per_day(self.store, connection, since, today)
        yesterday = today - timedelta(days=1)
        trailing = [per_day.get(since + timedelta(days=i), 0) for i in range(drift.trailing_days)]
        average = sum(trailing) / len(trailing)
        count = per_day.get(yesterday, 0)
        if average < drift.min_average:
            return ("qualified_drift", None, "", {})
        off = count > drift.factor * average or count < average / drift.factor
        summary = (
            f"{count} records newly qualified on {yesterday}, against a trailing average of "
            f"{average:.1f} a day over {drift.trailing_days} days"
        )
        return ("qualified_drift", off, summary, {"count": count, "average": round(average, 2)})


def newly_qualified_per_day(
    store: StateStore, connection: str, since: date, until: date
) -> Counter[date]:
    """Records whose write made them qualified, per UTC day in `[since, until)` (from the
    ledger's applied writes)."""
    lg = store.t.ledger
    start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(until, datetime.min.time(), tzinfo=UTC)
    query = sa.select(lg.c.payload, lg.c.created_at).where(
        lg.c.connection == connection,
        lg.c.status == "applied",
        lg.c.created_at >= start,
        lg.c.created_at < end,
    )
    out: Counter[date] = Counter()
    with store.engine.connect() as conn:
        for payload, created in conn.execute(query):
            values = json.loads(payload)
            if _truthy(values.get("new", {}).get("qualified")) and not _truthy(
                values.get("old", {}).get("qualified")
            ):
                out[created.date()] += 1
    return out


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
