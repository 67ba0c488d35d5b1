"""Seeded, reproducible faults: latency, 429 bursts, 5xx, connection resets, timeouts, partial
batch failures and token expiry.

Each request draws its fate from one `random.Random(seed)` in arrival order, so the same seed and
the same sequence of requests give the same faults. `queue(...)` forces the next outcomes exactly
(for tests that need a 429 on the third call, say). Latency is log-normal around a median.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

#: Outcomes a request can be forced to, besides None (served normally).
ACTIONS = ("429", "500", "502", "503", "504", "reset", "timeout", "expire")


@dataclass
class FaultRates:
    """Probabilities per request (0..1) and latency shape. All zero by default."""

    latency_ms: float = 0.0
    latency_sigma: float = 0.35
    rate_429: float = 0.0
    burst_429: int = 3
    error_500: float = 0.0
    error_502: float = 0.0
    error_503: float = 0.0
    error_504: float = 0.0
    reset: float = 0.0
    timeout: float = 0.0
    timeout_s: float = 65.0
    partial_207: float = 0.0
    token_expiry: float = 0.0
    #: Seconds a write takes to reach the search index: records modified more recently are not
    #: found by search yet (HubSpot indexes asynchronously; list and batch read see them at once).
    search_lag_s: float = 0.0


@dataclass(frozen=True)
class Fate:
    """What happens to one request: how long it waits, and what goes wrong (None: nothing)."""

    latency_s: float
    action: str | None


class Faults:
    """Current fault rates plus the seeded generator that applies them; thread-safe."""

    def __init__(self, *, seed: int = 7, latency_ms: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.rates = FaultRates(latency_ms=latency_ms)
        self._seed = seed
        self._rng = random.Random(seed)
        self._forced: deque[str | None] = deque()
        self._burst_left = 0

    def set(self, **rates: Any) -> FaultRates:
        """Change some rates (names of `FaultRates` fields); returns the new rates."""
        known = {f.name for f in fields(FaultRates)}
        unknown = sorted(set(rates) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s) {unknown}; known: {sorted(known)}")
        with self._lock:
            values = asdict(self.rates)
            for name, value in rates.items():
                values[name] = type(values[name])(value)
            self.rates = FaultRates(**values)
            return self.rates

    def clear(self) -> None:
        """No faults, no latency, nothing queued."""
        with self._lock:
            self.rates = FaultRates()
            self._forced.clear()
            self._burst_left = 0

    def reseed(self, seed: int) -> None:
        """Restart the fault sequence from `seed`."""
        with self._lock:
            self._seed = seed
            self._rng = random.Random(seed)
            self._burst_left = 0

    @property
    def seed(self) -> int:
        """The seed the current fault sequence started from."""
        return self._seed

    def queue(self, *actions: str | None) -> None:
        """Force the outcomes of the next requests, in order (None: served normally)."""
        bad = [a for a in actions if a is not None and a not in ACTIONS]
        if bad:
            raise ValueError(f"unknown fault action(s) {bad}; known: {list(ACTIONS)}")
        with self._lock:
            self._forced.extend(actions)

    def snapshot(self) -> dict[str, Any]:
        """Rates, seed and queued actions, as the control API shows them."""
        with self._lock:
            return {"rates": asdict(self.rates), "seed": self._seed, "queue": list(self._forced)}

    def draw(self) -> Fate:
        """The fate of the next request."""
        with self._lock:
            rates, rng = self.rates, self._rng
            latency = 0.0
            if rates.latency_ms > 0:
                latency = rates.latency_ms / 1000 * math.exp(rates.latency_sigma * rng.gauss(0, 1))
            if self._forced:
                return Fate(latency, self._forced.popleft())
            if self._burst_left > 0:
                self._burst_left -= 1
                return Fate(latency, "429")
            roll = rng.random()
            for action, rate in (
                ("429", rates.rate_429),
                ("500", rates.error_500),
                ("502", rates.error_502),
                ("503", rates.error_503),
                ("504", rates.error_504),
                ("reset", rates.reset),
                ("timeout", rates.timeout),
                ("expire", rates.token_expiry),
            ):
                if roll < rate:
                    if action == "429":
                        self._burst_left = max(0, rates.burst_429 - 1)
                    return Fate(latency, action)
                roll -= rate
            return Fate(latency, None)

    def fail_input(self) -> bool:
        """Whether one input of a batch fails (a 207 partial failure)."""
        with self._lock:
            rate = self.rates.partial_207
            return rate > 0 and self._rng.random() < rate
