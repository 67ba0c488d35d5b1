"""Record files as the offline commands read them: the records, and the model checked against
the file's columns.

A CSV export without a column the model reads is an error (exit 2) located at the rule in the
model file: every record would read "no data" there, and a backtest would measure a rule that
never fires (AUC 0.5) instead of saying the name is wrong. JSONL records carry only the
properties they have, so a property no record has is a warning there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click

from config.errors import Problem, ProblemsError
from config.model_refs import unknown_properties
from config.record_files import read_columns, read_records
from scoring.model import ScoringModel
from scoring.types import Record

IdColumnOption = click.option(
    "--id-column",
    help="CSV input: the column holding each record's id (e.g. 'Prospect ID'; default: a "
    "column named id, else the row number).",
)


def read_input(
    *,
    model: ScoringModel,
    model_path: Path,
    input_path: Path,
    on_problem: Callable[[Problem], None],
    id_column: str | None = None,
) -> list[Record]:
    """Every record of `input_path`, ids from `id_column` when given; a `ProblemsError` when
    the model reads a property that is not a column of a CSV file (before reading a row)."""
    columns = read_columns(input_path)
    if columns is not None:
        where = f"in the columns of {input_path.name}"
        problems = unknown_properties(model, model_path, columns, where)
        if problems:
            raise ProblemsError(problems)
    records = list(
        read_records(input_path, kind=model.object, on_problem=on_problem, id_column=id_column)
    )
    if columns is None:
        seen: set[str] = set()
        for record in records:
            seen.update(record.properties)
        where = f"in any record of {input_path.name}"
        for problem in unknown_properties(model, model_path, seen, where):
            on_problem(replace(problem, message=problem.message + "; rules on it never fire"))
    return records
