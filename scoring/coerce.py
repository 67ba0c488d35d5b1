"""Tolerant coercion of CRM property values.

CRMs send almost everything as strings: "1,000", "500+", HubSpot's dropdown ranges such as
"25-50", epoch milliseconds, ISO dates with a trailing Z, "" and "N/A". Each function here turns
one raw value into a number, a datetime or folded text, or returns None when the value carries no
usable data. None of them raises, whatever they are given.
"""

from __future__ import annotations

import math
import re
import weakref
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

#: Values that mean "no data" whatever the property.
MISSING_TOKENS: frozenset[str] = frozenset(
    {"", "n/a", "na", "null", "none", "nil", "-", "--", "unknown", "undefined", "nan", "#n/a"}
)

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9, "mm": 1e6}
_CURRENCY = str.maketrans("", "", "$€£¥ ,_\u00a0'")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Epoch values above this are milliseconds (1e11 seconds is the year 5138).
_MILLIS_THRESHOLD = 1e11
_UNSET: object = object()
_T = TypeVar("_T")
#: Entries of the text -> number memo at most (it starts over when full).
_MEMO_LIMIT = 65536


class Memo(dict[Any, Any]):
    """A memo `clear_memos` empties; it lives as long as its owner (a compiled pattern or
    model) holds it."""

    __slots__ = ("__weakref__",)


#: Every live memo, by id (a memo compares as a dict, so it cannot be a set member).
_MEMOS: weakref.WeakValueDictionary[int, Memo] = weakref.WeakValueDictionary()


def new_memo() -> Memo:
    """An empty memo that `clear_memos` empties too (e.g. `scoring.patterns`' per-pattern
    memos, the page scorer's per-property memos)."""
    memo = Memo()
    _MEMOS[id(memo)] = memo
    return memo


#: Numeric CRM values repeat a lot (dropdowns, counts): a text -> number memo, bounded so that a
#: long run over unique values cannot grow it without limit. (Dates are mostly unique: no memo.)
_NUMBER_MEMO: dict[str, float | None] = new_memo()


def clear_memos() -> None:
    """Forget memoized parses and pattern tests (benchmarks use it to measure with cold
    caches)."""
    for memo in list(_MEMOS.values()):
        memo.clear()


def _remember(memo: dict[str, _T], key: str, value: _T) -> _T:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


def to_text(value: object) -> str | None:
    """The value as case-folded, trimmed text, or None when missing."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().casefold()
        return None if text in MISSING_TOKENS else text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return None if not value else to_text(str(value))
    if isinstance(value, list | tuple | set | frozenset):
        # Multi-select values: HubSpot joins them with ';' already, Salesforce too.
        parts = [t for t in (to_text(v) for v in value) if t is not None]
        return ";".join(parts) if parts else None
    try:
        text = str(value).strip().casefold()
    except Exception:
        return None
    return None if text in MISSING_TOKENS else text


def to_number(value: object) -> float | None:
    """The value as a finite float, or None.

    Understands thousands separators and currency signs ("$1,200"), open ranges ("500+", taken as
    500), dropdown ranges ("25-50", taken as the lower bound 25 so `gte` thresholds line up with
    HubSpot's band edges), percentages ("15%") and k/m/b suffixes ("10k").
    """
    if type(value) is str:
        cached = _NUMBER_MEMO.get(value, _UNSET)
        if cached is _UNSET:
            cached = _remember(_NUMBER_MEMO, value, _text_to_number(value))
        return cached  # type: ignore[return-value]
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _text_to_number(value)
    return None


def _text_to_number(value: str) -> float | None:
    text = value.strip()
    if not text or text.casefold() in MISSING_TOKENS:
        return None
    try:
        number = float(text)
    except ValueError:
        return _parse_loose_number(text)
    return number if math.isfinite(number) else None


def _parse_loose_number(text: str) -> float | None:
    cleaned = text.translate(_CURRENCY).casefold().rstrip("%+")
    match = _NUMBER.match(cleaned)
    if match is None:
        return None
    try:
        number = float(match.group())
    except ValueError:
        return None
    rest = cleaned[match.end() :]
    if rest in _SUFFIX:
        number *= _SUFFIX[rest]
    elif rest and not rest.startswith(("-", "–", "to", "/")):
        return None
    return number if math.isfinite(number) else None


def to_datetime(value: object) -> datetime | None:
    """The value as a timezone-aware UTC datetime, or None.

    Accepts datetimes (naive ones are taken as UTC), dates, epoch seconds or milliseconds (as
    numbers or digit strings, as HubSpot sends some timestamps), `YYYYMMDD`, and ISO-8601 text
    with or without a time, fraction or `Z`.
    """
    if type(value) is str:
        return _text_to_datetime(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else _in_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int):
        return _from_epoch_int(value)
    if isinstance(value, float):
        return _from_epoch(value)
    if isinstance(value, str):
        return _text_to_datetime(value)
    return None


def _text_to_datetime(value: str) -> datetime | None:
    # Fast path first: the forms CRMs send (epoch digits, clean ISO-8601) parse in C.
    if value.isdecimal():  # what int() reads (isdigit() also holds for "²")
        return _from_digits(value)
    if value in MISSING_TOKENS:  # "", "n/a": not a date, without a failed parse
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return _loose_datetime(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else _in_utc(parsed)


def _in_utc(value: datetime) -> datetime | None:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before the first UTC datetime
        return None


#: Epoch milliseconds below this (the year 2100) map exactly to whole milliseconds through
#: `datetime.fromtimestamp(number / 1000)` (see `_from_epoch_int`).
_EXACT_MILLIS_LIMIT = 4_102_444_800_000
_ONE_MICROSECOND = timedelta(microseconds=1)


#: The last (time, epoch microseconds) `epoch_micros` computed: `score` asks again per record.
_LAST_MICROS: tuple[datetime | None, int] = (None, 0)


def epoch_micros(now: datetime) -> int:
    """`now` as whole microseconds since the epoch (what `age_days` takes beside it)."""
    global _LAST_MICROS  # noqa: PLW0603  a one-entry cache; a race only recomputes it
    last = _LAST_MICROS
    if last[0] is now:
        return last[1]
    micros = (now - _EPOCH) // _ONE_MICROSECOND
    _LAST_MICROS = (now, micros)
    return micros


def age_days(value: object, now: datetime, now_micros: int) -> float | None:
    """Days from `to_datetime(value)` to `now` as `(now - date).total_seconds() / 86400`
    computes them (the same float), or None; `now_micros` is `epoch_micros(now)`.

    Epoch digits, as HubSpot sends many dates, skip the datetime: `total_seconds` divides
    whole microseconds by a million, and so does this."""
    if type(value) is not str:
        when = to_datetime(value)
    elif value in MISSING_TOKENS:  # "" and the like: no date, and no failed parse to pay
        return None
    elif value.isdecimal():
        if len(value) != 8:
            number = int(value)
            if number < _MILLIS_THRESHOLD:
                return (now_micros - number * 1_000_000) / 1_000_000 / 86400.0
            if number < _EXACT_MILLIS_LIMIT:
                return (now_micros - number * 1000) / 1_000_000 / 86400.0
        when = _from_digits(value)
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            when = _loose_datetime(value)
        else:
            if parsed.tzinfo is None:
                return (now - parsed.replace(tzinfo=UTC)).total_seconds() / 86400.0
            if parsed.tzinfo is UTC:
                return (now - parsed).total_seconds() / 86400.0
            when = _in_utc(parsed)
    return None if when is None else (now - when).total_seconds() / 86400.0


def _loose_datetime(value: str) -> datetime | None:
    text = value.strip()
    if text and text != value:
        return _text_to_datetime(text)  # padded: try again trimmed
    if text[:1] == "-" and text[1:].isdecimal():
        return _from_epoch_int(int(text))  # before 1970
    return None  # empty, a placeholder such as N/A, or not a date


def _from_digits(text: str) -> datetime | None:
    if len(text) == 8:  # YYYYMMDD, as spreadsheets export dates; no epoch value looks like it
        try:
            return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)
        except ValueError:
            pass
    return _from_epoch_int(int(text))


def _from_epoch_int(number: int) -> datetime | None:
    # number / 1000 is within 0.5 us of the exact instant for any date before 2106, so
    # fromtimestamp's rounding to microseconds gives the exact millisecond.
    try:
        if abs(number) >= _MILLIS_THRESHOLD:
            return datetime.fromtimestamp(number / 1000, UTC)
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _from_epoch(number: float) -> datetime | None:
    if not math.isfinite(number):
        return None
    seconds = number / 1000.0 if abs(number) >= _MILLIS_THRESHOLD else number
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def to_bool(value: object) -> bool | None:
    """The value as a boolean ("true", "yes", "1", "on" and their opposites), or None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value != 0
    text = to_text(value)
    if text in {"true", "yes", "y", "1", "on", "checked"}:
        return True
    if text in {"false", "no", "n", "0", "off", "unchecked"}:
        return False
    return None


def to_domain(value: object) -> str | None:
    """The domain of an email address or website URL, lower case and without `www.`."""
    text = to_text(value)
    if text is None:
        return None
    if "://" in text:
        text = text.split("://", 1)[1]
    elif "@" in text:
        text = text[text.rfind("@") + 1 :]
        plain = text.replace(".", "").replace("-", "")
        if text.isascii() and plain.isalnum() and text[0] != "." and text[-1] != ".":
            return text.removeprefix("www.") or None  # a plain email domain: the common case
    for separator in "/?#":
        text = text.split(separator, 1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0]
    text = text.strip().strip(".>")
    if text.startswith("www."):
        text = text[4:]
    return text or None


def round_half_up(number: float) -> int:
    """Round to the nearest integer, halves away from zero (42.5 -> 43), as users expect."""
    if not math.isfinite(number):
        return 0
    return math.floor(abs(number) + 0.5) * (1 if number >= 0 else -1)
