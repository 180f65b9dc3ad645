"""Helpers for the model-management tests: one live server per test module, over its own store.

A server per module keeps the suite quick; each test uses model names of its own, so tests
in a module do not see each other's models.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from tests.fixtures.app_server import app_server


@pytest.fixture(scope="module")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served-models")


@pytest.fixture(scope="module")
def server(models_root: Path) -> Iterator[str]:
    """The URL of a live `pollama serve` over `models_root`."""
    with app_server(models_root) as url:
        yield url


@pytest.fixture
def client(server: str) -> ollama.Client:
    return ollama.Client(host=server)


def digest_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def create_tiny(client: ollama.Client, name: str, gguf: Path, **fields: object) -> None:
    """Create `name` from the tiny GGUF the way the ollama client does: blob, then `files`."""
    digest = client.create_blob(gguf)
    for _ in client.create(model=name, files={"tiny.gguf": digest}, stream=True, **fields):  # type: ignore[call-overload]
        pass


def error_of(response: httpx.Response) -> tuple[int, str]:
    """The status and the `error` message of an error reply."""
    return response.status_code, response.json()["error"]
