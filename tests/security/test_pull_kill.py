"""Pulls against the store's other writers: `kill -9` at random moments of a pull, many times,
and pulls racing creates, copies and deletes of the same names; the store is whole after each,
and a pull then completes."""

from __future__ import annotations

import asyncio
import base64
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.fixtures.server import free_port, live_server, server_env, wait_until_serving
from tests.fixtures.store_check import store_problems
from tests.registry.conftest import create_tiny, front, pollama, progress  # noqa: F401
from tests.registry.front import Front
from tests.registry.registries import needs_registry

pytestmark = needs_registry
KILLS = 6


def _pull_until_killed(url: str, body: dict[str, object]) -> None:
    try:
        with httpx.stream("POST", f"{url}/api/pull", json=body, timeout=60) as response:
            for _line in response.iter_lines():
                pass
    except httpx.HTTPError:
        pass  # the server died under the stream, as intended


def test_kill_9_at_random_moments_of_pull_leaves_the_store_whole(
    front: tuple[Front, str],  # noqa: F811
    tmp_path: Path,
    tiny_gguf: Path,
) -> None:
    _, host = front
    name = f"{host}/test/killed-often:latest"
    license_text = base64.b64encode(random.Random(3).randbytes(900_000)).decode()
    create_tiny(tmp_path / "a", tiny_gguf, name, license=license_text, system="pulled")

    async def push() -> None:
        async with pollama(tmp_path / "a", tmp_path / "key") as a:
            lines = await progress(a, "/api/push", {"model": name, "insecure": True})
            assert lines[-1] == {"status": "success"}

    asyncio.run(push())
    models, home = tmp_path / "b", tmp_path / "home"
    body = {"model": name, "insecure": True}
    rng = random.Random(5)
    for kill in range(KILLS):
        port = free_port()
        env = server_env(models, port, OLLAMA_MAX_DOWNLOAD_SPEED="1MB", HOME=str(home))
        proc = subprocess.Popen([sys.executable, "-m", "pollama", "serve"], env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(proc, url)
            puller = threading.Thread(target=_pull_until_killed, args=(url, body))
            puller.start()
            time.sleep(rng.uniform(0.05, 1.5))
        finally:
            proc.kill()
            proc.wait()
        puller.join()
        assert store_problems(models) == [], f"after kill {kill}"
    with live_server(models, HOME=str(home)) as url:
        done = httpx.post(f"{url}/api/pull", json={**body, "stream": False}, timeout=120)
        assert (done.status_code, done.json()) == (200, {"status": "success"})
        shown = httpx.post(f"{url}/api/show", json={"model": name}, timeout=30).json()
        assert (shown["license"], shown["system"]) == (license_text, "pulled")
    assert store_problems(models) == []


def test_parallel_pull_create_copy_delete_of_the_same_names_keep_the_store_whole(
    front: tuple[Front, str],  # noqa: F811
    tmp_path: Path,
    tiny_gguf: Path,
) -> None:
    _, host = front
    name = f"{host}/test/contested:latest"
    create_tiny(tmp_path / "a", tiny_gguf, name, system="from the registry")

    async def run() -> list[int]:
        async with pollama(tmp_path / "a", tmp_path / "key") as a:
            await progress(a, "/api/push", {"model": name, "insecure": True})
        create_tiny(tmp_path / "b", tiny_gguf, "local")
        async with pollama(tmp_path / "b", tmp_path / "key") as b:
            rng = random.Random(9)
            pull = {"model": name, "insecure": True, "stream": False}
            calls = [
                ("POST", "/api/pull", pull),
                ("DELETE", "/api/delete", {"model": name}),
                ("POST", "/api/create", {"model": name, "from": "local", "stream": False}),
                ("POST", "/api/copy", {"source": name, "destination": "copied"}),
                ("DELETE", "/api/delete", {"model": "copied"}),
            ]
            order = [rng.choice(calls) for _ in range(40)]
            replies = await asyncio.gather(
                *(b.request(method, path, json=body, timeout=120) for method, path, body in order)
            )
            for reply in replies:
                if reply.status_code == 500:  # a race lost: refused whole, and said why
                    assert "is missing" in reply.json()["error"], reply.text
            return [reply.status_code for reply in replies]

    statuses = asyncio.run(run())
    print(f"\nparallel pull/create/copy/delete: {sorted(Counter(statuses).items())}")
    assert set(statuses) <= {200, 404, 500}, statuses
    assert 200 in statuses
    assert store_problems(tmp_path / "b") == []
