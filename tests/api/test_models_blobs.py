"""`HEAD`/`POST /api/blobs/:digest`: existence, upload with the digest verified, bad digests."""

from __future__ import annotations

import hashlib

import httpx
import ollama
import pytest

from tests.api.models_helpers import client, error_of, models_root, server

__all__ = ["client", "models_root", "server"]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_upload_then_head(server: str) -> None:
    data = b"some blob bytes" * 1000
    digest = _digest(data)
    assert httpx.head(f"{server}/api/blobs/{digest}").status_code == 404
    assert httpx.post(f"{server}/api/blobs/{digest}", content=data).status_code == 201
    assert httpx.head(f"{server}/api/blobs/{digest}").status_code == 200
    # Uploading what is already there is answered 200, not 201.
    assert httpx.post(f"{server}/api/blobs/{digest}", content=data).status_code == 200


def test_dash_form_of_digest_is_accepted(server: str) -> None:
    data = b"dash form"
    digest = _digest(data).replace("sha256:", "sha256-")
    assert httpx.post(f"{server}/api/blobs/{digest}", content=data).status_code == 201
    assert httpx.head(f"{server}/api/blobs/{_digest(data)}").status_code == 200


def test_upload_streams_a_chunked_body(server: str) -> None:
    chunks = [bytes([i]) * 65536 for i in range(8)]
    digest = _digest(b"".join(chunks))
    response = httpx.post(f"{server}/api/blobs/{digest}", content=iter(chunks))
    assert response.status_code == 201
    assert httpx.head(f"{server}/api/blobs/{digest}").status_code == 200


def test_ollama_client_create_blob(
    client: ollama.Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("blob") / "file.bin"
    path.write_bytes(b"\x00\x01" * 5000)
    assert client.create_blob(path) == _digest(path.read_bytes())


def test_digest_mismatch_is_400_and_stores_nothing(server: str) -> None:
    wrong = _digest(b"something else")
    status, message = error_of(httpx.post(f"{server}/api/blobs/{wrong}", content=b"payload"))
    assert status == 400
    assert message.startswith("digest mismatch")
    assert httpx.head(f"{server}/api/blobs/{wrong}").status_code == 404


@pytest.mark.parametrize(
    "digest",
    ["sha256:abc", "md5:" + "0" * 64, "sha256:" + "g" * 64, "sha256_" + "0" * 64, "0" * 64],
)
def test_bad_digest_format(server: str, digest: str) -> None:
    assert error_of(httpx.post(f"{server}/api/blobs/{digest}", content=b"x")) == (
        400,
        "invalid digest format",
    )
    assert httpx.head(f"{server}/api/blobs/{digest}").status_code == 400
