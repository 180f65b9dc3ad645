"""Fixtures of the registry tests: a real docker-registry behind a counting front, and
pollama apps served in-process through httpx's ASGI transport."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from pollama.api import create_app
from pollama.create import create_from_request
from pollama.engine.scheduler import Scheduler
from pollama.registry import Registry, RegistrySettings
from pollama.registry.auth import CredentialStore
from pollama.store import Store
from tests.fixtures.server import free_port
from tests.registry.front import Front, front_of
from tests.registry.registries import docker_registry


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Front, str]]:
    """An open registry behind a counting front: (the front, its `host:port`)."""
    root = tmp_path_factory.mktemp("registry")
    with docker_registry(root) as upstream:
        counting = Front(upstream, None, {})
        counting.storage = root / "storage"
        with front_of(counting, free_port()) as host:
            yield counting, host


@asynccontextmanager
async def pollama(
    root: Path,
    key: Path,
    *,
    docker_config: Path | None = None,
    settings: RegistrySettings | None = None,
    serve_models: bool = False,
) -> AsyncIterator[httpx.AsyncClient]:
    """A pollama app over the store at `root`, reached in-process; with `serve_models` its
    scheduler runs too (for `/api/generate`)."""
    store = Store(root)
    registry = Registry(
        store, key_path=key, credentials=CredentialStore(docker_config), settings=settings
    )
    app = create_app(store, Scheduler(), registry)
    transport = httpx.ASGITransport(app=app)
    # A loopback server answers requests addressed to this machine only (DNS rebinding).
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        if serve_models:
            async with app.router.lifespan_context(app):
                yield client
        else:
            try:
                yield client
            finally:
                await registry.aclose()


def create_tiny(root: Path, gguf: Path, name: str, **fields: object) -> None:
    """Create `name` in the store at `root` from the tiny GGUF, as `/api/create` would."""
    store = Store(root)
    digest = store.blobs.import_file(gguf)[0]
    for _ in create_from_request(store, name, files={"tiny.gguf": digest}, **fields):  # type: ignore[arg-type]
        pass


async def push_tiny(
    tmp_path: Path,
    gguf: Path,
    name: str,
    *,
    docker_config: Path | None = None,
    settings: RegistrySettings | None = None,
    **fields: object,
) -> list[dict]:
    """Create `name` from the tiny GGUF in the store `tmp_path/a` and push it from there."""
    create_tiny(tmp_path / "a", gguf, name, **fields)
    async with pollama(
        tmp_path / "a", tmp_path / "key", docker_config=docker_config, settings=settings
    ) as a:
        return await progress(a, "/api/push", {"model": name, "insecure": True})


async def progress(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> list[dict]:
    """The NDJSON lines of a streamed pull or push."""
    response = await client.post(path, json=body, timeout=120)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def statuses(lines: list[dict]) -> list[str]:
    """The distinct statuses in order (a blob's progress lines count once)."""
    out: list[str] = []
    for line in lines:
        status = line.get("status") or f"error: {line.get('error')}"
        if not out or out[-1] != status:
            out.append(status)
    return out
