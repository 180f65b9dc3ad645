"""How blobs travel: parallel ranged parts, shared downloads, a pull called off and resumed,
and push's chunked, monolithic and mounted uploads."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from pollama.registry import Registry, RegistrySettings, retry
from pollama.registry.auth import CredentialStore
from pollama.registry.download import DownloadSettings
from pollama.registry.push import UploadSettings
from pollama.store import ModelName, Store
from pollama.store.store import PARTIAL_GRACE_S
from tests.registry.conftest import create_tiny, pollama, progress, push_tiny
from tests.registry.front import Front

SMALL_PARTS = DownloadSettings(min_part=64 * 1024, max_part=64 * 1024, max_streams=4)


def _model_layer(root: Path, name: str) -> tuple[str, int]:
    layer = Store(root).read_manifest(name)[1].layers[0]
    return layer.digest, layer.size


async def _pushed(front: tuple[Front, str], tmp_path: Path, gguf: Path, model: str) -> str:
    name = f"{front[1]}/test/{model}:latest"
    await push_tiny(tmp_path, gguf, name)
    return name


async def test_a_big_blob_comes_in_parallel_ranged_parts(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, _ = front
    name = await _pushed(front, tmp_path, tiny_gguf, "parts")
    digest, size = _model_layer(tmp_path / "a", name)
    counting.requests.clear()
    settings = RegistrySettings(download=SMALL_PARTS)
    async with pollama(tmp_path / "b", tmp_path / "key", settings=settings) as b:
        lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    assert lines[-1] == {"status": "success"}
    gets = [path for method, path in counting.requests if method == "GET" and digest in path]
    assert len(gets) == size // (64 * 1024)
    assert Store(tmp_path / "b").blob_is_whole(digest, size)


async def test_concurrent_pulls_share_one_download(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, _ = front
    name = await _pushed(front, tmp_path, tiny_gguf, "shared")
    manifest = Store(tmp_path / "a").read_manifest(name)[1]
    settings = RegistrySettings(max_download_speed=2_000_000)  # long enough to overlap
    counting.blob_bytes = 0
    async with pollama(tmp_path / "b", tmp_path / "key", settings=settings) as b:
        body = {"model": name, "insecure": True}
        first, second = await asyncio.gather(
            progress(b, "/api/pull", body), progress(b, "/api/pull", body)
        )
    assert first[-1] == second[-1] == {"status": "success"}
    assert counting.blob_bytes == manifest.size  # each blob fetched once


async def test_a_pull_called_off_leaves_its_partial_and_resumes_from_it(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, _ = front
    name = await _pushed(front, tmp_path, tiny_gguf, "resume")
    digest, size = _model_layer(tmp_path / "a", name)
    store = Store(tmp_path / "b")
    # Two streams: the parts in flight when the pull is called off still write the chunk
    # they hold, and with four of the blob's six parts that could be all the rest of it.
    two_streams = dataclasses.replace(SMALL_PARTS, max_streams=2)
    slow = RegistrySettings(download=two_streams, max_download_speed=400_000)
    registry = Registry(
        store, key_path=tmp_path / "key", credentials=CredentialStore(None), settings=slow
    )
    pulling = registry.pull(ModelName.parse(name), insecure=True)
    async for line in pulling:
        if line.digest == digest and line.completed >= size // 3:
            break
    await pulling.aclose()  # the client went away
    await asyncio.sleep(0.2)
    await registry.aclose()
    parts = store.partials.load(digest, size)
    assert parts is not None
    on_disk = sum(p.completed for p in parts)
    assert size // 4 <= on_disk < size
    assert not store.manifest_path(ModelName.parse(name)).exists()
    # The pull's record names its blobs, so a restart's prune spares those already done.
    manifest = Store(tmp_path / "a").read_manifest(name)[1]
    assert store.pending.digests(PARTIAL_GRACE_S) == manifest.digests()
    left = set(store.pending.folder.iterdir())

    counting.blob_bytes = 0
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    assert lines[-1] == {"status": "success"}
    others = Store(tmp_path / "a").read_manifest(name)[1].size - size
    assert counting.blob_bytes == size - on_disk + others
    assert store.blob_is_whole(digest, size)
    assert not list(store.blobs.root.glob("*partial*"))
    # The finished pull removed its own record (the cut one's ages out at a later prune).
    assert set(store.pending.folder.iterdir()) == left


async def test_push_sends_chunks_commits_and_mounts(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/chunked:latest"
    create_tiny(tmp_path / "a", tiny_gguf, name)
    digest, size = _model_layer(tmp_path / "a", name)
    settings = RegistrySettings(upload=UploadSettings(min_part=100_000, max_part=100_000))
    counting.requests.clear()
    async with pollama(tmp_path / "a", tmp_path / "key", settings=settings) as a:
        await progress(a, "/api/push", {"model": name, "insecure": True})
        patches = [p for m, p in counting.requests if m == "PATCH"]
        commits = [p for m, p in counting.requests if m == "PUT" and "digest=" in p]
        assert len(patches) >= size // 100_000
        assert any(f"digest={digest.replace(':', '%3A')}" in p and "etag=" in p for p in commits)

        # The same blobs under another name on that registry: mounted, nothing uploaded.
        copy = f"{host}/test/chunked-copy:latest"
        assert (await a.post("/api/copy", json={"source": name, "destination": copy})).is_success
        counting.requests.clear()
        lines = await progress(a, "/api/push", {"model": copy, "insecure": True})
    assert lines[-1] == {"status": "success"}
    assert not [p for m, p in counting.requests if m == "PATCH"]
    assert any("mount=" in p and "from=test%2Fchunked" in p for m, p in counting.requests)


async def _push_through_faults(
    counting: Front, tmp_path: Path, name: str, upload: UploadSettings, faults: dict[str, int]
) -> tuple[list[dict], dict[str, int]]:
    """Push `name` from server a while the front fails `faults` upload requests (by method);
    the progress lines, and the faults that were never met."""
    counting.fail_uploads = dict(faults)
    counting.requests.clear()
    try:
        async with pollama(
            tmp_path / "a", tmp_path / "key", settings=RegistrySettings(upload=upload)
        ) as a:
            lines = await progress(a, "/api/push", {"model": name, "insecure": True})
    finally:
        left, counting.fail_uploads = counting.fail_uploads, {}
    return lines, left


@pytest.mark.parametrize("monolithic", [False, True])
async def test_failed_upload_requests_are_tried_again(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path, monolithic: bool
) -> None:
    counting, host = front
    name = f"{host}/test/flaky-push-{int(monolithic)}:latest"
    create_tiny(tmp_path / "a", tiny_gguf, name, system=f"flaky push {monolithic}")
    upload = UploadSettings(
        min_part=100_000, max_part=100_000, monolithic_max=(1 << 30) * monolithic, backoff_s=0.01
    )
    # Two failures of a part (or of the whole blob's PUT) in a row, then of the commit.
    faults = {"PUT": 2} if monolithic else {"PATCH": 2, "PUT": 2}
    lines, left = await _push_through_faults(counting, tmp_path, name, upload, faults)
    assert lines[-1] == {"status": "success"}
    assert not any(left.values())  # every fault was met, and tried past
    for line in lines:
        if "digest" in line:
            assert line.get("completed", 0) <= line["total"]  # a failed try's bytes are not counted
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        pulled = await progress(b, "/api/pull", {"model": name, "insecure": True})
    assert pulled[-1] == {"status": "success"}
    assert Store(tmp_path / "b").get_model(name).system == f"flaky push {monolithic}"


async def test_an_upload_that_keeps_failing_fails_the_push_after_ollamas_tries(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/push-down:latest"
    create_tiny(tmp_path / "a", tiny_gguf, name, system="push down")
    upload = UploadSettings(min_part=100_000, max_part=100_000, backoff_s=0.01)
    lines, left = await _push_through_faults(counting, tmp_path, name, upload, {"PATCH": 100})
    assert lines[-1]["error"].startswith("503: ")
    assert left == {"PATCH": 100 - 6}  # Ollama's maxRetries: six tries, then it gives up


async def test_small_blobs_can_go_up_in_one_put(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, host = front
    name = f"{host}/test/monolithic:latest"
    create_tiny(tmp_path / "a", tiny_gguf, name, system="monolithic")
    settings = RegistrySettings(upload=UploadSettings(monolithic_max=1 << 30))
    counting.requests.clear()
    async with pollama(tmp_path / "a", tmp_path / "key", settings=settings) as a:
        lines = await progress(a, "/api/push", {"model": name, "insecure": True})
    assert lines[-1] == {"status": "success"}
    assert not [p for m, p in counting.requests if m == "PATCH"]
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        assert (await progress(b, "/api/pull", {"model": name, "insecure": True}))[-1] == {
            "status": "success"
        }


async def test_a_client_that_leaves_stops_nothing_another_waits_for(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, _ = front
    name = await _pushed(front, tmp_path, tiny_gguf, "leaver")
    digest, size = _model_layer(tmp_path / "a", name)
    store = Store(tmp_path / "b")
    slow = RegistrySettings(max_download_speed=600_000)
    registry = Registry(
        store, key_path=tmp_path / "key", credentials=CredentialStore(None), settings=slow
    )
    counting.blob_bytes = 0
    staying = registry.pull(ModelName.parse(name), insecure=True)
    leaving = registry.pull(ModelName.parse(name), insecure=True)

    async def leave() -> None:
        async for line in leaving:
            if line.digest == digest and line.completed > 0:
                break
        await leaving.aclose()

    async def stay() -> list[str]:
        return [line.status async for line in staying]

    stayed, _ = await asyncio.gather(stay(), leave())
    await registry.aclose()
    assert stayed[-1] == "success"
    # One download, never restarted: every blob byte crossed the wire once.
    assert counting.blob_bytes == Store(tmp_path / "a").read_manifest(name)[1].size
    assert store.blob_is_whole(digest, size)


async def test_failed_and_stalled_requests_are_retried_where_they_stopped(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, _ = front
    name = await _pushed(front, tmp_path, tiny_gguf, "flaky")
    digest, size = _model_layer(tmp_path / "a", name)
    quick = RegistrySettings(download=DownloadSettings(retries=3, backoff_s=0.01), stall_s=0.5)
    counting.fail_blob_gets, counting.stall_after = 2, size // 2
    counting.blob_bytes = 0
    try:
        async with pollama(tmp_path / "b", tmp_path / "key", settings=quick) as b:
            lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    finally:
        counting.fail_blob_gets, counting.stall_after = 0, None
    assert lines[-1] == {"status": "success"}
    # The stalled GET's bytes were kept: the retry asked only for the rest.
    assert counting.blob_bytes == Store(tmp_path / "a").read_manifest(name)[1].size
    assert Store(tmp_path / "b").blob_is_whole(digest, size)


async def test_the_waits_between_fruitless_tries_double(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting, _ = front
    name = await _pushed(front, tmp_path, tiny_gguf, "backoff")
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr(retry, "_sleep", sleep)
    settings = RegistrySettings(download=DownloadSettings(backoff_s=1.5))
    counting.fail_blob_gets = 5
    try:
        async with pollama(tmp_path / "b", tmp_path / "key", settings=settings) as b:
            lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    finally:
        counting.fail_blob_gets = 0
    assert lines[-1] == {"status": "success"}
    assert waits == [1.5, 3.0, 6.0, 12.0, 24.0]


async def test_a_part_fails_after_ollamas_six_fruitless_tries(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting, _ = front
    name = await _pushed(front, tmp_path, tiny_gguf, "six-tries")

    async def sleep(delay: float) -> None:
        del delay

    monkeypatch.setattr(retry, "_sleep", sleep)
    counting.fail_blob_gets = 100
    try:
        async with pollama(tmp_path / "b", tmp_path / "key") as b:
            lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    finally:
        left, counting.fail_blob_gets = counting.fail_blob_gets, 0
    assert lines[-1]["error"].startswith("503: ")
    assert left == 100 - 6  # Ollama's maxRetries: six tries in all, as the README says


async def test_max_download_speed_limits_the_rate(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, host = front
    name = f"{host}/test/throttled:latest"
    await push_tiny(tmp_path, tiny_gguf, name, license="z" * 1_600_000)
    size = Store(tmp_path / "a").read_manifest(name)[1].size
    assert 1_900_000 < size < 2_200_000
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OLLAMA_MAX_DOWNLOAD_SPEED", "1MB")
    registry = Registry.from_config(Store(tmp_path / "b"))
    started = time.monotonic()
    try:
        statuses = [p.status async for p in registry.pull(ModelName.parse(name), insecure=True)]
    finally:
        await registry.aclose()
    took = time.monotonic() - started
    assert statuses[-1] == "success"
    # About 2 MB at 1 MB/s: ~2 s (a burst of 0.1 s is allowed); unthrottled it is ~0.1 s.
    assert 1.5 <= took < 10, took


async def test_a_registry_that_keeps_failing_fails_the_pull(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    counting, _ = front
    name = await _pushed(front, tmp_path, tiny_gguf, "down")
    quick = RegistrySettings(download=DownloadSettings(retries=2, backoff_s=0.01))
    counting.fail_blob_gets = 3
    try:
        async with pollama(tmp_path / "b", tmp_path / "key", settings=quick) as b:
            lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    finally:
        counting.fail_blob_gets = 0
    assert lines[-1]["error"].startswith("503: ")
    assert not Store(tmp_path / "b").manifest_path(ModelName.parse(name)).exists()


async def test_a_delete_during_a_pull_spares_the_blobs_the_pull_will_name(
    front: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    _, host = front
    first, second = f"{host}/test/sharer-one:latest", f"{host}/test/sharer-two:latest"
    await push_tiny(tmp_path, tiny_gguf, first)
    await push_tiny(tmp_path, tiny_gguf, second, license="x" * 1_500_000)  # slow to fetch
    shared, _ = _model_layer(tmp_path / "a", first)
    store = Store(tmp_path / "b")
    slow = RegistrySettings(max_download_speed=1_000_000)
    registry = Registry(
        store, key_path=tmp_path / "key", credentials=CredentialStore(None), settings=slow
    )
    statuses = [p.status async for p in registry.pull(ModelName.parse(first), insecure=True)]
    assert statuses[-1] == "success"
    pulling = registry.pull(ModelName.parse(second), insecure=True)
    async for line in pulling:
        if line.digest and line.digest != shared:  # past the shared blob, present already
            await asyncio.to_thread(store.delete, first)  # would prune the shared blob
            break
    rest = [line.status async for line in pulling]
    await registry.aclose()
    assert rest[-1] == "success"
    assert store.has_blob(shared)
    assert store.get_model(second).model_path == store.blob_path(shared)
