"""`pollama translate` run as a user runs it, through a recording proxy in front of a live
server (the requests it really made), interrupted with Ctrl-C and resumed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from pollama.translate import default_output, read_document, read_input, state_path
from pollama.translate.units import split_cue


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


def translate_cli(url: str, *args: str) -> subprocess.Popen[str]:
    """`pollama translate ARGS` in a subprocess talking to `url`."""
    return subprocess.Popen(
        [sys.executable, "-m", "pollama", "translate", *args],
        env={**os.environ, "OLLAMA_HOST": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def lines_asked(recorded: Recorded, since: int = 0) -> list[str]:
    """Every line the chat requests from the `since`-th on asked to translate (the JSON
    object that ends each request's prompt)."""
    asked = []
    for body in recorded.of("/api/chat")[since:]:
        prompt = body["messages"][-1]["content"]
        asked += json.loads(prompt.rsplit("\n", 1)[1]).values()
    return asked


def _interrupt_once_saved(process: subprocess.Popen[str], state: Path, parts: int) -> str:
    """Stop the run (SIGTERM, which the CLI takes as Ctrl-C: a SIGINT may be ignored by a
    process started in the background) once `state` holds `parts` parts; its stderr."""
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if state.exists() and len(json.loads(state.read_text())["done"]) >= parts:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=120)
            assert process.returncode == 128 + signal.SIGTERM, err
            return err
        if process.poll() is not None:
            raise AssertionError(f"finished before it was interrupted: {process.communicate()}")
        time.sleep(0.1)
    raise AssertionError("no progress saved in time")


def interrupted_then_resumed(url: str, source: Path, *args: str, parts: int) -> str:
    """Translate `source`, interrupt it once `parts` parts are saved, run it again with
    `--resume`, and check that no part the first run saved is asked for again (the file
    has no worded line twice). What the second run printed on stderr."""
    target = args[args.index("--to") + 1]
    text, format = read_input(source)
    state = state_path(default_output(source, format, target), source, text)
    with recording_proxy(url) as (proxy, recorded):
        err = _interrupt_once_saved(translate_cli(proxy, str(source), *args), state, parts)
        assert "run the same command with --resume" in err
        saved = json.loads(state.read_text())["done"]
        asked_before = len(recorded.of("/api/chat"))
        resumed = translate_cli(proxy, str(source), *args, "--resume")
        _, err = resumed.communicate(timeout=900)
        assert resumed.returncode == 0, err
    assert f"resuming: {len(saved)} parts already translated" in err
    assert f"{len(saved)} parts resumed" in err
    assert not state.exists()
    saved_sources = {
        u.source
        for c in read_document(text, format).cues
        for u in split_cue(c).units
        if u.key in saved
    }
    asked_again = saved_sources & set(lines_asked(recorded, since=asked_before))
    assert not asked_again, asked_again
    return err
