"""One parser for every time a command takes (`--now`, `--as-of`): ISO-8601, as aware UTC.

A date means its midnight UTC and a time without an offset is UTC. A value that does not parse
is a usage error naming the option: `--now: '2026-13-01' is not an ISO-8601 time ...` (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

__all__ = ["parse_time", "time_option"]

F = TypeVar("F", bound=Callable[..., Any])


def parse_time(text: str) -> datetime:
    """ISO-8601 `text` as aware UTC; ValueError saying what is expected when it is not."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO-8601 time; write a date (2026-11-20) or a date and time "
            "(2026-11-20T10:00:00Z)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _convert(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def time_option(name: str, dest: str, help_text: str, *, hidden: bool = False) -> Callable[[F], F]:
    """A `--now`-style option parsed by `parse_time` into `dest` (None when not given)."""
    return click.option(name, dest, callback=_convert, hidden=hidden, help=help_text)
