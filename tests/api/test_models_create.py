"""`POST /api/create`: both request forms, streamed and not, and the error replies."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import ollama
import pytest

from tests.api.models_helpers import client, digest_of, error_of, models_root, server

__all__ = ["client", "models_root", "server"]


def _stream(server: str, body: dict) -> tuple[httpx.Response, list[dict]]:
    with httpx.stream("POST", server + "/api/create", json=body, timeout=60) as response:
        raw = response.read()
    return response, [json.loads(line) for line in raw.splitlines() if line]


def test_files_form_streams_statuses(client: ollama.Client, tiny_gguf: Path) -> None:
    digest = client.create_blob(tiny_gguf)
    statuses = [
        p.status for p in client.create(model="cr-files", files={"m.gguf": digest}, stream=True)
    ]
    assert statuses[-1] == "success"
    assert len(statuses) > 1
    assert client.show("cr-files").details.family == "llama"  # type: ignore[union-attr]


def test_stream_is_ndjson_by_default(server: str, client: ollama.Client, tiny_gguf: Path) -> None:
    digest = client.create_blob(tiny_gguf)
    response, lines = _stream(server, {"model": "cr-ndjson", "files": {"m.gguf": digest}})
    assert response.headers["content-type"] == "application/x-ndjson"
    assert all(set(line) <= {"status", "digest", "total", "completed"} for line in lines)
    assert lines[-1] == {"status": "success"}


def test_not_streamed_returns_last_status(
    server: str, client: ollama.Client, tiny_gguf: Path
) -> None:
    digest = client.create_blob(tiny_gguf)
    body = {"model": "cr-once", "files": {"m.gguf": digest}, "stream": False}
    response = httpx.post(server + "/api/create", json=body, timeout=60)
    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert (
        client.create(model="cr-once2", files={"m.gguf": digest}, stream=False).status == "success"
    )


def test_from_existing_model_with_overrides(client: ollama.Client, tiny_gguf: Path) -> None:
    digest = client.create_blob(tiny_gguf)
    client.create(model="cr-base", files={"m.gguf": digest}, system="base system", stream=False)
    client.create(
        model="cr-child",
        from_="cr-base",
        system="child system",
        parameters={"temperature": 0.1},
        stream=False,
    )
    child = client.show("cr-child")
    assert "child system" in (child.modelfile or "")
    assert "temperature" in (child.parameters or "")


def test_old_modelfile_form(server: str, client: ollama.Client, tiny_gguf: Path) -> None:
    body = {"name": "cr-old", "modelfile": f"FROM {tiny_gguf}\nSYSTEM old form\n"}
    response, lines = _stream(server, body)
    assert response.status_code == 200
    assert lines[-1] == {"status": "success"}
    assert client.show("cr-old").modelfile and "SYSTEM old form" in client.show("cr-old").modelfile  # type: ignore[operator]


def test_old_modelfile_form_not_streamed_from_model(
    server: str, client: ollama.Client, tiny_gguf: Path
) -> None:
    client.create(
        model="cr-old-base", files={"m.gguf": client.create_blob(tiny_gguf)}, stream=False
    )
    body = {
        "model": "cr-old-child",
        "modelfile": "FROM cr-old-base\nPARAMETER top_k 3\n",
        "stream": False,
    }
    assert httpx.post(server + "/api/create", json=body, timeout=60).json() == {"status": "success"}
    assert "top_k" in (client.show("cr-old-child").parameters or "")


def test_blob_is_content_addressed(
    client: ollama.Client, tiny_gguf: Path, models_root: Path
) -> None:
    client.create(model="cr-blob", files={"m.gguf": client.create_blob(tiny_gguf)}, stream=False)
    assert (models_root / "blobs" / digest_of(tiny_gguf).replace(":", "-")).exists()


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"json": {"model": "bad name!", "from": "x"}}, 400, "invalid model name"),
        ({"json": {"from": "x"}}, 400, "invalid model name"),
        ({"content": b""}, 400, "missing request body"),
        ({"content": b"[1,"}, 400, None),
        # A base that is not here is pulled, as Ollama does; nothing listens on port 1.
        (
            {"json": {"model": "cr-err", "from": "127.0.0.1:1/ns/absent", "stream": False}},
            500,
            "pull model manifest: could not connect to the registry: "
            "All connection attempts failed",
        ),
        ({"json": {"model": "cr-err2", "stream": False}}, 400, None),
        # Checked before the stream starts, so even a streamed create answers with a status.
        ({"json": {"model": "cr-err3"}}, 400, "neither 'from' or 'files' was specified"),
        (
            {"json": {"model": "cr-err4", "files": {"../m.gguf": "sha256:" + "0" * 64}}},
            400,
            "file path must be relative",
        ),
        (
            {"json": {"model": "cr-err5", "files": {"m.gguf": "sha256-../../x"}}},
            400,
            "invalid digest format",
        ),
        (
            {"json": {"model": "cr-err6", "from": "x", "requires": "banana"}},
            400,
            "requires must be a valid semver (e.g. 0.14.0)",
        ),
    ],
)
def test_create_errors(server: str, kwargs: dict, status: int, message: str | None) -> None:
    response = httpx.post(
        server + "/api/create", headers={"content-type": "application/json"}, timeout=60, **kwargs
    )
    got_status, got_message = error_of(response)
    assert got_status == status
    if message is not None:
        assert got_message == message


def test_unknown_blob_in_files_is_an_error(server: str) -> None:
    body = {"model": "cr-noblob", "files": {"m.gguf": "sha256:" + "0" * 64}, "stream": False}
    assert httpx.post(server + "/api/create", json=body, timeout=60).status_code in {400, 404}


def test_unknown_fields_are_ignored(client: ollama.Client, server: str, tiny_gguf: Path) -> None:
    digest = client.create_blob(tiny_gguf)
    body = {"model": "cr-extra", "files": {"m.gguf": digest}, "stream": False, "whatever": 1}
    assert httpx.post(server + "/api/create", json=body, timeout=60).json() == {"status": "success"}


def test_renderer_parser_and_requires_reach_the_config(
    client: ollama.Client, server: str, models_root: Path, tiny_gguf: Path
) -> None:
    digest = client.create_blob(tiny_gguf)
    body = {
        "model": "cr-renderer",
        "files": {"m.gguf": digest},
        "renderer": "qwen3-coder",
        "parser": "qwen3-coder",
        "requires": "v0.14.0",
        "stream": False,
    }
    assert httpx.post(server + "/api/create", json=body, timeout=60).status_code == 200
    manifest = json.loads(
        (models_root / "manifests/registry.ollama.ai/library/cr-renderer/latest").read_text()
    )
    config_blob = models_root / "blobs" / manifest["config"]["digest"].replace(":", "-")
    config = json.loads(config_blob.read_text())
    assert (config["renderer"], config["parser"], config["requires"]) == (
        "qwen3-coder",
        "qwen3-coder",
        "0.14.0",
    )
