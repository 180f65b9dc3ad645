"""`/api/pull` and `/api/push` against a real docker-registry: Ollama's statuses, the model
round trip, blobs already present, corruption on either side, missing models."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pollama.store import ModelName, Store
from tests.api.generate_helpers import TINY_OPTIONS
from tests.registry.conftest import create_tiny, pollama, progress, push_tiny, statuses
from tests.registry.front import Front


def _hex12(digest: str) -> str:
    return digest[7:19]


def _layers(root: Path, name: str) -> list[tuple[str, int]]:
    manifest = Store(root).read_manifest(name)[1]
    return [(layer.digest, layer.size) for layer in (*manifest.layers, manifest.config)]


async def test_push_remove_and_pull_back_streams_ollamas_statuses_and_the_model_answers(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/tiny:latest"
    create_tiny(tmp_path / "a", tiny_gguf, name, system="Be brief.")
    layers = _layers(tmp_path / "a", name)
    async with pollama(tmp_path / "a", tmp_path / "key") as a:
        pushed = await progress(a, "/api/push", {"model": name, "insecure": True})
    blob_statuses = [f"pushing {_hex12(d)}" for d, _ in layers]
    assert statuses(pushed) == [
        "retrieving manifest",
        *blob_statuses,
        "pushing manifest",
        "success",
    ]
    for line in pushed:
        if line["status"].startswith("pushing ") and "digest" in line:
            assert set(line) <= {"status", "digest", "total", "completed"}
            assert line["total"] == dict(layers)[line["digest"]]

    # Removed here, then pulled back: every blob comes from the registry.
    original = {
        digest: Store(tmp_path / "a").blob_path(digest).read_bytes() for digest, _ in layers
    }
    original_manifest = Store(tmp_path / "a").read_manifest(name)[2]
    Store(tmp_path / "a").delete(name)
    assert not any(Store(tmp_path / "a").has_blob(digest) for digest in original)
    counting.blob_bytes = 0
    async with pollama(tmp_path / "a", tmp_path / "key", serve_models=True) as a:
        pulled = await progress(a, "/api/pull", {"model": name, "insecure": True})
        assert statuses(pulled) == [
            "pulling manifest",
            *(f"pulling {_hex12(d)}" for d, _ in layers),
            "verifying sha256 digest",
            "writing manifest",
            "success",
        ]
        for digest, size in layers:
            last = [line for line in pulled if line.get("digest") == digest][-1]
            assert last == {
                "status": f"pulling {_hex12(digest)}",
                "digest": digest,
                "total": size,
                "completed": size,
            }
        assert counting.blob_bytes == sum(size for _, size in layers)
        answer = await a.post(
            "/api/generate",
            json={"model": name, "prompt": "hi", "stream": False, "options": TINY_OPTIONS},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["done"] is True and answer.json()["eval_count"] > 0
    for digest, data in original.items():
        assert Store(tmp_path / "a").blob_path(digest).read_bytes() == data
    # The manifest is the registry's bytes: compact, without create's trailing newline.
    assert Store(tmp_path / "a").read_manifest(name)[2] == original_manifest.rstrip(b"\n")


async def test_pull_of_a_present_model_fetches_no_blob(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/present:latest"
    await push_tiny(tmp_path, tiny_gguf, name)
    counting.blob_bytes = 0
    async with pollama(tmp_path / "a", tmp_path / "key") as a:
        again = await progress(a, "/api/pull", {"model": name, "insecure": True})
    assert counting.blob_bytes == 0
    per_blob = [line for line in again if "digest" in line]
    assert len(per_blob) == len(_layers(tmp_path / "a", name))
    assert all(line["completed"] == line["total"] for line in per_blob)
    assert again[-1] == {"status": "success"}


async def test_the_manifest_is_asked_for_as_ollama_asks(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/accept:latest"
    await push_tiny(tmp_path, tiny_gguf, name)
    counting.manifest_accepts.clear()
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        assert (await progress(b, "/api/pull", {"model": name, "insecure": True}))[-1] == {
            "status": "success"
        }
    # Ollama's pullModelManifest sends this one media type, and nothing else.
    assert counting.manifest_accepts == ["application/vnd.docker.distribution.manifest.v2+json"]


async def test_stream_false_answers_the_last_status(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    _, host = front
    name = f"{host}/test/quiet:v1"
    create_tiny(tmp_path / "a", tiny_gguf, name)
    async with pollama(tmp_path / "a", tmp_path / "key") as a:
        push = await a.post("/api/push", json={"model": name, "insecure": True, "stream": False})
    assert (push.status_code, push.json()) == (200, {"status": "success"})
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        pull = await b.post("/api/pull", json={"name": name, "insecure": True, "stream": False})
    assert (pull.status_code, pull.json()) == (200, {"status": "success"})
    assert pull.headers["content-type"].startswith("application/json")


async def test_a_corrupted_blob_is_downloaded_again(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/repair:latest"
    await push_tiny(tmp_path, tiny_gguf, name)
    model_digest, model_size = _layers(tmp_path / "a", name)[0]
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        await progress(b, "/api/pull", {"model": name, "insecure": True})
        blob = Store(tmp_path / "b").blob_path(model_digest)
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped byte, size unchanged
        blob.write_bytes(bytes(data))
        counting.blob_bytes = 0
        again = await progress(b, "/api/pull", {"model": name, "insecure": True})
    assert again[-1] == {"status": "success"}
    assert counting.blob_bytes == model_size  # only the corrupted blob came again
    assert "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest() == model_digest


async def test_a_blob_that_does_not_match_its_digest_is_refused(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/tampered:latest"
    await push_tiny(tmp_path, tiny_gguf, name, system="a system prompt only this test uses")
    system_digest = _layers(tmp_path / "a", name)[1][0]
    assert counting.storage is not None
    stored = next(counting.storage.rglob(f"{system_digest.removeprefix('sha256:')}/data"))
    stored.write_bytes(stored.read_bytes().upper())  # the registry now serves other bytes
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    got = "sha256:" + hashlib.sha256(stored.read_bytes()).hexdigest()
    assert lines[-1] == {
        "error": f"digest mismatch, file must be downloaded again: want {system_digest}, got {got}"
    }
    store = Store(tmp_path / "b")
    assert not store.manifest_path(ModelName.parse(name)).exists()
    assert not store.has_blob(system_digest)
    assert not list(store.blobs.root.glob("*partial*"))


async def test_a_missing_model_gives_ollamas_error(
    front: tuple[Front, str], tmp_path: Path
) -> None:
    _, host = front
    body = {"model": f"{host}/test/nothing-here:latest", "insecure": True}
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        lines = await progress(b, "/api/pull", body)
        whole = await b.post("/api/pull", json={**body, "stream": False})
    assert lines == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]
    assert whole.status_code == 500
    assert whole.json() == {"error": "pull model manifest: file does not exist"}


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/api/pull", {}, "invalid model name"),
        ("/api/pull", {"model": "bad/name/with/too/many"}, "invalid model name"),
        ("/api/push", {}, "model is required"),
        (
            "/api/pull",
            {"model": "m", "username": "u", "password": "p"},
            "username and password are not read from requests: log in with `docker login` "
            "(~/.docker/config.json) or set OLLAMA_REGISTRY_USERNAME and OLLAMA_REGISTRY_PASSWORD",
        ),
    ],
)
async def test_bad_names_are_refused_before_the_stream(
    tmp_path: Path, path: str, body: dict[str, object], error: str
) -> None:
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        response = await b.post(path, json=body)
    assert (response.status_code, response.json()) == (400, {"error": error})


async def test_push_to_the_library_namespace_gets_ollamas_error(
    tmp_path: Path, tiny_gguf: Path
) -> None:
    create_tiny(tmp_path / "a", tiny_gguf, "tiny")
    async with pollama(tmp_path / "a", tmp_path / "key") as a:
        lines = await progress(a, "/api/push", {"model": "tiny"})
    assert lines == [
        {"status": "retrieving manifest"},
        {
            "error": "unable to push library/tiny, make sure this namespace exists and you "
            "are authorized to push to it"
        },
    ]


async def _pull_two_versions(
    tmp_path: Path,
    tiny_gguf: Path,
    name: str,
    systems: tuple[str, str],
    between: Callable[[Path], None],
) -> tuple[str, list[dict]]:
    """Server b pulls `name` with the first system prompt, then, once the registry has the
    second and `between` was called with the path of the old system blob, pulls it again; the
    old system layer's digest and the second pull's lines."""
    await push_tiny(tmp_path, tiny_gguf, name, system=systems[0])
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        await progress(b, "/api/pull", {"model": name, "insecure": True})
        old_system = _layers(tmp_path / "b", name)[1][0]
        await push_tiny(tmp_path, tiny_gguf, name, system=systems[1])
        between(Store(tmp_path / "b").blob_path(old_system))
        lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    return old_system, lines


@pytest.mark.parametrize("noprune", [False, True])
async def test_a_pull_that_replaces_layers_removes_the_unused_ones(
    front: tuple[Front, str],
    tmp_path: Path,
    tiny_gguf: Path,
    monkeypatch: pytest.MonkeyPatch,
    noprune: bool,
) -> None:
    _, host = front
    name = f"{host}/test/versions-{int(noprune)}:latest"

    def before_the_second_pull(_old_system: Path) -> None:
        if noprune:
            monkeypatch.setenv("OLLAMA_NOPRUNE", "1")

    old_system, lines = await _pull_two_versions(
        tmp_path, tiny_gguf, name, ("version one", "version two"), before_the_second_pull
    )
    assert ("removing unused layers" in statuses(lines)) is not noprune
    assert lines[-1] == {"status": "success"}
    assert Store(tmp_path / "b").has_blob(old_system) is noprune
    assert Store(tmp_path / "b").get_model(name).system == "version two"


async def test_a_pull_that_cannot_remove_the_unused_layers_says_so_and_succeeds(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    _, host = front
    name = f"{host}/test/stuck-layers:latest"

    def block_the_old_blob(blob: Path) -> None:
        # Something the store cannot unlink where the old blob was (root ignores modes).
        blob.unlink()
        blob.mkdir()
        (blob / "in-the-way").write_text("")

    old_system, lines = await _pull_two_versions(
        tmp_path, tiny_gguf, name, ("stuck one", "stuck two"), block_the_old_blob
    )
    blob = Store(tmp_path / "b").blob_path(old_system)
    assert statuses(lines)[-3:] == [
        "removing unused layers",
        f"couldn't remove unused layers: cannot remove blob: Is a directory ({blob})",
        "success",
    ]
    assert Store(tmp_path / "b").get_model(name).system == "stuck two"


async def test_a_manifest_without_layers_is_not_taken_for_a_model(
    front: tuple[Front, str], tmp_path: Path
) -> None:
    _, host = front
    config = b"{}"
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    base = f"http://{host}/v2/test/empty"
    async with httpx.AsyncClient() as raw:
        start = await raw.post(f"{base}/blobs/uploads/")
        upload = httpx.URL(start.headers["location"]).copy_merge_params({"digest": digest})
        assert (await raw.put(upload, content=config)).status_code == 201
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": digest,
                "size": len(config),
            },
            "layers": [],
        }
        headers = {"Content-Type": manifest["mediaType"]}
        put = await raw.put(f"{base}/manifests/latest", json=manifest, headers=headers)
        assert put.status_code == 201, put.text
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        lines = await progress(b, "/api/pull", {"model": f"{host}/test/empty", "insecure": True})
    assert lines[-1] == {"error": "pull model manifest: the registry's manifest names no layers"}
