"""Values between leadsync and HubSpot: property names, definitions, formats and parsing.

HubSpot returns every property value as a string. Writes follow the Properties API rules:
numbers as decimal strings, booleans as "true"/"false", datetimes as ISO 8601 in UTC with
milliseconds (HubSpot also accepts epoch milliseconds; ISO is what it returns, so written and
read values compare equal), enumerations as the option's internal value, and "" to clear.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import OutputField, OutputType
from connectors.outputs import output_fields

__all__ = [
    "GROUP_LABEL",
    "GROUP_NAME",
    "LIFECYCLE_STAGES",
    "OUTPUT_TYPES",
    "PREFIX",
    "TEXT_LIMIT",
    "crm_name",
    "format_value",
    "iso_ms",
    "parse_ms",
    "parse_time",
    "property_definition",
    "same_value",
]

PREFIX = "leadsync_"
GROUP_NAME = "leadsync"
GROUP_LABEL = "leadsync"
#: HubSpot's limit on a string property value.
TEXT_LIMIT = 65_536
#: HubSpot's default lifecycle stages in order; leadsync only ever moves a contact forward.
LIFECYCLE_STAGES: tuple[str, ...] = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
#: Canonical output name -> its type (independent of the model's grades and labels).
OUTPUT_TYPES: Mapping[str, OutputType] = {f.name: f.type for f in output_fields((), ())}

#: leadsync output type -> (HubSpot type, fieldType).
_HUBSPOT_TYPES: Mapping[str, tuple[str, str]] = {
    "number": ("number", "number"),
    "enumeration": ("enumeration", "select"),
    "bool": ("bool", "booleancheckbox"),
    "text": ("string", "textarea"),
    "string": ("string", "text"),
    "datetime": ("datetime", "date"),
}


def crm_name(canonical: str) -> str:
    """The HubSpot property name of a canonical output name."""
    return PREFIX + canonical


def hubspot_type(output_type: str) -> tuple[str, str]:
    """The (type, fieldType) pair a leadsync output type is created with."""
    return _HUBSPOT_TYPES[output_type]


def property_definition(field: OutputField, display_order: int) -> dict[str, Any]:
    """The Properties API body that creates `field` in the leadsync group."""
    kind, field_type = hubspot_type(field.type)
    body: dict[str, Any] = {
        "name": crm_name(field.name),
        "label": field.label,
        "type": kind,
        "fieldType": field_type,
        "groupName": GROUP_NAME,
        "description": field.description,
        "displayOrder": display_order,
        "formField": False,
    }
    if field.type == "enumeration":
        body["options"] = options(field.options)
    elif field.type == "bool":
        body["options"] = [
            {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
            {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
        ]
    return body


def options(values: Sequence[str]) -> list[dict[str, Any]]:
    """Enumeration options in display order."""
    return [
        {"label": value, "value": value, "displayOrder": i, "hidden": False}
        for i, value in enumerate(values)
    ]


@functools.lru_cache(maxsize=256)  # a run writes the same `scored_at` on every record
def iso_ms(moment: datetime) -> str:
    """`2026-11-20T10:15:30.123Z`, the shape HubSpot returns datetimes in."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: leadsync writes timezone-aware UTC datetimes only")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_ms(value: object) -> int | None:
    """Epoch milliseconds from HubSpot's ISO-8601 or epoch-millisecond strings; None if unusable."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)  # Python 3.11+ reads a trailing Z
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """A UTC datetime from epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def parse_time(value: object) -> datetime | None:
    """A UTC datetime to the millisecond from HubSpot's ISO-8601 or epoch-millisecond values
    (`from_ms(parse_ms(value))` without the trip through a float); None if unusable."""
    if value.__class__ is str and value and not value.isdigit():
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None  # padded or odd text: the general path below
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            elif parsed.tzinfo is not UTC:
                parsed = parsed.astimezone(UTC)
            micro = parsed.microsecond
            return parsed.replace(microsecond=micro - micro % 1000) if micro % 1000 else parsed
    ms = parse_ms(value)
    return from_ms(ms) if ms is not None else None


def format_value(output_type: str, value: object) -> str:
    """The string HubSpot expects for `value` of a property of `output_type`.

    Raises ValueError for a value the type cannot hold (a naive datetime, a non-finite number,
    a bool for a number...).
    """
    if value is None:
        return ""
    if output_type == "bool":
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text
        raise ValueError(f"{value!r} is not a boolean")
    if output_type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"{value!r} is not a number")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return str(int(number)) if number.is_integer() else repr(number)
    if output_type == "datetime":
        if isinstance(value, datetime):
            return iso_ms(value)
        ms = parse_ms(value)
        if ms is None:
            raise ValueError(f"{value!r} is not a datetime")
        return iso_ms(from_ms(ms))
    text = str(value)
    return text[:TEXT_LIMIT]


def same_value(output_type: str, current: object, new: str) -> bool:
    """Whether HubSpot's current value already equals the formatted `new` value."""
    if current is None or current == "":
        return new == ""
    if output_type == "number":
        try:
            return new != "" and float(str(current)) == float(new)
        except ValueError:
            return False
    if output_type == "datetime":
        return parse_ms(current) is not None and parse_ms(current) == parse_ms(new)
    if output_type == "bool":
        return str(current).strip().lower() == new
    return str(current) == new
