"""`POST /api/copy` and `DELETE /api/delete`: the store after each, and every error reply."""

from __future__ import annotations

from pathlib import Path

import httpx
import ollama
import pytest

from tests.api.models_helpers import client, create_tiny, digest_of, error_of, models_root, server

__all__ = ["client", "models_root", "server"]


def _names(client: ollama.Client) -> set[str]:
    return {m.model for m in client.list().models if m.model}


def test_copy_then_both_listed(client: ollama.Client, tiny_gguf: Path) -> None:
    create_tiny(client, "cp-src", tiny_gguf, system="copied system")
    assert client.copy("cp-src", "someone/cp-dst:v2").status == "success"
    assert {"cp-src:latest", "someone/cp-dst:v2"} <= _names(client)
    assert client.show("someone/cp-dst:v2").modelfile
    listed = {m.model: m.digest for m in client.list().models}
    assert listed["cp-src:latest"] == listed["someone/cp-dst:v2"]


def test_copy_reply_is_empty_200(server: str, client: ollama.Client, tiny_gguf: Path) -> None:
    create_tiny(client, "cp-empty", tiny_gguf)
    response = httpx.post(server + "/api/copy", json={"source": "cp-empty", "destination": "cp-e2"})
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"source": "missing", "destination": "x"}, (404, 'model "missing" not found')),
        ({"source": "bad name!", "destination": "x"}, (400, 'source "bad name!" is invalid')),
        ({"source": "a", "destination": "bad dest"}, (400, 'destination "bad dest" is invalid')),
        ({"source": "", "destination": "x"}, (400, 'source "" is invalid')),
    ],
)
def test_copy_errors(server: str, body: dict, expected: tuple[int, str]) -> None:
    assert error_of(httpx.post(server + "/api/copy", json=body)) == expected


def test_delete_removes_model_and_prunes_blobs(
    client: ollama.Client, tiny_gguf: Path, models_root: Path, tmp_path: Path
) -> None:
    # A GGUF of its own, so no other test's model shares its blob.
    own = tmp_path / "own.gguf"
    own.write_bytes(tiny_gguf.read_bytes() + b"\x00" * 32)
    create_tiny(client, "rm-me", own)
    blob = models_root / "blobs" / digest_of(own).replace(":", "-")
    assert blob.exists()
    assert client.delete("rm-me").status == "success"
    assert "rm-me:latest" not in _names(client)
    assert not blob.exists()


def test_delete_keeps_blobs_still_in_use(
    client: ollama.Client, tiny_gguf: Path, models_root: Path, tmp_path: Path
) -> None:
    own = tmp_path / "shared.gguf"
    own.write_bytes(tiny_gguf.read_bytes() + b"\x01" * 32)
    create_tiny(client, "rm-a", own)
    client.copy("rm-a", "rm-b")
    client.delete("rm-a")
    assert (models_root / "blobs" / digest_of(own).replace(":", "-")).exists()
    assert client.show("rm-b").details is not None


def test_delete_reply_is_empty_200(server: str, client: ollama.Client, tiny_gguf: Path) -> None:
    create_tiny(client, "rm-empty", tiny_gguf)
    response = httpx.request("DELETE", server + "/api/delete", json={"name": "rm-empty"})
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"json": {"model": "ghost"}}, (404, "model 'ghost' not found")),
        ({"json": {}}, (400, "model is required")),
        ({"content": b""}, (400, "missing request body")),
    ],
)
def test_delete_errors(server: str, kwargs: dict, expected: tuple[int, str]) -> None:
    response = httpx.request(
        "DELETE", server + "/api/delete", headers={"content-type": "application/json"}, **kwargs
    )
    assert error_of(response) == expected


def test_ollama_client_delete_unknown_raises(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.delete("ghost")
    assert info.value.status_code == 404
