"""Tolerant coercion of the values CRMs send."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.coerce import (
    age_days,
    epoch_micros,
    round_half_up,
    to_bool,
    to_datetime,
    to_domain,
    to_number,
    to_text,
)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("1,000", 1000.0),
        ("1000.0", 1000.0),
        ("500+", 500.0),
        ("25-50", 25.0),
        ("1,000-5,000", 1000.0),
        ("1000+", 1000.0),
        ("$1,200.50", 1200.5),
        ("€ 3 500", 3500.0),
        ("15%", 15.0),
        ("10k", 10000.0),
        ("2.5M", 2500000.0),
        ("-5", -5.0),
        ("  42 ", 42.0),
        ("1e3", 1000.0),
        (7, 7.0),
        (7.5, 7.5),
        ("", None),
        (None, None),
        ("N/A", None),
        ("unknown", None),
        ("abc", None),
        ("12 apples", None),
        ("nan", None),
        ("inf", None),
        (float("nan"), None),
        (float("inf"), None),
        (True, None),
        ([1], None),
        ({"a": 1}, None),
    ],
)
def test_to_number(raw, number):
    assert to_number(raw) == number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-20T10:15:30.123Z", datetime(2026, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)),
        ("2026-11-20T10:15:30+02:00", datetime(2026, 11, 20, 8, 15, 30, tzinfo=UTC)),
        ("2026-11-20 10:15:30", datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("1763634930123", datetime(2025, 11, 20, 10, 35, 30, 123000, tzinfo=UTC)),
        ("1763634930", datetime(2025, 11, 20, 10, 35, 30, tzinfo=UTC)),
        (1763634930123, datetime(2025, 11, 20, 10, 35, 30, 123000, tzinfo=UTC)),
        (date(2026, 1, 2), datetime(2026, 1, 2, tzinfo=UTC)),
        (datetime(2026, 1, 2, 3), datetime(2026, 1, 2, 3, tzinfo=UTC)),
        (
            datetime(2026, 1, 2, 3, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 1, 2, 2, tzinfo=UTC),
        ),
        ("2026-11-20T10:15:30.000+0000", datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)),
        (" 2026-11-20 ", datetime(2026, 11, 20, tzinfo=UTC)),
        ("20261120", datetime(2026, 11, 20, tzinfo=UTC)),
        ("-86400", datetime(1969, 12, 31, tzinfo=UTC)),
        ("", None),
        ("N/A", None),
        ("yesterday", None),
        ("2026-13-45", None),
        (None, None),
        (True, None),
        (float("nan"), None),
        ("99999999999999999999999", None),
        ("²", None),  # a digit int() does not read
        ("0001-01-01T00:00:00+01:00", None),  # before the first UTC datetime
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), None),
    ],
)
def test_to_datetime(raw, expected):
    assert to_datetime(raw) == expected


NOW = datetime(2026, 11, 20, 12, 0, 0, 250_000, tzinfo=UTC)
dates = st.one_of(
    st.integers(min_value=-(10**13), max_value=10**14).map(str),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
        lambda d: d.isoformat()
    ),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])).map(
        lambda d: d.isoformat().replace("+00:00", "Z")
    ),
    st.sampled_from(
        ["20261120", "20261399", "²", "", "N/A", "n/a", "-", "--", "nan", " 2026-11-20 "]
    ),
    st.sampled_from(
        ["1763634930123", "-86400", "2026-11-20T10:15:30+02:00", "0001-01-01T00:00:00+01:00"]
    ),
    st.text(max_size=12),
    st.integers(),
    st.floats(),
    st.none(),
)


@given(dates)
def test_age_days_is_the_age_of_to_datetime_to_the_last_bit(raw):
    when = to_datetime(raw)
    expected = None if when is None else (NOW - when).total_seconds() / 86400.0
    assert age_days(raw, NOW, epoch_micros(NOW)) == expected


def test_age_days_of_epoch_milliseconds():
    # 2026-11-19T12:00:00.250Z: one day before NOW
    assert age_days("1795089600250", NOW, epoch_micros(NOW)) == 1.0


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("Jo@Example.COM", "example.com"),
        ("Jo <jo@sub.example.com>", "sub.example.com"),
        ("https://www.Example.com/path?q=1", "example.com"),
        ("www.example.com", "example.com"),
        ("example.com:8080", "example.com"),
        ("http://user@example.com/", "example.com"),
        ("", None),
        (None, None),
        ("@", None),
    ],
)
def test_to_domain(raw, domain):
    assert to_domain(raw) == domain


@pytest.mark.parametrize(
    ("raw", "text"),
    [(" Software ", "software"), ("N/A", None), ("", None), (5, "5"), (5.0, "5"), (2.5, "2.5"),
     (True, "true"), (["A", None, "b"], "a;b"), ([], None), ({}, None), (float("nan"), None)],
)  # fmt: skip
def test_to_text(raw, text):
    assert to_text(raw) == text


@pytest.mark.parametrize(
    ("raw", "value"),
    [("true", True), ("Yes", True), ("1", True), (1, True), ("false", False), ("no", False),
     (0, False), ("maybe", None), (None, None)],
)  # fmt: skip
def test_to_bool(raw, value):
    assert to_bool(raw) is value


@pytest.mark.parametrize(
    ("number", "rounded"),
    [
        (0.5, 1),
        (1.5, 2),
        (2.5, 3),
        (2.4999, 2),
        (-0.5, -1),
        (-1.4, -1),
        (0.0, 0),
        (float("nan"), 0),
    ],
)
def test_round_half_up(number, rounded):
    assert round_half_up(number) == rounded
