"""Value formats HubSpot expects, comparisons with what it holds, property definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.base import OutputField
from connectors.errors import PermanentError
from connectors.hubspot.cursor import FullState, IncrementalState, decode, encode
from connectors.hubspot.values import (
    format_value,
    from_ms,
    parse_ms,
    parse_time,
    property_definition,
    same_value,
)

MOMENT = datetime(2026, 11, 20, 10, 15, 30, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("number", 42, "42"),
        ("number", 42.0, "42"),
        ("number", 42.5, "42.5"),
        ("number", "7", "7"),
        ("bool", True, "true"),
        ("bool", False, "false"),
        ("bool", "TRUE", "true"),
        ("datetime", MOMENT, "2026-11-20T10:15:30.123Z"),
        ("datetime", MOMENT.astimezone(timezone(timedelta(hours=2))), "2026-11-20T10:15:30.123Z"),
        ("datetime", "1795688130123", "2026-11-26T10:15:30.123Z"),
        ("enumeration", "A", "A"),
        ("text", "line 1\nline 2", "line 1\nline 2"),
        ("text", "x" * 70_000, "x" * 65_536),
        ("string", "abc123", "abc123"),
        ("number", None, ""),
    ],
)
def test_format_value(kind: str, value: object, expected: str) -> None:
    assert format_value(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "match"),
    [
        ("number", True, "not a number"),
        ("number", float("nan"), "not a finite number"),
        ("number", [1], "not a number"),
        ("bool", "yes", "not a boolean"),
        ("datetime", datetime(2026, 1, 1), "naive datetime"),
        ("datetime", "yesterday", "not a datetime"),
    ],
)
def test_format_value_refuses_what_the_type_cannot_hold(kind, value, match) -> None:
    with pytest.raises(ValueError, match=match):
        format_value(kind, value)


@pytest.mark.parametrize(
    ("kind", "current", "new", "same"),
    [
        ("number", "42", "42", True),
        ("number", "42.0", "42", True),
        ("number", "41", "42", False),
        ("number", None, "42", False),
        ("number", "", "", True),
        ("datetime", "2026-11-20T10:15:30.123Z", "2026-11-20T10:15:30.123Z", True),
        ("datetime", "1795688130123", "2026-11-26T10:15:30.123Z", True),
        ("datetime", "2026-11-20T10:15:30.124Z", "2026-11-20T10:15:30.123Z", False),
        ("bool", "True", "true", True),
        ("bool", "false", "true", False),
        ("text", "a\nb", "a\nb", True),
        ("enumeration", "a", "A", False),
    ],
)
def test_same_value(kind, current, new, same) -> None:
    assert same_value(kind, current, new) is same


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T10:15:30.123Z", 1795169730123),
        ("1795169730123", 1795169730123),
        (1795169730123, 1795169730123),
        ("2026-11-20T10:15:30", 1795169730000),
        ("", None),
        (None, None),
        ("N/A", None),
    ],
)
def test_parse_ms(value, expected) -> None:
    assert parse_ms(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T10:15:30.123Z", datetime(2026, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)),
        ("2026-11-20T10:15:30.123456Z", datetime(2026, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)),
        ("2026-11-20T11:15:30+01:00", datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)),
        ("2026-11-20T10:15:30", datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)),
        (" 2026-11-20T10:15:30.5Z ", datetime(2026, 11, 20, 10, 15, 30, 500000, tzinfo=UTC)),
        ("1763633730123", datetime(2025, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)),
        (1763633730123, datetime(2025, 11, 20, 10, 15, 30, 123000, tzinfo=UTC)),
        ("", None),
        (None, None),
        ("not a date", None),
    ],
)
def test_parse_time_reads_iso_and_epoch_milliseconds_to_the_millisecond(value, expected) -> None:
    assert parse_time(value) == expected
    ms = parse_ms(value)
    assert parse_time(value) == (from_ms(ms) if ms is not None else None)


def test_property_definitions_match_hubspot_types() -> None:
    grade = property_definition(OutputField("grade", "Fit grade", "enumeration", ("A", "B")), 3)
    assert grade == {
        "name": "leadsync_grade",
        "label": "Fit grade",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "leadsync",
        "description": "",
        "displayOrder": 3,
        "formField": False,
        "options": [
            {"label": "A", "value": "A", "displayOrder": 0, "hidden": False},
            {"label": "B", "value": "B", "displayOrder": 1, "hidden": False},
        ],
    }
    kinds = {
        t: property_definition(OutputField("x", "X", t), 0)
        for t in ("number", "bool", "text", "string", "datetime")
    }
    assert {t: (d["type"], d["fieldType"]) for t, d in kinds.items()} == {
        "number": ("number", "number"),
        "bool": ("bool", "booleancheckbox"),
        "text": ("string", "textarea"),
        "string": ("string", "text"),
        "datetime": ("datetime", "date"),
    }
    assert [o["value"] for o in kinds["bool"]["options"]] == ["true", "false"]


@pytest.mark.parametrize(
    "state",
    [
        FullState("contacts", ((None, None, None),)),
        FullState("contacts", (("101", None, 500), ("499", 500, None))),
        IncrementalState("contacts", 1795169730123, 0),
        IncrementalState("contacts", 1795169730123, 4242),
    ],
)
def test_cursor_round_trip(state) -> None:
    cursor = encode(state)
    assert cursor.startswith("hs1.")
    assert decode(cursor, "contacts") == state


def test_a_cursor_of_the_time_ordered_walk_resumes_from_its_timestamp() -> None:
    import base64
    import json

    raw = json.dumps({"m": "inc", "o": "contacts", "t": 1795169730123, "i": 4242, "b": True})
    cursor = "hs1." + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert decode(cursor, "contacts") == IncrementalState("contacts", 1795169730123, 0)


@pytest.mark.parametrize(
    "cursor", ["", "garbage", "hs1.!!!", encode(IncrementalState("companies", 1, 0))]
)
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(PermanentError, match="not a HubSpot contacts cursor"):
        decode(cursor, "contacts")
