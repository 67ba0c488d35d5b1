"""Timestamps and value coercion as HubSpot writes and reads them.

HubSpot sends datetimes as ISO-8601 strings with milliseconds and `Z`
("2026-11-20T10:15:30.123Z") and accepts either that form or epoch milliseconds in filters and
writes. Inside the sandbox datetimes are integers of epoch milliseconds: cheap to compare, sort and
store; they are formatted only when a response is built.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

_DAY_MS = 86_400_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@lru_cache(maxsize=8192)
def _day_prefix(day: int) -> str:
    return (_EPOCH + dt.timedelta(days=day)).strftime("%Y-%m-%dT")


#: "HH:MM:" for every minute of a day; formatting is the hot path of every response.
_MINUTES = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440))


@lru_cache(maxsize=1 << 16)  # each reply renders every record's creation and modification time
def iso_ms(ms: int) -> str:
    """Epoch milliseconds as HubSpot's ISO form, e.g. `2026-11-20T10:15:30.123Z`."""
    day, rest = divmod(ms, _DAY_MS)
    minute, rest = divmod(rest, 60_000)
    return f"{_day_prefix(day)}{_MINUTES[minute]}{rest // 1000:02d}.{rest % 1000:03d}Z"


def to_ms(moment: dt.datetime) -> int:
    """A timezone-aware datetime as epoch milliseconds."""
    return round(moment.timestamp() * 1000)


def from_ms(ms: int) -> dt.datetime:
    """Epoch milliseconds as a UTC datetime."""
    return _EPOCH + dt.timedelta(milliseconds=ms)


def parse_datetime_ms(value: object) -> int | None:
    """Epoch milliseconds from what HubSpot accepts for a datetime: epoch ms (int or digit string),
    an ISO-8601 datetime, or a `YYYY-MM-DD` date (midnight UTC). None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return to_ms(parsed)


def parse_number(value: object) -> float | None:
    """A number from a HubSpot number value (string or JSON number); None when not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def number_text(value: float) -> str:
    """A number as HubSpot echoes it: integers without a decimal point."""
    if value.is_integer():
        return str(int(value))
    return repr(value)
