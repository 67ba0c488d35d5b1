"""`leadsync validate --model`, `leadsync schema` and offline `leadsync score`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from cli.inputs import IdColumnOption, read_input
from cli.times import time_option
from config.errors import Problem, UserError
from config.model_loader import load_model
from config.model_schema import model_schema
from scoring import ScoringModel, score
from scoring.types import Record, ScoreResult

_COLUMNS = ("id", "fit", "interest", "score", "label", "qualified", "reasons")


def render_table(rows: Sequence[tuple[Record, ScoreResult]], *, reasons: int = 2) -> str:
    """A fixed-width table: id, fit, interest, score, label, qualified and the top reasons."""
    cells = [list(_COLUMNS)]
    for record, result in rows:
        shown = result.reasons[:reasons]
        cells.append(
            [
                record.id,
                str(result.fit),
                str(result.interest),
                str(result.score),
                result.label,
                "yes" if result.qualified else "no",
                "; ".join(shown),
            ]
        )
    widths = [max(len(row[i]) for row in cells) for i in range(len(_COLUMNS) - 1)]
    lines = []
    for row in cells:
        head = "  ".join(
            cell.rjust(width) if 0 < i < 4 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row[:-1], widths, strict=True))
        )
        lines.append(f"{head}  {row[-1]}".rstrip())
    return "\n".join(lines)


def score_records(
    records: Iterable[Record], model: ScoringModel, now: datetime
) -> list[tuple[Record, ScoreResult]]:
    """Score each record (no previous results: offline scoring starts fresh)."""
    return [(record, score(record, model, now)) for record in records]


def _report(problem: Problem) -> None:
    click.echo(f"warning: {problem}", err=True)


@click.command("validate")
@click.option(
    "--model",
    "models",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A scoring-model YAML file (repeatable).",
)
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also check that every property the models read is a column of this export.",
)
@click.option(
    "--config",
    "-c",
    "config",
    help="Check the configuration, its models, and each model's properties against the CRM's "
    "property list (reads the CRM).",
)
@click.option(
    "--secrets-dir",
    type=click.Path(file_okay=False),
    envvar="LEADSYNC_SECRETS_DIR",
    help="With --config: folder of secret files for ${VAR} and LEADSYNC_* settings.",
)
def validate_command(
    models: tuple[Path, ...], input_path: Path | None, config: str | None, secrets_dir: str | None
) -> None:
    """Check model files (and their properties against an export or the CRM); print OK or
    every problem (exit 2)."""
    if not models and config is None:
        raise click.UsageError("give --model FILE (repeatable) or --config FILE")
    if input_path is not None and not models:
        raise click.UsageError("--input checks the --model files against an export")
    problems: list[str] = []
    for path in models:
        try:
            # the configuration's answer: a kind no CRM connection scores is refused here too
            model = load_model(path, scored_only=True)
            if input_path is not None:
                read_input(model=model, model_path=path, input_path=input_path, on_problem=_report)
        except UserError as exc:
            problems.append(str(exc))
            continue
        checked = f", every property in {input_path.name}" if input_path is not None else ""
        click.echo(
            f"OK {path}: model '{model.name}' for {model.object} records, "
            f"version {model.version}, {model.rule_count} rules{checked}"
        )
    if config is not None:
        from cli.crm_properties import validate_config

        problems.extend(validate_config(config, secrets_dir, click.echo))
    if problems:
        raise UserError("\n".join(problems))


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of scoring-model files (for editors)."""
    click.echo(json.dumps(model_schema(), indent=2))


@click.command("score")
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scoring-model YAML file.",
)
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Records: JSONL (with events) or CSV (columns are properties).",
)
@time_option("--now", "now", "Score as of this ISO-8601 time (default: now).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "jsonl"]),
    default="table",
    show_default=True,
)
@IdColumnOption
def score_command(
    model_path: Path,
    input_path: Path,
    now: datetime | None,
    output_format: str,
    id_column: str | None,
) -> None:
    """Score records from a file without a CRM."""
    model = load_model(model_path)
    now = now or datetime.now(UTC)
    records = read_input(
        model=model,
        model_path=model_path,
        input_path=input_path,
        on_problem=_report,
        id_column=id_column,
    )
    if output_format == "jsonl":
        count = 0
        for record in records:
            result = score(record, model, now)
            line = {"id": record.id, **result.to_dict()}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
        click.echo(f"scored {count} records", err=True)
        return
    rows = score_records(records, model, now)
    click.echo(render_table(rows))
    click.echo(f"\n{len(rows)} records scored with {model.name} ({model.version})", err=True)


def register(group: click.Group) -> None:
    """Add the scoring commands to the `leadsync` group."""
    group.add_command(validate_command)
    group.add_command(schema_command)
    group.add_command(score_command)
