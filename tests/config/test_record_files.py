# ruff: noqa: E501  (test tables hold whole lines of input files)
"""Reading records from JSONL and CSV exports; bad lines are reported and skipped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.errors import Problem, ProblemsError
from config.record_files import read_records
from scoring.types import Event


def _read(path, kind="contact"):
    problems: list[Problem] = []
    records = list(read_records(path, kind, on_problem=problems.append))
    return records, [str(p) for p in problems]


def test_jsonl_records_with_events(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text(
        '{"id": "1", "properties": {"email": "a@x.io"}, "events": [{"type": "page_view", '
        '"at": "2026-11-20T10:15:30.123Z", "attributes": {"url": "/pricing"}}]}\n'
        "\n"
        "# a comment line\n"
        '{"id": 2, "properties": {"n": 5}, "events": [{"type": "meeting", "at": 1763634930123}],'
        ' "updated_at": "2026-11-19", "outputs": {"score": "40"}, "kind": "lead"}\n',
        encoding="utf-8",
    )
    records, problems = _read(path)
    assert problems == []
    assert [(r.id, r.kind) for r in records] == [("1", "contact"), ("2", "lead")]
    assert records[0].events == (
        Event(
            "page_view", datetime(2026, 11, 20, 10, 15, 30, 123000, tzinfo=UTC), {"url": "/pricing"}
        ),
    )
    assert records[1].events[0].at == datetime(2025, 11, 20, 10, 35, 30, 123000, tzinfo=UTC)
    assert records[1].updated_at == datetime(2026, 11, 19, tzinfo=UTC)
    assert records[1].outputs == {"score": "40"}


def test_bad_jsonl_lines_are_reported_and_skipped(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "ok1", "properties": {}}\n'
        "{not json\n"
        '["a list"]\n'
        '{"properties": {}}\n'
        '{"id": "x", "properties": "nope"}\n'
        '{"id": "y", "kind": "person"}\n'
        '{"id": "ok2", "events": [{"type": "page_view", "at": "soon"}, {"at": "2026-01-01"},'
        ' {"type": "meeting", "at": "2026-01-01", "attributes": [1]}, {"type": "call", "at": "2026-01-02"}]}\n',
        encoding="utf-8",
    )
    records, problems = _read(path)
    assert [r.id for r in records] == ["ok1", "ok2"]
    assert len(records[1].events) == 1
    source = str(path)
    assert problems == [
        f"{source}:2:2: not valid JSON: Expecting property name enclosed in double quotes; line skipped",
        f"{source}:3: expected a JSON object with 'id' and 'properties'; line skipped",
        f"{source}:4: missing 'id' (a string or number); line skipped",
        f"{source}:5: 'properties' must be an object; line skipped",
        f"{source}:6: unknown kind 'person' (valid: contact, lead, company, account); line skipped",
        f"{source}:7: events[0]: 'at' is not a date ('soon'); event skipped",
        f"{source}:7: events[1]: expected an object with a 'type'; event skipped",
        f"{source}:7: events[2]: 'attributes' must be an object; event skipped",
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_are_detected(tmp_path, delimiter):
    path = tmp_path / "export.csv"
    rows = [["Id", "Title", "NumberOfEmployees"], ["00Q1", "VP, Sales" if delimiter != "," else "VP Sales", "1,000"],
            ["00Q2", "CEO", ""]]  # fmt: skip
    if delimiter == ",":
        rows[1][2] = '"1,000"'
    path.write_text("\n".join(delimiter.join(r) for r in rows) + "\n", encoding="utf-8")
    records, problems = _read(path, "lead")
    assert problems == []
    assert [r.id for r in records] == ["00Q1", "00Q2"]
    assert records[0].properties["NumberOfEmployees"] == "1,000"
    assert records[0].kind == "lead"
    assert records[1].properties == {"Id": "00Q2", "Title": "CEO", "NumberOfEmployees": ""}


def test_csv_without_id_uses_row_numbers_and_skips_bad_rows(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "\ufeffemail,jobtitle\na@x.io,CEO\nb@x.io,VP,extra\n\nc@x.io,CTO\n", encoding="utf-8"
    )
    records, problems = _read(path)
    assert [(r.id, r.properties["email"]) for r in records] == [("1", "a@x.io"), ("3", "c@x.io")]
    assert problems == [f"{path}:3: 3 fields but the header has 2; row skipped"]


def test_format_chosen_by_content_when_suffix_unknown(tmp_path):
    path = tmp_path / "export.data"
    path.write_text('{"id": "1", "properties": {"a": 1}}\n', encoding="utf-8")
    assert [r.id for r in read_records(path)] == ["1"]


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(ProblemsError, match="file not found"):
        list(read_records(tmp_path / "nope.jsonl"))


def test_bundled_example_records_read_cleanly():
    for name, count in (
        ("hubspot-contacts.jsonl", 40),
        ("salesforce-leads.jsonl", 30),
        ("hubspot-contacts.csv", 12),
    ):
        records, problems = _read(f"config/examples/records/{name}")
        assert (len(records), problems) == (count, [])
    events = sum(
        len(r.events) for r in read_records("config/examples/records/hubspot-contacts.jsonl")
    )
    assert events > 200
