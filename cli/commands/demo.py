"""`leadsync demo`: the whole product against a local HubSpot sandbox, in under a minute.

It starts the HubSpot sandbox in this process (5,000 generated contacts, HubSpot's 190 calls per
10 seconds), writes a config in a temporary folder, creates the output properties (`setup
--apply`), runs a full sync, prints the score distribution, the ten best leads with their
reasons, the API calls used against the minimum and the run time, then runs an incremental sync
to show that re-reading our own writes writes nothing. `--keep-running` then runs the daemon
while the sandbox simulates new activity, until Ctrl-C.
"""

from __future__ import annotations

import math
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import click

import config as config_package
from cli.commands.runs import Context, open_context, stop_on_signals
from cli.render import ProgressLine, histogram, summary_table, table
from connectors.base import Connector
from connectors.outputs import output_fields
from sandbox.hubspot import HubSpotSandbox
from sync.connections import build_connector, run_options
from sync.daemon import Daemon
from sync.engine import Engine
from sync.logs import setup_logging
from sync.run_summary import RunResult

MODEL = Path(config_package.__file__).resolve().parent / "examples/models/hubspot-professional.yaml"
TOKEN_VAR = "LEADSYNC_DEMO_HUBSPOT_TOKEN"
NAME_FIELDS = ("firstname", "lastname", "jobtitle", "company")

CONFIG = """\
# Written by `leadsync demo` for its sandbox; inspect it with `leadsync status --config {path}`.
state_url: sqlite:///{folder}/leadsync.db
connections:
  - name: demo-hubspot
    crm: hubspot
    hubspot: {{base_url: "{url}", access_token: "${{{token_var}}}", tier: professional}}
    objects:
      - {{kind: contact, model: {model}}}
    schedule: {{incremental_every: 15s, full_cron: "0 2 * * *"}}
    write: {{min_points_change: 3}}
daemon: {{port: 0}}
logging: {{format: text}}
"""


@click.command("demo")
@click.option(
    "--contacts",
    type=click.IntRange(10, 200_000),
    default=5000,
    show_default=True,
    help="How many contacts the sandbox generates.",
)
@click.option(
    "--keep-running",
    is_flag=True,
    help="Then run the daemon while the sandbox simulates new activity (Ctrl-C stops).",
)
def demo_command(*, contacts: int, keep_running: bool) -> int:
    """Sync a local HubSpot sandbox end to end: setup, full sync, top leads, incremental sync."""
    began = time.monotonic()
    click.echo(f"Starting a HubSpot sandbox with {contacts:,} contacts (190 API calls per 10 s)...")
    sandbox = HubSpotSandbox(contacts=contacts, tier="professional").start()
    folder = tempfile.TemporaryDirectory(prefix="leadsync-demo-")
    try:
        os.environ[TOKEN_VAR] = sandbox.token
        path = Path(folder.name) / "leadsync.yaml"
        path.write_text(
            CONFIG.format(
                path=path, folder=folder.name, url=sandbox.url, token_var=TOKEN_VAR, model=MODEL
            )
        )
        return _demo(path, sandbox, began=began, keep_running=keep_running)
    finally:
        sandbox.stop()
        folder.cleanup()


def _demo(path: Path, sandbox: HubSpotSandbox, *, began: float, keep_running: bool) -> int:
    ctx = open_context(str(path), None)
    conn = ctx.settings.connections[0]
    model = ctx.models[(conn.name, "contact")]
    connector = build_connector(conn)
    try:
        report = connector.ensure_schema(
            "contact", output_fields(model.grades, model.labels), apply=True
        )
        created = sum(1 for f in report.fields if f.state == "created")
        click.echo(f"setup --apply: created {created} leadsync_* contact properties")
        click.echo(f"model: {model.name} ({model.version}) from {MODEL.name}\n")

        stderr = sys.stderr
        progress = ProgressLine(stderr, enabled=stderr.isatty())
        engine = Engine(ctx.store, connector, connection=conn.name, on_progress=progress.update)
        full = engine.run("contact", model, run_options(conn, full=True, dry_run=False))
        progress.finish()
        click.echo(summary_table([full]) + "\n")
        if not full.finished:
            click.echo(f"the full sync did not finish: {full.error}")
            return 1
        _distribution(full)
        _top_leads(ctx, connector, conn.name)
        _calls(full, _linked(sandbox))

        incremental = engine.run("contact", model, run_options(conn, full=False, dry_run=False))
        click.echo(
            f"\nIncremental sync: read {incremental.counts.read:,} records modified since the "
            f"full sync (our own writes come back), wrote {incremental.counts.written:,}, "
            f"{incremental.counts.answered_calls} API calls, {incremental.elapsed_s:.1f} s."
        )
        click.echo(f"Demo finished in {time.monotonic() - began:.1f} s.")
        if keep_running:
            _keep_running(ctx, connector, sandbox)
        return 0 if incremental.finished else 1
    finally:
        connector.close()
        ctx.store.close()


def _distribution(full: RunResult) -> None:
    plan = full.plan
    click.echo(f"Score distribution of {full.counts.scored:,} contacts:")
    click.echo(histogram(plan.score_bins))
    labels = "  ".join(f"{k} {v:,}" for k, v in sorted(plan.labels.items()))
    click.echo(f"labels: {labels}")
    click.echo(f"qualified (MQL): {plan.qualified:,}\n")


def _top_leads(ctx: Context, connector: Connector, connection: str) -> None:
    top = ctx.store.top_scores(connection, "contact", limit=10)
    fetched = connector.fetch("contact", [rid for rid, _ in top], NAME_FIELDS, ())
    records = {r.id: r for r in fetched}
    rows = []
    for rid, result in top:
        props = records[rid].properties if rid in records else {}
        text = {k: " ".join(str(props.get(k) or "").split()) for k in NAME_FIELDS}
        name = f"{text['firstname']} {text['lastname']}".strip()
        rows.append(
            (
                name or rid,
                f"{text['jobtitle'] or '-'}, {text['company'] or '-'}",
                result.score,
                result.label,
                "yes" if result.qualified else "no",
                "; ".join(result.reasons[:3]),
            )
        )
    click.echo("Ten best leads:")
    click.echo(table(("contact", "title, company", "score", "label", "MQL", "why"), rows))


def _linked(sandbox: HubSpotSandbox) -> dict[str, int]:
    """How many companies (primary ones), meetings and calls the live contacts link to."""
    return {
        kind: len(sandbox.store.linked_to_contacts(kind))
        for kind in ("companies", "meetings", "calls")
    }


def _calls(full: RunResult, linked: dict[str, int]) -> None:
    """The full run's calls against the fewest the API's batch sizes allow for the model."""
    c = full.counts
    reads, writes = math.ceil(c.read / 100), math.ceil(c.written / 100)
    # per 1,000 contacts one associations call for each of companies, meetings and calls, the
    # linked records 100 a batch read, and the call dispositions once
    related = 3 * math.ceil(c.read / 1000) + sum(math.ceil(n / 100) for n in linked.values()) + 1
    minimum = reads + writes + related
    if minimum <= 190:
        limit = f"{minimum} calls fit in one 10-second window of the 190-call limit"
    else:
        limit = f"the 190 calls / 10 s limit alone needs {(minimum - 190) / 19:.1f} s"
    refused = (
        f" {c.rate_limited} more were refused for rate (429) and sent again."
        if c.rate_limited
        else " None was refused for rate."
    )
    click.echo(
        f"\nAPI calls: {c.answered_calls} for {c.read:,} contacts read and {c.written:,} "
        f"written; the minimum is {minimum} ({reads} reads + {writes} writes of 100 + "
        f"{related} for companies, meetings and calls).{refused}"
    )
    click.echo(f"Full sync time: {full.elapsed_s:.1f} s ({limit}).")


def _keep_running(ctx: Context, connector: Connector, sandbox: HubSpotSandbox) -> None:
    """The daemon on the sandbox, with new activity on a few contacts every few seconds."""
    setup_logging("INFO", "text")
    daemon = Daemon(ctx.settings, ctx.models, ctx.store, connector_factory=lambda _conn: connector)
    rng = random.Random(11)

    def activity() -> None:
        while not daemon.stop.wait(5.0):
            ids = sandbox.mutate(rng.randint(5, 40))
            click.echo(f"sandbox: new activity on {len(ids)} contacts")

    with stop_on_signals(daemon.stop):
        daemon.start(run_now=False)
        assert daemon.health is not None
        click.echo(
            f"\nDaemon running (incremental sync every 15 s). Health and metrics: "
            f"http://127.0.0.1:{daemon.health.port}/metrics  -- Ctrl-C to stop."
        )
        threading.Thread(target=activity, name="demo-activity", daemon=True).start()
        daemon.wait()


def register(group: click.Group) -> None:
    """Add `demo` to the `leadsync` group."""
    group.add_command(demo_command)
