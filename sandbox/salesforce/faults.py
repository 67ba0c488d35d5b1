"""Seeded faults the sandbox injects, as rates and as a script of one-shot failures.

Request-level faults hit REST calls (`/services/data/...`), never the control API:

* `503`: HTTP 503 `SERVER_UNAVAILABLE`; `500`: HTTP 500 `UNKNOWN_EXCEPTION`;
* `reset`: the connection is closed without an answer;
* `timeout`: the server holds the request for `hang_s` seconds, then closes it;
* `expire`: every session expires just before the request (401 `INVALID_SESSION_ID`);
* `concurrent`: HTTP 403 `REQUEST_LIMIT_EXCEEDED` for the concurrent long-running request limit.

`cut_composite_after = N` (one-shot) makes the next `composite` call stop after applying its
first N subrequests and close the connection without an answer: a call cut short in flight.

Record-level faults: `lock_rate` makes a written record fail with `UNABLE_TO_LOCK_ROW`, as when
another transaction holds it. `script` takes precedence over rates: tests push exact sequences
(`faults.script.extend(["503", "reset"])`) and get exactly those, in order.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

REQUEST_FAULTS = ("503", "500", "reset", "timeout", "expire", "concurrent")


@dataclass
class Faults:
    """Fault rates (0..1 per request or per record) and a script of one-shot request faults."""

    seed: int = 7
    latency_ms: float = 0.0
    error_rate: float = 0.0
    reset_rate: float = 0.0
    timeout_rate: float = 0.0
    expire_rate: float = 0.0
    lock_rate: float = 0.0
    hang_s: float = 2.0
    cut_composite_after: int | None = None
    script: deque[str] = field(default_factory=deque)
    injected: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def next_request_fault(self) -> str | None:
        """The fault to inject into the next REST request, if any."""
        with self._lock:
            if self.script:
                fault: str | None = self.script.popleft()
            else:
                roll = self._rng.random()
                fault = None
                for name, rate in (
                    ("503", self.error_rate),
                    ("reset", self.reset_rate),
                    ("timeout", self.timeout_rate),
                    ("expire", self.expire_rate),
                ):
                    if roll < rate:
                        fault = name
                        break
                    roll -= rate
            if fault:
                self.injected[fault] = self.injected.get(fault, 0) + 1
            return fault

    def composite_cut(self) -> int | None:
        """Subrequests the next composite call applies before it is cut short (once), if set."""
        with self._lock:
            cut, self.cut_composite_after = self.cut_composite_after, None
            if cut is not None:
                self.injected["cut"] = self.injected.get("cut", 0) + 1
            return cut

    def lock_roll(self) -> bool:
        """Whether the next written record is locked by another transaction."""
        if self.lock_rate <= 0:
            return False
        with self._lock:
            locked = self._rng.random() < self.lock_rate
            if locked:
                self.injected["lock"] = self.injected.get("lock", 0) + 1
            return locked

    def update(self, values: dict[str, Any]) -> None:
        """Set rates from a JSON body (`/_sandbox/faults`); `script` appends."""
        for name, value in values.items():
            if name == "script":
                unknown = [v for v in value if v not in REQUEST_FAULTS]
                if unknown:
                    raise ValueError(f"unknown faults {unknown}; valid: {list(REQUEST_FAULTS)}")
                with self._lock:
                    self.script.extend(value)
            elif name == "cut_composite_after":
                self.cut_composite_after = None if value is None else int(value)
            elif name in (
                "latency_ms",
                "error_rate",
                "reset_rate",
                "timeout_rate",
                "expire_rate",
                "lock_rate",
                "hang_s",
            ):
                setattr(self, name, float(value))
            else:
                raise ValueError(f"unknown fault setting {name!r}")

    def to_json(self) -> dict[str, Any]:
        """Current settings and what was injected so far."""
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "reset_rate": self.reset_rate,
            "timeout_rate": self.timeout_rate,
            "expire_rate": self.expire_rate,
            "lock_rate": self.lock_rate,
            "hang_s": self.hang_s,
            "cut_composite_after": self.cut_composite_after,
            "script": list(self.script),
            "injected": dict(self.injected),
        }
