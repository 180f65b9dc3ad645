"""`pollama serve` shutdown: SIGTERM exits 0, ends streams with an error line, leaves no runner.

Each test runs a real server process with a real runner process on the tiny GGUF, and looks
for runner processes in /proc (children whose command line runs `pollama.engine.runner`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.api.generate_helpers import create
from tests.fixtures.server import free_port, server_env, wait_until_serving

RUNNER_MODULE = "pollama.engine.runner"
# A stream of several seconds: the schema keeps the tiny model from stopping after ~0.5 s.
LONG = {
    "format": {"type": "string", "minLength": 3000},
    "options": {"num_predict": 100000, "num_ctx": 2048, "num_thread": 1},
}


def runner_pids(parent: int) -> list[int]:
    """Runner processes whose parent is `parent`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and RUNNER_MODULE in cmdline:
            found.append(int(entry.name))
    return found


def gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # exited, waiting for its (dead) parent's reaper
            return True
        time.sleep(0.05)
    return False


@contextmanager
def server(models: Path, grace: float = 5.0) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A server process (not stopped for you: the test does that) and its URL."""
    port = free_port()
    code = f"from pollama.server import serve; serve(grace={grace})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=server_env(models, port))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, url)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def models(isolated_store: Path, tiny_gguf: Path) -> Path:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    return isolated_store


def load(url: str) -> None:
    reply = httpx.post(url + "/api/generate", json={"model": "tiny", "keep_alive": -1}, timeout=60)
    assert reply.status_code == 200, reply.text


def test_sigterm_exits_zero_and_stops_the_runners(models: Path) -> None:
    with server(models) as (proc, url):
        load(url)
        pids = runner_pids(proc.pid)
        assert len(pids) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert all(gone(pid) for pid in pids)


def test_sigterm_ends_a_stream_in_flight_with_an_error_line(models: Path) -> None:
    lines: list[dict] = []
    started = threading.Event()

    def stream(url: str) -> None:
        body = {"model": "tiny", "prompt": "hello", **LONG}
        with httpx.stream("POST", url + "/api/generate", json=body, timeout=60) as response:
            for line in response.iter_lines():
                if line:
                    lines.append(json.loads(line))
                    started.set()

    with server(models, grace=0.3) as (proc, url):
        reader = threading.Thread(target=stream, args=(url,))
        reader.start()
        assert started.wait(30)
        pids = runner_pids(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        reader.join(10)
        assert all(gone(pid) for pid in pids)
    assert lines[-1] == {"error": "the model was unloaded"}  # not reported as a crash
    assert not any(line.get("done") for line in lines)


def test_killed_server_leaves_no_runner(models: Path) -> None:
    with server(models) as (proc, url):
        load(url)
        pids = runner_pids(proc.pid)
        assert len(pids) == 1
        proc.kill()
        proc.wait()
        assert all(gone(pid) for pid in pids), "the runner outlived its server"


def test_new_connections_are_refused_after_sigterm(models: Path) -> None:
    with server(models) as (proc, url):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/api/version", timeout=1)


def test_killed_runner_mid_stream_errors_at_once_and_the_next_request_reloads(
    models: Path,
) -> None:
    with server(models) as (proc, url):
        body = {"model": "tiny", "prompt": "hello", **LONG}
        with httpx.stream("POST", url + "/api/generate", json=body, timeout=60) as response:
            lines = response.iter_lines()
            assert "response" in json.loads(next(lines))
            pids = runner_pids(proc.pid)  # the busy runner, maybe the one started ahead too
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            rest = [json.loads(line) for line in lines if line]
        assert time.monotonic() - killed < 1.0
        assert "error" in rest[-1]
        reply = httpx.post(
            url + "/api/generate",
            json={"model": "tiny", "prompt": "hi", "stream": False, "options": {"num_predict": 4}},
            timeout=60,
        )
        assert reply.status_code == 200 and reply.json()["done"]
        assert runner_pids(proc.pid) and not set(runner_pids(proc.pid)) & set(pids)
        assert proc.poll() is None
