"""Prometheus metrics of the daemon, on a registry of their own (testable, no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from sync.run_summary import RunResult

#: Record outcomes counted per run.
OUTCOMES = ("read", "scored", "written", "unchanged", "failed", "dead_lettered")


class Metrics:
    """Counters, gauges and a histogram updated after every run."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter(
            "leadsync_runs",
            "Runs by outcome.",
            ["connection", "kind", "mode", "status"],
            registry=r,
        )
        self.records = Counter(
            "leadsync_records", "Records by outcome.", ["connection", "kind", "outcome"], registry=r
        )
        self.api_calls = Counter(
            "leadsync_api_calls", "CRM API calls made.", ["connection", "crm"], registry=r
        )
        self.rate_limited = Counter(
            "leadsync_api_rate_limited",
            "CRM answers refusing a call for rate (HTTP 429).",
            ["connection", "crm"],
            registry=r,
        )
        self.duration = Histogram(
            "leadsync_run_duration_seconds",
            "Wall time of runs.",
            ["connection", "kind", "mode"],
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
            registry=r,
        )
        self.last_success = Gauge(
            "leadsync_last_success_timestamp_seconds",
            "Unix time the last successful run of a connection and kind finished.",
            ["connection", "kind"],
            registry=r,
        )
        self.dead_letters = Gauge(
            "leadsync_dead_letters", "Open dead letters.", ["connection"], registry=r
        )
        self.leader = Gauge(
            "leadsync_leader",
            "1 while this replica holds the leadership and runs the schedules, else 0.",
            registry=r,
        )
        self.outbox = Gauge(
            "leadsync_outbox_pending",
            "Planned writes not yet confirmed.",
            ["connection"],
            registry=r,
        )

    def observe(self, result: RunResult, *, crm: str, dead_letters: int, pending: int) -> None:
        """Account for one finished run."""
        conn, kind = result.connection, result.kind
        mode = "dry_run" if result.dry_run else result.mode
        self.runs.labels(conn, kind, mode, result.status).inc()
        counts = result.counts.as_dict()
        for outcome in OUTCOMES:
            self.records.labels(conn, kind, outcome).inc(counts[outcome])
        self.api_calls.labels(conn, crm).inc(result.counts.api_calls)
        self.rate_limited.labels(conn, crm).inc(result.counts.rate_limited)
        self.duration.labels(conn, kind, mode).observe(result.elapsed_s)
        if result.status == "succeeded" and not result.dry_run and result.finished_at:
            self.last_success.labels(conn, kind).set(result.finished_at.timestamp())
        self.dead_letters.labels(conn).set(dead_letters)
        self.outbox.labels(conn).set(pending)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
