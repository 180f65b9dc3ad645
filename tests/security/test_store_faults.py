"""A full disk and a read-only store: clear errors in the API's shape, never a traceback, and
nothing already stored is lost. The store sits on a small tmpfs of its own (as root, file
permissions would not stop a write)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.app import asgi_client
from tests.fixtures.store_check import store_problems
from tests.fixtures.tiny_gguf import write_tiny_gguf


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted afterwards; skipped where this platform refuses mounts."""
    root = tmp_path / "disk"
    root.mkdir()
    mounted = _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


async def _create(client: httpx.AsyncClient, name: str, gguf: Path) -> httpx.Response:
    body = {"model": name, "modelfile": f"FROM {gguf}\nSYSTEM {name}\n", "stream": False}
    return await client.post("/api/create", json=body)


async def test_a_full_disk_is_a_clear_error_and_loses_nothing(
    small_disk: Path, tmp_path: Path, tiny_gguf: Path
) -> None:
    store = small_disk / "models"
    async with asgi_client(store) as client:
        assert (await _create(client, "kept", tiny_gguf)).status_code == 200
        filler = small_disk / "filler"
        with filler.open("wb") as out:  # leave less room than a second model needs
            while True:
                try:
                    out.write(b"\0" * 65536)
                    out.flush()
                except OSError:
                    break
        filler.write_bytes(filler.read_bytes()[: -(200 << 10)])
        other = write_tiny_gguf(tmp_path / "other.gguf", seed=1)
        reply = await _create(client, "big", other)
        assert reply.status_code == 500
        assert reply.json()["error"].startswith("cannot write blob: no space left on the device")
        streamed = await client.post(
            "/api/create", json={"model": "big", "modelfile": f"FROM {other}\n"}
        )
        assert "no space left" in streamed.text.splitlines()[-1]
        assert [m["name"] for m in (await client.get("/api/tags")).json()["models"]] == [
            "kept:latest"
        ]
        assert store_problems(store) == []
        assert not [p for p in (store / "blobs").iterdir() if len(p.name) != 71]  # no temp files
        filler.unlink()
        assert (await _create(client, "big", other)).status_code == 200


async def test_a_read_only_store_is_a_clear_error_and_loses_nothing(
    small_disk: Path, tiny_gguf: Path
) -> None:
    store = small_disk / "models"
    async with asgi_client(store) as client:
        assert (await _create(client, "kept", tiny_gguf)).status_code == 200
        assert _mount("-o", "remount,ro", str(small_disk)).returncode == 0
        try:
            created = await _create(client, "new", tiny_gguf)
            assert created.status_code == 500
            assert "read-only file system" in created.json()["error"]
            copied = await client.post("/api/copy", json={"source": "kept", "destination": "c"})
            assert (copied.status_code, "read-only" in copied.json()["error"]) == (500, True)
            deleted = await client.request("DELETE", "/api/delete", json={"model": "kept"})
            assert (deleted.status_code, "read-only" in deleted.json()["error"]) == (500, True)
            digest = "sha256:" + "0" * 64
            upload = await client.post(f"/api/blobs/{digest}", content=b"x")
            assert (upload.status_code, "read-only" in upload.json()["error"]) == (500, True)
            shown = await client.post("/api/show", json={"model": "kept"})
            assert shown.status_code == 200
        finally:
            _mount("-o", "remount,rw", str(small_disk))
        assert store_problems(store) == []
        tags = (await client.get("/api/tags")).json()["models"]
        assert [m["name"] for m in tags] == ["kept:latest"]
