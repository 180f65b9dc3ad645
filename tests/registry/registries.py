"""A real OCI registry for the tests: Debian's `docker-registry` on a free loopback port.

Three ways to run it: open, behind htpasswd Basic auth, and behind token auth with a small
token endpoint served by the test (a JWT signed with a certificate made here).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.fixtures.server import free_port

# Installed by .ci/run (Debian's docker-registry).
DOCKER_REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"

# For a test module that would rather skip than fail where the registry is not installed.
needs_registry = pytest.mark.skipif(
    not Path(DOCKER_REGISTRY).exists(), reason="docker-registry is not installed (see .ci/run)"
)


@contextmanager
def docker_registry(root: Path, auth: dict[str, object] | None = None) -> Iterator[str]:
    """Run `docker-registry` with filesystem storage under `root`; yield its `host:port`."""
    port = free_port()
    config = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "storage")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "pollama-tests"},
    }
    if auth:
        config["auth"] = auth
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    log = (root / "registry.log").open("wb")
    proc = subprocess.Popen([DOCKER_REGISTRY, "serve", str(path)], stdout=log, stderr=log)
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://{host}/v2/", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "registry.log").read_text()) from None
                time.sleep(0.05)
        yield host
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def htpasswd_line(user: str, password: str) -> str:
    """An htpasswd bcrypt line, as `htpasswd -B` writes it."""
    out = subprocess.run(
        ["htpasswd", "-nbB", user, password], check=True, capture_output=True, text=True
    )
    return out.stdout.strip() + "\n"


def docker_config(folder: Path, host: str, user: str, password: str) -> Path:
    """A `config.json` as `docker login` leaves it."""
    folder.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return folder / "config.json"
