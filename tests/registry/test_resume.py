"""A pull whose server is killed half way (`kill -9`) resumes from the bytes on disk."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import subprocess
import sys
from pathlib import Path

import httpx

from pollama.store import Store
from pollama.store.manifest import LICENSE
from tests.fixtures.server import free_port, live_server, server_env, wait_until_serving
from tests.registry.conftest import create_tiny, pollama, progress
from tests.registry.front import Front

BIG = 6_000_000  # bytes of license text: a blob that takes seconds at 1 MB/s


def test_a_pull_killed_half_way_resumes_without_fetching_those_bytes_again(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/killed:latest"
    text = base64.b64encode(random.Random(8).randbytes(BIG * 3 // 4)).decode()
    create_tiny(tmp_path / "a", tiny_gguf, name, license=text)

    async def push() -> None:
        async with pollama(tmp_path / "a", tmp_path / "key") as a:
            assert (await progress(a, "/api/push", {"model": name, "insecure": True}))[-1] == {
                "status": "success"
            }

    asyncio.run(push())
    manifest = Store(tmp_path / "a").read_manifest(name)[1]
    order = [*manifest.layers, manifest.config]
    big = next(layer for layer in order if layer.media_type == LICENSE)
    after_big = sum(layer.size for layer in order[order.index(big) + 1 :])

    models, home = tmp_path / "b", tmp_path / "home"
    port = free_port()
    env = server_env(models, port, OLLAMA_MAX_DOWNLOAD_SPEED="1MB", HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "pollama", "serve"], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(proc, url)
        body = {"model": name, "insecure": True}
        with httpx.stream("POST", f"{url}/api/pull", json=body, timeout=60) as response:
            for line in response.iter_lines():
                status = json.loads(line)
                if status.get("digest") == big.digest and status.get("completed", 0) > BIG // 2:
                    proc.kill()  # mid-download, the client still connected
                    break
    finally:
        proc.kill()
        proc.wait()

    store = Store(models)
    parts = store.partials.load(big.digest, big.size)
    assert parts is not None, "the partial download was lost"
    on_disk = sum(part.completed for part in parts)
    assert BIG // 4 < on_disk < big.size
    assert not store.manifest_path(store.resolve(name)).exists()

    counting.blob_bytes = 0
    with live_server(models, HOME=str(home)) as url:
        done = httpx.post(f"{url}/api/pull", json={**body, "stream": False}, timeout=120)
        assert (done.status_code, done.json()) == (200, {"status": "success"})
        shown = httpx.post(f"{url}/api/show", json={"model": name}, timeout=30)
        assert shown.status_code == 200 and shown.json()["license"] == text
    # Only the rest of the cut blob and the blobs after it came down the second time.
    assert counting.blob_bytes == big.size - on_disk + after_big
    assert store.blob_is_whole(big.digest, big.size)
