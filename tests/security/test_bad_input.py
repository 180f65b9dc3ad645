"""Bad requests: each is refused in its API family's error shape with the right status, and
the server goes on answering."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pollama import limits
from pollama.api.middleware import json_depth
from tests.fixtures.app import asgi_client

# One chat route per API family, with the error shape each answers in.
FAMILIES = {
    "/api/chat": lambda body: body["error"],
    "/v1/chat/completions": lambda body: body["error"]["message"],
    "/v1/messages": lambda body: body["error"]["message"],
}
BAD_NAMES = ["../../etc/passwd", "a/../b", "..", "a:..", "/abs", "x\x00y", "x\ny",
             "x\x1b[2Jy", "x\u202ey", "a" * 81, "ns/" + "m" * 81, "h" * 351 + "/n/m", "a:b:c",
             "ns.x/m"]  # fmt: skip


@pytest.fixture
async def client(isolated_store: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(isolated_store) as client:
        yield client
        assert (await client.get("/api/version")).status_code == 200


def _chat(path: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    if path == "/v1/messages":
        body["max_tokens"] = 8
    return {**body, **extra}


@pytest.mark.parametrize("path", FAMILIES)
@pytest.mark.parametrize(
    ("body", "said"),
    [(b'{"model": "m", ', "invalid JSON"), (b"\xff\xfe", "invalid JSON"),
     (b"[1, 2", "invalid JSON"), (b'"just a string"', ""), (b'{"model": 5}', "model"),
     (b'{"model": "m", "messages": "hi"}', "messages")],
)  # fmt: skip
async def test_malformed_json_and_wrong_types_are_400(
    client: httpx.AsyncClient, path: str, body: bytes, said: str
) -> None:
    reply = await client.post(path, content=body)
    assert reply.status_code == 400
    assert said in FAMILIES[path](reply.json())


@pytest.mark.parametrize("path", FAMILIES)
async def test_a_body_past_the_limit_is_413(
    client: httpx.AsyncClient, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_BODY_BYTES", 1 << 20)
    big = _chat(path, system="x" * (1 << 20))
    reply = await client.post(path, content=json.dumps(big).encode())
    assert reply.status_code == 413
    assert "larger than 1 MiB" in FAMILIES[path](reply.json())


async def test_a_body_whose_length_header_is_past_the_limit_is_413_unread(
    client: httpx.AsyncClient,
) -> None:
    too_long = str(limits.MAX_BODY_BYTES + 1)
    reply = await client.post("/api/chat", content=b"{}", headers={"Content-Length": too_long})
    assert reply.status_code == 413
    assert reply.json() == {"error": "request body is larger than 64 MiB"}


@pytest.mark.parametrize("path", FAMILIES)
async def test_nesting_past_the_limit_is_400(client: httpx.AsyncClient, path: str) -> None:
    deep = "[" * (limits.MAX_JSON_DEPTH + 1) + "]" * (limits.MAX_JSON_DEPTH + 1)
    body = json.dumps(_chat(path)).replace('"m"', '"m", "options": {"x": ' + deep + "}")
    reply = await client.post(path, content=body.encode())
    assert reply.status_code == 400
    assert "nests deeper than 128" in FAMILIES[path](reply.json())


def test_nesting_is_measured_outside_strings_only() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{\\"]]]]"}]}') == 3
    assert json_depth(b'"[[["') == 0
    assert json_depth(b"[]" * 1000) == 1


@pytest.mark.parametrize("path", FAMILIES)
async def test_more_messages_than_the_limit_is_400(client: httpx.AsyncClient, path: str) -> None:
    message = {"role": "user", "content": "hi"}
    body = _chat(path, messages=[message] * (limits.MAX_MESSAGES + 1))
    reply = await client.post(path, json=body)
    assert reply.status_code == 400
    assert "messages" in FAMILIES[path](reply.json())


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_bad_model_names_are_400_everywhere(client: httpx.AsyncClient, name: str) -> None:
    requests = [
        ("POST", "/api/show", {"model": name}),
        ("POST", "/api/generate", {"model": name}),
        ("POST", "/api/chat", {"model": name}),
        ("POST", "/api/embed", {"model": name, "input": "x"}),
        ("POST", "/api/create", {"model": name, "from": "x"}),
        ("POST", "/api/create", {"model": "fine", "from": name}),
        ("POST", "/api/copy", {"source": name, "destination": "y"}),
        ("POST", "/api/copy", {"source": "y", "destination": name}),
        ("DELETE", "/api/delete", {"model": name}),
        ("POST", "/v1/embeddings", {"model": name, "input": "x"}),
    ]
    for method, path, body in requests:
        reply = await client.request(method, path, json=body)
        assert reply.status_code == 400, (path, reply.text)
        assert "invalid" in reply.text


@pytest.mark.parametrize(
    "digest",
    ["md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:abc", "sha256:" + "g" * 64,
     "sha256:" + "a" * 63, "sha256:" + "a" * 65, "sha512:" + "a" * 128,
     ],
)  # fmt: skip
async def test_digests_that_are_not_sha256_are_400(client: httpx.AsyncClient, digest: str) -> None:
    assert (await client.head(f"/api/blobs/{digest}")).status_code == 400
    upload = await client.post(f"/api/blobs/{digest}", content=b"data")
    assert upload.json() == {"error": "invalid digest format"}
    created = await client.post("/api/create", json={"model": "m", "files": {"m.gguf": digest}})
    assert created.json() == {"error": "invalid digest format"}


async def test_a_digest_with_a_path_in_it_reaches_no_route(client: httpx.AsyncClient) -> None:
    reply = await client.post("/api/blobs/sha256:..%2F..%2Fmanifests", content=b"x")
    assert (reply.status_code, reply.text) == (404, "404 page not found")
