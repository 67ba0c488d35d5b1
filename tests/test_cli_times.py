"""Every command's time option (`--now`, `--as-of`) goes through one parser with one error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cli.main import main
from cli.times import parse_time

MODEL = "config/examples/models/hubspot-contacts.yaml"
RECORDS = "config/examples/records/hubspot-contacts.jsonl"
EXPECTED = (
    "is not an ISO-8601 time; write a date (2026-11-20) or a date and time (2026-11-20T10:00:00Z)"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, tzinfo=UTC)),
        ("2026-11-20T12:30:00+02:00", datetime(2026, 11, 20, 10, 30, tzinfo=UTC)),
        ("2026-11-20T10:00", datetime(2026, 11, 20, 10, tzinfo=UTC)),
        (" 2026-11-20T10:00:00.250Z ", datetime(2026, 11, 20, 10, 0, 0, 250_000, tzinfo=UTC)),
    ],
)
def test_iso_times_become_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


OFFLINE = ["--model", MODEL, "--input", RECORDS]


@pytest.mark.parametrize(
    "args",
    [
        ["score", *OFFLINE, "--now", "2026-13-01"],
        ["explain", "7", *OFFLINE, "--now", "tomorrow"],
        ["preview", "--model", MODEL, "--now", "2026-11-31"],
        ["sync", "--now", "yesterday"],
        ["backtest", *OFFLINE, "--as-of", "Q3"],
        ["calibrate", *OFFLINE, "--outcome", "won", "--out", "new.yaml", "--as-of", "2026-02-30"],
    ],
)
def test_a_bad_time_is_one_located_line_and_exit_2(args, capsys) -> None:
    option, value = args[-2:]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {option}: {value!r} {EXPECTED}\n"
    assert captured.out == ""
