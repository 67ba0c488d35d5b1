"""Connector options from the plain keyword arguments the connector fixtures take."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import SecretStr


def secret_strings(kwargs: Mapping[str, Any], secrets: Collection[str]) -> dict[str, Any]:
    """`kwargs` with the plain-text values of the `secrets` fields wrapped in `SecretStr`."""
    return {
        name: SecretStr(value) if name in secrets and isinstance(value, str) else value
        for name, value in kwargs.items()
    }
