"""`GET|HEAD /`, `/api/version` and `/api/tags` through the ollama client and httpx."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import httpx
import ollama

from pollama import __version__
from pollama.api.app import create_app
from pollama.engine.scheduler import Scheduler
from pollama.store import Store
from tests.api.models_helpers import client, create_tiny, models_root, server

__all__ = ["client", "models_root", "server"]


def test_root_says_ollama_is_running(server: str) -> None:
    response = httpx.get(server + "/")
    assert response.status_code == 200
    assert response.text == "Ollama is running"
    assert response.headers["content-type"].startswith("text/plain")
    head = httpx.head(server + "/")
    assert head.status_code == 200
    assert head.content == b""


def test_version(server: str) -> None:
    assert httpx.get(server + "/api/version").json() == {"version": __version__}
    assert httpx.head(server + "/api/version").status_code == 200


def test_tags_lists_models_newest_first(
    client: ollama.Client, server: str, tiny_gguf: Path
) -> None:
    create_tiny(client, "tags-old", tiny_gguf)
    time.sleep(0.05)
    create_tiny(client, "tags-new:v1", tiny_gguf)
    raw = httpx.get(server + "/api/tags").json()["models"]
    names = [m["name"] for m in raw]
    assert names.index("tags-new:v1") < names.index("tags-old:latest")
    entry = next(m for m in raw if m["name"] == "tags-old:latest")
    assert entry["model"] == "tags-old:latest"
    assert len(entry["digest"]) == 64 and not entry["digest"].startswith("sha256")
    assert entry["size"] >= tiny_gguf.stat().st_size
    assert entry["details"]["format"] == "gguf"
    assert entry["details"]["family"] == "llama"
    assert entry["details"]["parent_model"] == ""
    assert entry["modified_at"].endswith("Z") or entry["modified_at"][-6] in "+-"

    listed = client.list()
    assert {m.model for m in listed.models} >= {"tags-old:latest", "tags-new:v1"}


def test_tags_head(server: str) -> None:
    response = httpx.head(server + "/api/tags")
    assert response.status_code == 200
    assert response.content == b""


def test_tags_empty_store_is_an_empty_list(tmp_path: Path) -> None:
    from tests.fixtures.app_server import app_server

    with app_server(tmp_path) as url:
        assert httpx.get(url + "/api/tags").json() == {"models": []}


def test_the_openapi_schema_names_each_operation_once(tmp_path: Path) -> None:
    """HEAD twins and the OCI `/v2/` surface stay out of it, so no operation id repeats
    (FastAPI warns at every start-up otherwise)."""
    app = create_app(Store(tmp_path), Scheduler())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = app.openapi()["paths"]
    assert "/api/tags" in paths and not [p for p in paths if p.startswith("/v2")]
    ids = [op["operationId"] for path in paths.values() for op in path.values()]
    assert len(ids) == len(set(ids))
