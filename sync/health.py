"""`/healthz`, `/readyz` and `/metrics` over HTTP, for orchestrators and Prometheus.

- `/healthz`: 200 while the process and its scheduler are alive.
- `/readyz`: on the leader, 200 when the last run of every connection succeeded and finished
  within `stale_after`; on a standby replica, 200 while it reaches the state database (it is
  ready to take over); otherwise 503. The JSON body gives the replica's `role` and each
  connection's state.
- `/metrics`: the Prometheus text format.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from config.redaction import redact_optional
from sync.metrics import Metrics


@dataclass
class ConnectionHealth:
    """The latest known outcome of one connection."""

    last_status: str | None = None
    last_success: datetime | None = None
    last_error: str | None = None


class Readiness:
    """Tracks every connection's last run; thread-safe."""

    def __init__(self, stale_after: dict[str, timedelta]) -> None:
        self.stale_after = stale_after
        self.connections = {name: ConnectionHealth() for name in stale_after}
        self.alive = True
        self.role = "leader"
        self.role_error: str | None = None
        self._lock = threading.Lock()

    def set_role(self, role: str, error: str | None = None) -> None:
        """Note this replica's role (`leader` or `standby`) and, for a standby, why it could not
        reach the state database (None when it can)."""
        with self._lock:
            self.role, self.role_error = role, redact_optional(error)

    def record(
        self, connection: str, status: str, finished: datetime, error: str | None = None
    ) -> None:
        """Note a finished run of `connection`."""
        with self._lock:
            health = self.connections[connection]
            health.last_status, health.last_error = status, redact_optional(error)
            if status == "succeeded":
                health.last_success = finished

    def check(self, now: datetime) -> tuple[bool, dict[str, Any]]:
        """(ready, details per connection)."""
        details: dict[str, Any] = {}
        ready = True
        with self._lock:
            standby = self.role == "standby"
            for name, h in self.connections.items():
                fresh = (
                    h.last_success is not None
                    and now - h.last_success <= self.stale_after[name]
                    and h.last_status == "succeeded"
                )
                ready = ready and fresh
                details[name] = {
                    "ready": fresh,
                    "last_status": h.last_status,
                    "last_success": h.last_success.isoformat() if h.last_success else None,
                    "last_error": h.last_error,
                }
            if standby:
                ready = self.role_error is None
        return ready, details


class HealthServer:
    """A small threaded HTTP server on `host:port` (port 0 picks a free one)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: Metrics,
        readiness: Readiness,
        clock: Callable[[], datetime],
    ) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.metrics = metrics
        self.readiness = readiness
        self.clock = clock
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.1,), name="health", daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.server.server_address[1])

    def start(self) -> HealthServer:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(request, 200, self.metrics.render(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            ok = self.readiness.alive
            body: dict[str, Any] = {"status": "ok" if ok else "stopping"}
            self._send(request, 200 if ok else 503, json.dumps(body).encode(), "application/json")
        elif path == "/readyz":
            ready, details = self.readiness.check(self.clock())
            body = {"ready": ready, "role": self.readiness.role, "connections": details}
            if self.readiness.role_error:
                body["error"] = self.readiness.role_error
            self._send(
                request, 200 if ready else 503, json.dumps(body).encode(), "application/json"
            )
        else:
            self._send(request, 404, b'{"error": "not found"}', "application/json")

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
