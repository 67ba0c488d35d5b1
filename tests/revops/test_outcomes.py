from datetime import UTC, datetime

import pytest

from config.errors import UserError
from revops.outcomes import label, parse_date, parse_outcome, point_in_time_lines
from scoring.types import Event, Record

NOW = datetime(2026, 1, 31, tzinfo=UTC)


def day(d: int) -> datetime:
    return datetime(2026, 1, d, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("Y", True), ("1", True), ("TRUE", True), ("closedwon", True),
     ("no", False), ("0", False), ("", False), (None, False), ("False", False),
     ("maybe", None), ("2", None), (True, True)],
)  # fmt: skip
def test_parse_outcome(raw, expected):
    assert parse_outcome(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-05", day(5)),
        ("2026-01-05T10:00:00Z", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("2026-01-05T12:00:00+02:00", datetime(2026, 1, 5, 10, tzinfo=UTC)),
        ("1767225600000", datetime(2026, 1, 1, tzinfo=UTC)),
        ("", None),
        ("soon", None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def record(rid: str, converted: str, when: str, *event_days: int) -> Record:
    events = [Event("page_view", day(d), {"url": f"/p{d}"}) for d in event_days]
    return Record(rid, "contact", {"won": converted, "won_at": when}, events)


def test_point_in_time_guard_drops_and_counts_events_after_the_outcome():
    records = [
        record("1", "yes", "2026-01-10", 2, 9, 10, 11, 20),  # 11 and 20 come after the sale
        record("2", "no", "", 3, 25),  # no outcome date: keeps everything up to as-of
        record("3", "yes", "2026-01-04", 5),  # its only event is after the sale
        record("4", "no", "2026-01-30", 1, 29),
    ]
    out = label(records, outcome="won", outcome_date="won_at", as_of=day(22), default_now=NOW)
    assert out.outcomes == (True, False, True, False)
    assert out.now == day(22)
    assert [[e.at.day for e in r.events] for r in out.records] == [[2, 9, 10], [3], [], [1]]
    assert (out.events_after_outcome, out.records_after_outcome) == (3, 2)
    assert out.events_after_as_of == 2  # days 25 and 29
    assert out.records[1] is not records[1] and out.outcome_dates[0] == day(10)


def test_without_as_of_now_is_the_latest_date_in_the_data():
    records = [record("1", "yes", "2026-01-10", 2), record("2", "no", "", 7)]
    out = label(records, outcome="won", outcome_date="won_at", default_now=NOW)
    assert out.now == day(10)
    assert out.events_after_outcome == out.events_after_as_of == 0
    assert out.records[0] is records[0]
    bare = label([Record("1", "contact", {"won": "no"})], outcome="won", default_now=NOW)
    assert bare.now == NOW


def test_outcome_errors_name_the_column_and_the_bad_values():
    records = [record("1", "maybe", ""), record("2", "maybe", ""), record("3", "yes", "")]
    with pytest.raises(UserError, match=r"data.csv column 'won': .*'maybe' \(2x\)"):
        label(records, outcome="won", default_now=NOW, source="data.csv")
    with pytest.raises(UserError, match=r"data.csv: 3 record\(s\) have no outcome column 'y'"):
        label(records, outcome="y", default_now=NOW, source="data.csv")


def test_a_date_column_no_record_has_is_an_error_naming_the_option():
    # a typo in --outcome-date or --created-column must not silently score every record as of
    # one moment
    records = [record("1", "yes", "2026-01-10"), record("2", "no", "")]
    with pytest.raises(UserError) as raised:
        label(records, outcome="won", outcome_date="won_on", default_now=NOW, source="data.csv")
    assert str(raised.value) == (
        "data.csv: no record has the column 'won_on' given to --outcome-date; "
        "the columns are won, won_at"
    )
    with pytest.raises(UserError) as raised:
        label(records, outcome="won", created="created", default_now=NOW, source="data.csv")
    assert str(raised.value) == (
        "data.csv: no record has the column 'created' given to --created-column; "
        "the columns are won, won_at"
    )


def test_a_future_as_of_or_data_date_is_brought_back_to_now_and_said():
    meeting = Event("meeting", day(30))  # booked ahead: after "now" (day 20)
    records = [
        Record("1", "contact", {"won": "no"}, (Event("page_view", day(2)), meeting)),
        Record("2", "contact", {"won": "yes"}, ()),
    ]
    asked = label(records, outcome="won", as_of=day(31), default_now=day(20))
    assert (asked.now, asked.clamped_from) == (day(20), (day(31), "as_of"))
    assert asked.moments() == (day(20), day(20))
    assert asked.events_after_as_of == 1
    assert point_in_time_lines(asked, [])[1] == (
        "--as-of (2026-01-31T00:00:00+00:00) is in the future: records are scored no later "
        "than now (2026-01-20T00:00:00+00:00)"
    )
    found = label(records, outcome="won", default_now=day(20))
    assert (found.now, found.clamped_from) == (day(20), (day(30), "data"))
    assert point_in_time_lines(found, [])[1].startswith(
        "the latest date in the data (2026-01-30T00:00:00+00:00) is in the future"
    )
    within = label(records, outcome="won", as_of=day(10), default_now=day(20))
    assert (within.now, within.clamped_from) == (day(10), None)
