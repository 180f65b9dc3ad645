"""A push: each blob the registry lacks (mounted from a sibling repository where it can be,
else uploaded), then the manifest.

Statuses are Ollama's: `retrieving manifest`; `pushing <hex12>` per layer (config last) with
digest, total and completed; `pushing manifest`; `success`. Uploads follow Ollama's
`uploadBlob`: `POST .../blobs/uploads/` (with `?from=<ns/model>&mount=<digest>` when another
repository on the same registry holds the blob), parts sent with `PATCH` and
`Content-Range: <start>-<end>`, and a registry that answers a part with 307 (registry.ollama.ai's
storage) gets that part by `PUT` at the redirect; then the commit `PUT ...?digest=&etag=`.
Small blobs, or registries that refuse `PATCH`, go up monolithically in the commit `PUT`.
The manifest is sent as `json.Marshal` writes it: compact, without the trailing newline.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import anyio
import httpx

from pollama.errors import InvalidModelName, ModelNotFound
from pollama.registry.client import MANIFEST_ACCEPT, RegistryClient
from pollama.registry.errors import RegistryError, status_error
from pollama.registry.names import Repository, with_query
from pollama.registry.progress import Progress, blob_status
from pollama.registry.retry import TRIES, with_retries
from pollama.registry.transfers import PROGRESS_EVERY_S
from pollama.store import Layer, ModelName, Store
from pollama.store.name import DEFAULT_HOST, DEFAULT_NAMESPACE

log = logging.getLogger(__name__)

T = TypeVar("T")

_READ = 1 << 20
_OCTETS = "application/octet-stream"
# Statuses of a registry that has no chunked upload.
_NO_PATCH = (404, 405, 501)


@dataclass(frozen=True)
class UploadSettings:
    """How blobs go up; parts are cut as Ollama cuts them, small blobs go in one PUT. Each
    part, storage PUT and commit gets `retries` tries (Ollama's count), backing off from
    `backoff_s` between them; tests shrink it."""

    min_part: int = 100_000_000
    max_part: int = 1_000_000_000
    monolithic_max: int = 0
    retries: int = TRIES
    backoff_s: float = 1.0

    def part_size(self, total: int) -> int:
        return min(self.max_part, max(self.min_part, total // 16))


async def push(
    client: RegistryClient,
    store: Store,
    name: ModelName,
    *,
    insecure: bool,
    settings: UploadSettings,
) -> AsyncIterator[Progress]:
    """Push `name` from `store` to its registry, yielding Ollama's progress."""
    repo = Repository.of(name, insecure=insecure)
    yield Progress("retrieving manifest")
    if name.host.lower() == DEFAULT_HOST and name.namespace.lower() == DEFAULT_NAMESPACE:
        raise RegistryError(
            f"unable to push {repo.path}, make sure this namespace exists and you are "
            "authorized to push to it"
        )
    try:
        _, manifest, _, _ = await anyio.to_thread.run_sync(store.read_manifest, name)
    except ModelNotFound:
        yield Progress("couldn't retrieve manifest")
        raise RegistryError(
            f"open {store.manifest_path(name)}: no such file or directory"
        ) from None
    layers = [*manifest.layers, *([manifest.config] if manifest.config.digest else [])]
    for layer in layers:
        sources = await anyio.to_thread.run_sync(_mount_sources, store, name, layer)
        blob = _BlobUpload(client, repo, layer, store.blob_path(layer.digest), settings)
        async with contextlib.aclosing(_watch(blob.run(sources), blob)) as statuses:
            async for progress in statuses:
                yield progress
    yield Progress("pushing manifest")
    body = manifest.to_bytes().rstrip(b"\n")
    await client.request(
        "PUT", repo.manifest_url(), repo, headers={"Content-Type": MANIFEST_ACCEPT}, body=body
    )
    yield Progress("success")


def _mount_sources(store: Store, name: ModelName, layer: Layer) -> list[str]:
    """Other repositories on the same registry that should hold the blob: the layer's
    `from` model (as Ollama mounts), then local models of that registry that use it."""
    candidates: list[ModelName] = []
    if layer.from_:
        # A `from` that is a file path names no repository to mount from.
        with contextlib.suppress(InvalidModelName):
            candidates.append(ModelName.parse(layer.from_))
    candidates += store.models_using(layer.digest)
    own = f"{name.namespace}/{name.model}"
    sources: list[str] = []
    for candidate in candidates:
        path = f"{candidate.namespace}/{candidate.model}"
        if candidate.host.lower() == name.host.lower() and path not in (own, *sources):
            sources.append(path)
    return sources


class _BlobUpload:
    """One blob's way up, with the bytes sent so far for progress."""

    def __init__(
        self,
        client: RegistryClient,
        repo: Repository,
        layer: Layer,
        path: Path,
        settings: UploadSettings,
    ) -> None:
        self.client = client
        self.repo = repo
        self.layer = layer
        self.path = path
        self.settings = settings
        self.sent = 0

    @property
    def status(self) -> Progress:
        return Progress(
            blob_status("pushing", self.layer.digest),
            self.layer.digest,
            self.layer.size,
            self.sent,
        )

    async def run(self, sources: list[str]) -> None:
        url = self.repo.blob_url(self.layer.digest)
        head = await self.client.request("HEAD", url, self.repo, ok=(404,))
        if head.status_code < 300:
            self.sent = self.layer.size
            return
        location = await self._start(sources)
        if location is None:
            self.sent = self.layer.size
            return
        if self.layer.size <= self.settings.monolithic_max:
            await self._put_whole(location)
            return
        await self._chunked(location)

    async def _start(self, sources: list[str]) -> str | None:
        """An upload URL, or None when a source repository's blob was mounted."""
        for source in sources:
            query = [("from", source), ("mount", self.layer.digest)]
            url = with_query(self.repo.uploads_url(), query)
            response = await self.client.request(
                "POST", url, self.repo, follow_redirects=False, ok=(404,)
            )
            if response.status_code == 201:
                log.info("mounted %s from %s", self.layer.digest, source)
                return None
            if response.status_code == 202:
                return self._next_url(response)
        response = await self.client.request(
            "POST", self.repo.uploads_url(), self.repo, follow_redirects=False
        )
        return self._next_url(response)

    def _next_url(self, response: httpx.Response) -> str:
        location = response.headers.get("docker-upload-location") or response.headers.get(
            "location"
        )
        if not location:
            raise RegistryError("the registry gave no upload location")
        return urljoin(str(response.url), location)

    async def _retrying(self, attempt: Callable[[], Awaitable[T]], what: str) -> T:
        """`attempt()` again after a transient failure, as Ollama retries upload requests."""
        what = f"{what} of {self.layer.digest}"
        settings = self.settings
        return await with_retries(
            attempt, tries=settings.retries, backoff_s=settings.backoff_s, what=what
        )

    async def _put_whole(self, location: str) -> None:
        url = with_query(location, [("digest", self.layer.digest)])
        headers = {"Content-Type": _OCTETS, "Content-Length": str(self.layer.size)}

        def body() -> AsyncIterator[bytes]:
            self.sent = 0  # sent afresh: a failed try's bytes no longer count
            return self._read(0, self.layer.size)

        await self._retrying(
            lambda: self.client.request("PUT", url, self.repo, headers=headers, body=body),
            "uploading",
        )
        self.sent = self.layer.size

    async def _chunked(self, location: str) -> None:
        size = self.settings.part_size(self.layer.size)
        hashes: list[bytes] = []
        offset = 0
        while offset < self.layer.size:
            length = min(size, self.layer.size - offset)
            if self.layer.size - offset - length < size // 2:
                length = self.layer.size - offset  # the last part takes the rest
            sent = await self._patch(location, offset, length)
            if sent is None:  # no chunked uploads here: the whole blob in one PUT
                self.sent = 0
                await self._put_whole(location)
                return
            location, part_md5 = sent
            hashes.append(part_md5)
            offset += length
        etag = f"{hashlib.md5(b''.join(hashes), usedforsecurity=False).hexdigest()}-{len(hashes)}"
        url = with_query(location, [("digest", self.layer.digest), ("etag", etag)])
        headers = {"Content-Type": _OCTETS, "Content-Length": "0"}
        await self._retrying(
            lambda: self.client.request("PUT", url, self.repo, headers=headers, body=b""),
            "committing the upload",
        )

    async def _patch(self, location: str, offset: int, length: int) -> tuple[str, bytes] | None:
        """Send one part: the next upload URL and the part's md5, or None if the registry
        refuses `PATCH`."""
        headers = {
            "Content-Type": _OCTETS,
            "Content-Length": str(length),
            "Content-Range": f"{offset}-{offset + length - 1}",
            "X-Redirect-Uploads": "1",
        }
        sent_before = self.sent
        md5s: list[Any] = []

        def body() -> AsyncIterator[bytes]:
            # Made afresh for each send: an auth challenge or a retry sends it again.
            self.sent = sent_before
            md5s.append(hashlib.md5(usedforsecurity=False))
            return self._read(offset, length, md5s[-1])

        async def send() -> httpx.Response:
            async with self.client.open(
                "PATCH", location, self.repo, headers=headers, body=body, follow_redirects=False
            ) as response:
                await response.aread()
            refused = response.status_code in _NO_PATCH and offset == 0
            if response.status_code >= 400 and not refused:
                raise status_error(response.status_code, response.text)
            return response

        response = await self._retrying(send, f"the part at {offset}")
        if response.status_code >= 400:
            return None
        if response.status_code == 307:
            # The registry's storage takes the part; the next PATCH goes to the registry.
            target = urljoin(str(response.url), response.headers["location"])
            put_headers = {"Content-Type": _OCTETS, "Content-Length": str(length)}

            async def put() -> None:
                self.sent = sent_before
                await self.client.put_unauthenticated(
                    target, lambda: self._read(offset, length), put_headers
                )

            await self._retrying(put, f"the part at {offset} (to storage)")
        return self._next_url(response), md5s[-1].digest()

    async def _read(self, offset: int, length: int, md5: Any = None) -> AsyncIterator[bytes]:
        """The blob's bytes `offset..offset+length`, read off the event loop, counted."""
        with self.path.open("rb") as f:
            f.seek(offset)
            left = length
            while left > 0:
                chunk = await anyio.to_thread.run_sync(f.read, min(_READ, left))
                if not chunk:
                    raise RegistryError(f"blob {self.layer.digest} is shorter than its size")
                if md5 is not None:
                    md5.update(chunk)
                left -= len(chunk)
                self.sent += len(chunk)
                yield chunk


async def _watch(work: Coroutine[Any, Any, None], blob: _BlobUpload) -> AsyncIterator[Progress]:
    """Run `work`, reporting `blob`'s progress every 60 ms and once it is done."""
    task = asyncio.create_task(work)
    try:
        while not task.done():
            yield blob.status
            await asyncio.wait([task], timeout=PROGRESS_EVERY_S)
        task.result()
        yield blob.status
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
