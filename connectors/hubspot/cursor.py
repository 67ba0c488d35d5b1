"""Opaque, resumable read cursors: `hs1.` + base64url(JSON).

Full reads (`mode: full`) keep, per id-range chain, the next list cursor and the chain's id
range `[lo, hi)` (None: unbounded). Incremental
reads keep `(t, i)`: every record modified at or after `t` with an id up to `i` has been
returned (`mode: id`). Cursors of the earlier time-ordered walk (`mode: inc`) resume from
`(t, 0)`, which reads again what they had read rather than skip anything.
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
    """The search walk's position: lower bound `t` (modification ms) and last id `i`."""

    object_type: str
    t: int
    i: int


def encode(state: FullState | IncrementalState) -> str:
    """The opaque cursor string of a state."""
    data: dict[str, Any]
    if isinstance(state, FullState):
        data = {"m": "full", "o": state.object_type, "c": [list(c) for c in state.chains]}
    else:
        data = {"m": "id", "o": state.object_type, "t": state.t, "i": state.i}
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
        if data["m"] == "id":
            return IncrementalState(object_type, int(data["t"]), int(data["i"]))
        if data["m"] == "inc":
            return IncrementalState(object_type, int(data["t"]), 0)
        raise ValueError("mode")
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise PermanentError(
            f"resume cursor is not a HubSpot {object_type} cursor ({exc}); start a fresh read"
        ) from None
