"""Read records from CRM exports: JSONL (with events) or CSV (properties only).

JSONL: one object per line, `{"id": "...", "properties": {...}, "events": [{"type": "...",
"at": "<ISO-8601 or epoch ms>", "attributes": {...}}]}`; optional `kind`, `updated_at` and
`outputs`. CSV: one record per row, columns are properties, the delimiter is detected among
`,` `;` tab and `|`, the record id comes from the column named by `id_column` (for example
`Prospect ID`), else an `id` column (any case), else the row number.

A bad line or row is reported as `file:line: what is wrong` to `on_problem` (by default logged as
a warning) and skipped; the rest of the file is still read.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from config.errors import Problem, ProblemsError
from scoring.coerce import to_datetime
from scoring.types import RECORD_KINDS, Event, Record

log = logging.getLogger(__name__)

ProblemSink = Callable[[Problem], None]
_DELIMITERS = ",;\t|"
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _warn(problem: Problem) -> None:
    log.warning("%s", problem)


def read_records(
    path: str | Path,
    kind: str = "contact",
    *,
    on_problem: ProblemSink | None = None,
    id_column: str | None = None,
) -> Iterator[Record]:
    """Yield the records in `path` (JSONL or CSV, chosen by suffix, else by content).

    `id_column` names the CSV column holding each record's id; a file without it is a
    `ProblemsError` naming the columns (with a suggestion). JSONL records carry their `id`.
    """
    report = on_problem or _warn
    source = str(path)
    with _open(path) as handle:
        head = handle.read(8192)
        handle.seek(0)
        if _is_jsonl(source, head):
            yield from _jsonl(handle, source, kind, report)
        else:
            yield from _csv(handle, source, kind, head, report, id_name=id_column)


def read_columns(path: str | Path) -> tuple[str, ...] | None:
    """The header of a CSV file (names trimmed), or None for JSONL, whose records each carry
    their own properties."""
    source = str(path)
    with _open(path) as handle:
        head = handle.read(8192)
        handle.seek(0)
        if _is_jsonl(source, head):
            return None
        try:
            header = next(csv.reader(handle, delimiter=_delimiter(head)))
        except (StopIteration, csv.Error):
            return ()
    return tuple(c.strip() for c in header)


def _open(path: str | Path) -> io.TextIOWrapper:
    source = str(path)
    try:
        return open(path, encoding="utf-8-sig", errors="replace", newline="")
    except FileNotFoundError:
        raise ProblemsError([Problem(source, None, None, "", "file not found")]) from None
    except OSError as exc:
        raise ProblemsError(
            [Problem(source, None, None, "", f"cannot read: {exc.strerror}")]
        ) from None


def _delimiter(head: str) -> str:
    try:
        return csv.Sniffer().sniff(head, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _is_jsonl(source: str, head: str) -> bool:
    suffix = Path(source).suffix.casefold()
    if suffix in _JSONL_SUFFIXES:
        return True
    if suffix in (".csv", ".tsv", ".txt"):
        return False
    return head.lstrip().startswith("{")


def _jsonl(handle: io.TextIOBase, source: str, kind: str, report: ProblemSink) -> Iterator[Record]:
    for number, line in enumerate(handle, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            report(
                Problem(source, number, exc.colno, "", f"not valid JSON: {exc.msg}; line skipped")
            )
            continue

        def say(message: str, line: int = number) -> None:
            report(Problem(source, line, None, "", message))

        record = parse_record(data, kind, say)
        if record is not None:
            yield record


def parse_record(
    data: object, kind: str = "contact", report: Callable[[str], None] | None = None
) -> Record | None:
    """One JSON record object as a `Record`; None (after reporting why) when unusable.

    Bad events are reported and dropped; the record keeps its other events.
    """

    def say(message: str) -> None:
        if report is not None:
            report(message)

    if not isinstance(data, Mapping):
        say("expected a JSON object with 'id' and 'properties'; line skipped")
        return None
    record_id = data.get("id")
    if isinstance(record_id, bool) or not isinstance(record_id, str | int) or str(record_id) == "":
        say("missing 'id' (a string or number); line skipped")
        return None
    properties = data.get("properties", {})
    if properties is None:
        properties = {}
    if not isinstance(properties, Mapping):
        say("'properties' must be an object; line skipped")
        return None
    record_kind = data.get("kind", kind)
    if record_kind not in RECORD_KINDS:
        say(f"unknown kind {record_kind!r} (valid: {', '.join(RECORD_KINDS)}); line skipped")
        return None
    events = _events(data.get("events") or [], say)
    outputs = data.get("outputs") or {}
    return Record(
        id=str(record_id),
        kind=str(record_kind),
        properties=dict(properties),
        events=tuple(events),
        updated_at=to_datetime(data.get("updated_at")),
        outputs=dict(outputs) if isinstance(outputs, Mapping) else {},
    )


def _events(raw: object, say: Callable[[str], None]) -> list[Event]:
    if not isinstance(raw, list):
        say("'events' must be a list; events ignored")
        return []
    events: list[Event] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            say(f"events[{index}]: expected an object with a 'type'; event skipped")
            continue
        at = to_datetime(item.get("at"))
        if at is None:
            say(f"events[{index}]: 'at' is not a date ({item.get('at')!r}); event skipped")
            continue
        attributes = item.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            say(f"events[{index}]: 'attributes' must be an object; event skipped")
            continue
        events.append(Event(type=str(item["type"]), at=at, attributes=dict(attributes)))
    return events


def _csv(  # noqa: PLR0913  the file, what to read and where to report
    handle: io.TextIOBase,
    source: str,
    kind: str,
    head: str,
    report: ProblemSink,
    *,
    id_name: str | None,
) -> Iterator[Record]:
    reader = csv.reader(handle, delimiter=_delimiter(head))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        report(Problem(source, 1, None, "", f"cannot read the header row: {exc}"))
        return
    columns = [c.strip() for c in header]
    id_column = _id_index(columns, id_name, source)
    row_number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            report(Problem(source, reader.line_num, None, "", f"bad CSV row: {exc}; row skipped"))
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        row_number += 1
        if len(row) != len(columns):
            report(
                Problem(
                    source,
                    reader.line_num,
                    None,
                    "",
                    f"{len(row)} fields but the header has {len(columns)}; row skipped",
                )
            )
            continue
        properties = dict(zip(columns, row, strict=True))
        record_id = row[id_column].strip() if id_column is not None else ""
        yield Record(id=record_id or str(row_number), kind=kind, properties=properties)


def _id_index(columns: list[str], name: str | None, source: str) -> int | None:
    """Where the record ids are: the named column, else one called `id` (any case)."""
    if name is None:
        return next((i for i, c in enumerate(columns) if c.casefold() == "id"), None)
    if name.strip() in columns:
        return columns.index(name.strip())
    folded = [c for c in columns if c.casefold() == name.strip().casefold()]
    close = folded or difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    more = len(columns) - 12
    shown = ", ".join(columns[:12]) + (f" and {more} more" if more > 0 else "")
    raise ProblemsError(
        [Problem(source, 1, None, "", f"no id column '{name}'{hint}; the columns are {shown}")]
    )
