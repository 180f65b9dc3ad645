"""A recording HTTP proxy in front of a live server: the requests a client really made."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Recorded:
    """The JSON bodies of the requests that went through, by path, in arrival order."""

    bodies: list[tuple[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, path: str) -> list[Any]:
        with self.lock:
            return [body for p, body in self.bodies if p == path]


def _handler(upstream: str, recorded: Recorded) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
            with recorded.lock:
                recorded.bodies.append((self.path, json.loads(data) if data else None))
            try:
                reply = httpx.request(
                    self.command,
                    upstream + self.path,
                    content=data,
                    headers={"Content-Type": "application/json"},
                    timeout=None,
                )
            except httpx.TransportError:
                self.send_error(502)
                return
            self.send_response(reply.status_code)
            self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            # A client interrupted mid-request has gone: there is no one to tell.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(reply.content)

        do_GET = do_POST = do_HEAD = _forward

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Forward


@contextmanager
def recording_proxy(upstream: str) -> Iterator[tuple[str, Recorded]]:
    """A proxy to `upstream` on a free port: its URL and what it has recorded."""
    recorded = Recorded()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, recorded))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorded
    finally:
        server.shutdown()
        server.server_close()
