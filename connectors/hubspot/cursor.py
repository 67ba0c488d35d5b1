"""Opaque, resumable read cursors: `hs1.` + base64url(JSON).

Full reads (`mode: full`) keep, per id-range chain, the next list cursor and the chain's id
range `[lo, hi)` (None: unbounded). Incremental
reads (`mode: incremental`) keep the position `(t, i)`: every record with
`(lastmodified, id) <= (t, i)` (lexicographically) at or after the lower bound has been
returned; `block` says the walk is paging the records sharing timestamp `t` by id.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from connectors.errors import PermanentError

__all__ = ["FullState", "IncrementalState", "decode", "encode"]

_PREFIX = "hs1."


@dataclass(frozen=True, slots=True)
class FullState:
    """Chains still to read: (next `after` or None for the first record, lo id, hi id)."""

    object_type: str
    chains: tuple[tuple[str | None, int | None, int | None], ...]


@dataclass(frozen=True, slots=True)
class IncrementalState:
    """The search walk's position in (lastmodified ms, id) order."""

    object_type: str
    t: int
    i: int
    block: bool = False


def encode(state: FullState | IncrementalState) -> str:
    """The opaque cursor string of a state."""
    data: dict[str, Any]
    if isinstance(state, FullState):
        data = {"m": "full", "o": state.object_type, "c": [list(c) for c in state.chains]}
    else:
        data = {"m": "inc", "o": state.object_type, "t": state.t, "i": state.i, "b": state.block}
    raw = json.dumps(data, separators=(",", ":")).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, object_type: str) -> FullState | IncrementalState:
    """The state a cursor encodes; PermanentError when it is not a HubSpot cursor for this kind."""
    try:
        if not cursor.startswith(_PREFIX):
            raise ValueError("prefix")
        body = cursor[len(_PREFIX) :]
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if data["o"] != object_type:
            raise ValueError("object type")
        if data["m"] == "full":
            chains = tuple(
                (
                    None if a is None else str(a),
                    None if lo is None else int(lo),
                    None if hi is None else int(hi),
                )
                for a, lo, hi in data["c"]
            )
            return FullState(object_type, chains)
        if data["m"] == "inc":
            return IncrementalState(object_type, int(data["t"]), int(data["i"]), bool(data["b"]))
        raise ValueError("mode")
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise PermanentError(
            f"resume cursor is not a HubSpot {object_type} cursor ({exc}); start a fresh read"
        ) from None
