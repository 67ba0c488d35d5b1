"""Shared test helpers: build models from YAML snippets and records tersely."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from config.model_loader import parse_model
from scoring.model import ScoringModel
from scoring.types import Event, Record

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def model(text: str) -> ScoringModel:
    """A model from a YAML snippet; `name` and `object` are added when missing."""
    body = textwrap.dedent(text)
    if "\nname:" not in "\n" + body:
        body = "name: test\n" + body
    if "\nobject:" not in "\n" + body:
        body = "object: contact\n" + body
    return parse_model(body, "test.yaml")


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def event(kind: str, age_days: float = 0.0, **attributes: object) -> Event:
    return Event(kind, days_ago(age_days), attributes)


def record(
    properties: Mapping[str, object] | None = None,
    events: Sequence[Event] = (),
    record_id: str = "r1",
) -> Record:
    return Record(record_id, "contact", dict(properties or {}), tuple(events))
