"""`leadsync demo`: score the bundled example records offline and print the table.

The example records in `config/examples/records/` carry events dated up to 2026-11-20, so the demo
scores them as of that day by default; `--now` scores them at another time (e.g. to watch decay).
"""

from __future__ import annotations

from pathlib import Path

import click

import config
from config.errors import Problem
from config.model_loader import load_model
from config.record_files import read_records
from sync.commands.scoring import parse_now, render_table, score_records

EXAMPLES = Path(config.__file__).resolve().parent / "examples"
DEMO_NOW = "2026-11-20T12:00:00Z"
#: (model file, records file) for each bundled example.
DEMOS: dict[str, tuple[str, str]] = {
    "hubspot": ("models/hubspot-contacts.yaml", "records/hubspot-contacts.jsonl"),
    "salesforce": ("models/salesforce-leads.yaml", "records/salesforce-leads.jsonl"),
}


def _report(problem: Problem) -> None:
    click.echo(f"warning: {problem}", err=True)


@click.command("demo")
@click.option(
    "--crm",
    type=click.Choice(sorted(DEMOS)),
    default="hubspot",
    show_default=True,
    help="Which bundled example model and records to score.",
)
@click.option("--now", "now_text", default=DEMO_NOW, show_default=True, help="Score as of.")
def demo_command(crm: str, now_text: str) -> None:
    """Score the bundled example records offline and print the table."""
    model_file, records_file = DEMOS[crm]
    model = load_model(EXAMPLES / model_file)
    now = parse_now(now_text)
    records = read_records(EXAMPLES / records_file, kind=model.object, on_problem=_report)
    rows = score_records(records, model, now)
    rows.sort(key=lambda row: (-row[1].score, row[0].id))
    click.echo(f"{model.name} ({model.version}) as of {now.isoformat()}\n")
    click.echo(render_table(rows))
    qualified = sum(1 for _, result in rows if result.qualified)
    click.echo(f"\n{len(rows)} records scored, {qualified} qualified")


def register(group: click.Group) -> None:
    """Add `demo` to the `leadsync` group."""
    group.add_command(demo_command)
