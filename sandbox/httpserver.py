"""A threaded HTTP(S) server with a route table, shared by the HubSpot and Salesforce sandboxes.

Handlers take a `Request` and return a `Response`. A handler can raise `DropConnection` to close
the socket without answering (a connection reset as the client sees it). The server runs in a
background thread so tests and the demo start it in-process.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

import orjson

from sandbox.tls import LoopbackTLS, make_loopback_tls


class DropConnection(Exception):
    """Raised by a handler to reset the connection instead of answering."""


@dataclass
class Request:
    """An incoming request, already parsed."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError on malformed JSON."""
        return json.loads(self.body.decode("utf-8") or "null")

    def header(self, name: str, default: str = "") -> str:
        """A header value, case-insensitively."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default


@dataclass
class Response:
    """An outgoing response; `body` is JSON-encoded unless it is bytes."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=utf-8"

    def encoded(self) -> bytes:
        """The body as bytes: JSON for anything else than bytes or text (UTF-8, as the CRMs
        send it; orjson, a fifth of the sandbox's time with the standard library's encoder)."""
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        try:
            return orjson.dumps(self.body)
        except TypeError:
            # what orjson refuses and the standard library writes: lone surrogates (kept as
            # escapes, as a CRM that stored one returns it), integer keys, integers past 64 bits
            return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


Handler = Callable[[Request], Response]
H = TypeVar("H")


@dataclass(frozen=True, slots=True)
class Match(Generic[H]):
    """A resolved path: its handler for the method, or None when the path takes only other
    methods (answer 405); named groups of the path pattern in `params`."""

    handler: H | None
    params: dict[str, str]


class Router(Generic[H]):
    """Routes `(method, path regex)` to handlers of any shape; the first match wins."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], H]] = []

    def add(self, method: str, pattern: str, handler: H) -> None:
        """Register a handler for a method and a full-path regex."""
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    def resolve(self, method: str, path: str) -> Match[H] | None:
        """The handler and path parameters for a request; None when no pattern matches `path`."""
        allowed = False
        for route_method, regex, handler in self._routes:
            match = regex.match(path)
            if match:
                if route_method == method:
                    return Match(handler, match.groupdict())
                allowed = True
        return Match(None, {}) if allowed else None


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        return

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
        )
        try:
            response = self.server.dispatch(request)
        except DropConnection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
            return
        payload = response.encoded()
        self.send_response(response.status)
        if payload or response.status not in (204, 304):
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        # Headers and body leave in one write: two small writes on a keep-alive connection meet
        # the client's delayed ACK under Nagle and stall each response by ~40 ms.
        buffer: list[bytes] = getattr(self, "_headers_buffer", [])
        buffer.append(b"\r\n")
        if payload and self.command != "HEAD":
            buffer.append(payload)
        self.wfile.write(b"".join(buffer))
        buffer.clear()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815  http.server dispatches on do_<METHOD>


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dispatch: Handler) -> None:
        super().__init__(address, _RequestHandler)
        self.dispatch = dispatch

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-request (killed, timed out) is routine for a CRM; only
        other failures are printed."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """Runs a dispatch function behind HTTP (or HTTPS with a generated CA) on loopback."""

    def __init__(
        self,
        dispatch: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
    ) -> None:
        self._server = _Server((host, port), dispatch)
        self.tls: LoopbackTLS | None = None
        if tls:
            self.tls = make_loopback_tls()
            context = self.tls.server_context()
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:51234`."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str | None:
        """Path of the CA bundle clients must trust, when serving TLS."""
        return str(self.tls.ca_file) if self.tls else None

    def start(self) -> SandboxServer:
        """Serve in a background daemon thread."""
        # A short poll interval makes `stop()` return in ~50 ms instead of 0.5 s.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
