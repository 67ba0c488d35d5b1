"""Datetime and value formats of the Salesforce REST API.

Datetimes are kept as epoch seconds: Salesforce stores them without milliseconds and returns
them as `2026-11-20T10:15:30.000+0000`. Dates are kept as `YYYY-MM-DD` strings.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)


def to_epoch(moment: dt.datetime) -> int:
    """Epoch seconds of an aware datetime (sub-seconds dropped, as Salesforce stores them)."""
    return int(moment.timestamp())


def from_epoch(seconds: int) -> dt.datetime:
    """The aware UTC datetime of epoch seconds."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def format_datetime(seconds: int) -> str:
    """The REST API form of a datetime, e.g. `2026-11-20T10:15:30.000+0000`."""
    return from_epoch(seconds).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def format_date(seconds: int) -> str:
    """The `YYYY-MM-DD` date (UTC) of epoch seconds."""
    return _day(seconds // 86_400)


@functools.lru_cache(maxsize=8192)
def _day(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def parse_iso(text: str) -> int | None:
    """Epoch seconds of an ISO-8601 datetime as clients send it (offset optional: UTC)."""
    match = _ISO.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    zone = match.group(8)
    offset = dt.timedelta(0)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        moment = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:
        return None
    return to_epoch(moment - offset)
