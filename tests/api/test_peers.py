"""`/v2/`: the store served read-only as an OCI registry, in-process through the app."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pollama.api import create_app
from pollama.api.routes.peers import CHUNK
from pollama.create import create_from_modelfile
from pollama.engine.scheduler import Scheduler
from pollama.store import Layer, Manifest, ModelName, Store
from pollama.store import manifest as mt

DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def _create(store: Store, name: str, modelfile: str) -> None:
    for _status in create_from_modelfile(store, name, modelfile):
        pass


@pytest.fixture
def store(isolated_store: Path, tiny_gguf: Path) -> Store:
    """`peer-tiny` (the tiny GGUF), `other` (one blob of a few MiB), and `peer-tiny` under a
    second host with a SYSTEM of its own."""
    store = Store(isolated_store)
    _create(store, "peer-tiny", f"FROM {tiny_gguf}\n")
    big = bytes(range(256)) * (3 * CHUNK // 256 + 7)
    layer = Layer(mt.LICENSE, store.write_blob([big]), len(big))
    config = Layer(mt.CONFIG_MEDIA_TYPE, store.write_blob([b"{}"]), 2)
    store.write_manifest(ModelName.parse("other"), Manifest(config, (layer,)))
    _create(store, "elsewhere.example:5000/library/peer-tiny", f"FROM {tiny_gguf}\nSYSTEM hi\n")
    return store


@pytest.fixture
async def peer(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(store, Scheduler())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        yield client


def _manifest_bytes(store: Store, name: str) -> bytes:
    return store.manifest_path(ModelName.parse(name)).read_bytes()


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _error_code(reply: httpx.Response) -> tuple[int, str]:
    return reply.status_code, reply.json()["errors"][0]["code"]


async def test_the_base_says_registry_v2(peer: httpx.AsyncClient) -> None:
    reply = await peer.get("/v2/")
    assert reply.status_code == 200
    assert reply.json() == {}
    assert reply.headers["docker-distribution-api-version"] == "registry/2.0"


async def test_a_manifest_is_served_as_stored_byte_for_byte(
    peer: httpx.AsyncClient, store: Store
) -> None:
    raw = _manifest_bytes(store, "peer-tiny")
    reply = await peer.get("/v2/library/peer-tiny/manifests/latest")
    assert reply.status_code == 200
    assert reply.content == raw
    assert reply.headers["content-type"] == DOCKER_V2
    assert reply.headers["docker-content-digest"] == _sha(raw)

    head = await peer.head("/v2/library/peer-tiny/manifests/latest")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(raw))
    assert head.headers["docker-content-digest"] == _sha(raw)


async def test_a_manifest_is_found_by_its_digest_and_by_any_case(
    peer: httpx.AsyncClient, store: Store
) -> None:
    raw = _manifest_bytes(store, "peer-tiny")
    by_digest = await peer.get(f"/v2/library/peer-tiny/manifests/{_sha(raw)}")
    assert by_digest.content == raw
    shouted = await peer.get("/v2/Library/PEER-tiny/manifests/LATEST")
    assert shouted.content == raw


async def test_the_default_host_wins_over_another_host_with_the_same_tag(
    peer: httpx.AsyncClient, store: Store
) -> None:
    other = _manifest_bytes(store, "elsewhere.example:5000/library/peer-tiny")
    reply = await peer.get("/v2/library/peer-tiny/manifests/latest")
    assert reply.content == _manifest_bytes(store, "peer-tiny") != other
    # The other host's manifest is still reachable by its digest.
    assert (await peer.get(f"/v2/library/peer-tiny/manifests/{_sha(other)}")).content == other


async def test_tags_are_listed(peer: httpx.AsyncClient) -> None:
    reply = await peer.get("/v2/library/peer-tiny/tags/list")
    assert reply.json() == {"name": "library/peer-tiny", "tags": ["latest"]}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v2/library/peer-tiny/manifests/nope", 404, "MANIFEST_UNKNOWN"),
        ("/v2/library/peer-tiny/manifests/sha256:" + "0" * 64, 404, "MANIFEST_UNKNOWN"),
        ("/v2/library/absent/manifests/latest", 404, "NAME_UNKNOWN"),
        ("/v2/library/absent/blobs/sha256:" + "0" * 64, 404, "NAME_UNKNOWN"),
        ("/v2/-bad/peer-tiny/manifests/latest", 400, "NAME_INVALID"),
        ("/v2/library/peer-tiny/blobs/sha256:" + "0" * 64, 404, "BLOB_UNKNOWN"),
        ("/v2/library/peer-tiny/blobs/not-a-digest", 404, "BLOB_UNKNOWN"),
        ("/v2/_catalog", 404, "UNSUPPORTED"),
    ],
)
async def test_misses_are_oci_errors(
    peer: httpx.AsyncClient, path: str, status: int, code: str
) -> None:
    assert _error_code(await peer.get(path)) == (status, code)


async def test_a_blob_of_another_repository_is_not_served_through_this_one(
    peer: httpx.AsyncClient, store: Store
) -> None:
    _, manifest, _, _ = store.read_manifest("other")
    license_digest = manifest.layers[0].digest
    assert (await peer.get(f"/v2/library/other/blobs/{license_digest}")).status_code == 200
    reply = await peer.get(f"/v2/library/peer-tiny/blobs/{license_digest}")
    assert _error_code(reply) == (404, "BLOB_UNKNOWN")


def _model_blob(store: Store) -> tuple[str, bytes]:
    _, manifest, _, _ = store.read_manifest("peer-tiny")
    digest = manifest.layers[0].digest
    return digest, store.blob_path(digest).read_bytes()


async def test_a_blob_is_served_whole_and_its_head_has_no_body(
    peer: httpx.AsyncClient, store: Store
) -> None:
    digest, data = _model_blob(store)
    url = f"/v2/library/peer-tiny/blobs/{digest}"
    reply = await peer.get(url)
    assert reply.status_code == 200
    assert reply.content == data
    assert reply.headers["docker-content-digest"] == digest
    assert reply.headers["accept-ranges"] == "bytes"
    head = await peer.head(url)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(data))


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=1000-", 1000, None),
        ("bytes=-10", -10, None),
        ("bytes=5-999999999", 5, None),  # an end past the blob is cut to it
    ],
)
async def test_a_range_is_served_as_206_with_its_content_range(
    peer: httpx.AsyncClient, store: Store, header: str, start: int, end: int | None
) -> None:
    digest, data = _model_blob(store)
    expected = data[start:end]
    first = start if start >= 0 else len(data) + start
    reply = await peer.get(f"/v2/library/peer-tiny/blobs/{digest}", headers={"Range": header})
    assert reply.status_code == 206
    assert reply.content == expected
    assert reply.headers["content-range"] == (
        f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    )


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0"])
async def test_a_range_past_the_end_is_416(
    peer: httpx.AsyncClient, store: Store, header: str
) -> None:
    digest, data = _model_blob(store)
    reply = await peer.get(f"/v2/library/peer-tiny/blobs/{digest}", headers={"Range": header})
    assert reply.status_code == 416
    assert reply.headers["content-range"] == f"bytes */{len(data)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "items=0-5", "bytes=9-2", "nonsense"])
async def test_a_range_that_is_not_one_byte_range_is_ignored(
    peer: httpx.AsyncClient, store: Store, header: str
) -> None:
    digest, data = _model_blob(store)
    reply = await peer.get(f"/v2/library/peer-tiny/blobs/{digest}", headers={"Range": header})
    assert (reply.status_code, reply.content) == (200, data)


async def test_a_large_blob_goes_out_a_chunk_at_a_time(store: Store) -> None:
    """Driven at the ASGI level, where each body message is seen (httpx's transport joins
    them): a blob is sent in pieces of at most CHUNK bytes, never read whole first."""
    _, manifest, _, _ = store.read_manifest("other")
    layer = manifest.layers[0]
    app = create_app(store, Scheduler())
    path = f"/v2/library/other/blobs/{layer.digest}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1),
        "server": ("localhost", 80),
    }
    pieces: list[int] = []

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays until the response ends
        raise AssertionError("unreachable")

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            pieces.append(len(message["body"]))  # type: ignore[arg-type]

    await app(scope, receive, send)
    assert sum(pieces) == layer.size
    assert max(pieces) <= CHUNK
    assert len(pieces) >= layer.size // CHUNK


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/library/peer-tiny/blobs/uploads/"),
        ("PUT", "/v2/library/peer-tiny/manifests/latest"),
        ("PATCH", "/v2/library/peer-tiny/blobs/uploads/some-id"),
        ("DELETE", "/v2/library/peer-tiny/manifests/latest"),
        ("DELETE", "/v2/library/peer-tiny/blobs/sha256:" + "0" * 64),
    ],
)
async def test_writes_are_refused(
    peer: httpx.AsyncClient, store: Store, method: str, path: str
) -> None:
    before = _manifest_bytes(store, "peer-tiny")
    reply = await peer.request(method, path, content=b"{}")
    assert _error_code(reply) == (405, "UNSUPPORTED")
    assert _manifest_bytes(store, "peer-tiny") == before


async def test_no_peers_turns_v2_off(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_NO_PEERS", "1")
    transport = httpx.ASGITransport(app=create_app(store, Scheduler()))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        reply = await client.get("/v2/library/peer-tiny/manifests/latest")
        assert (reply.status_code, reply.text) == (404, "404 page not found")
        assert (await client.get("/api/tags")).status_code == 200
