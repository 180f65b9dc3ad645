"""One blob downloaded in parallel ranged parts, resumable, verified before it is a blob.

1. Resume: the part files of an earlier try (this server's, or Ollama's) give each part's
   bytes already on disk; otherwise the blob is cut into parts (`total/16`, clamped to
   [`min_part`, `max_part`], as Ollama cuts) and a sparse `-partial` file is made.
2. Fetch: at most `max_streams` parts at once, each a `Range` GET from where it stopped.
   Bytes are written at their offset in 1 MiB runs off the event loop; about every
   `SAVE_EVERY_S` the data is flushed (`fdatasync`) and the part's `Completed` saved, so a
   kill, crash or power cut loses at most those seconds.
3. A part whose connection fails or stalls (no byte for `stall_s`, the client's read
   timeout) starts again from its last byte. A part fails only after `retries` tries in a
   row that brought nothing, waiting `backoff_s * 2**try` (capped at 30 s) between them.
4. Verify: the whole file's sha256 must equal the digest, or the partial is removed and the
   pull fails with Ollama's `digest mismatch` error; only then is it renamed into place.
   The bytes that arrive in order from the start are hashed as they are written, so only
   the rest is read back (nothing, for a blob fetched in one part).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from pollama.errors import StoreError
from pollama.registry.client import RegistryClient
from pollama.registry.errors import DigestMismatch, TransferFailed, status_error
from pollama.registry.names import Repository
from pollama.registry.throttle import Throttle
from pollama.store import Store
from pollama.store.partials import Part, plan_parts

log = logging.getLogger(__name__)

T = TypeVar("T")

SAVE_EVERY_S = 1.0
_WRITE_RUN = 1 << 20
_MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class DownloadSettings:
    """How blobs are fetched; the defaults are Ollama's, tests shrink them."""

    min_part: int = 100_000_000
    max_part: int = 1_000_000_000
    max_streams: int = 16
    retries: int = 6
    backoff_s: float = 1.0

    def part_size(self, total: int) -> int:
        return min(self.max_part, max(self.min_part, total // 16))


class BlobDownload:
    """Fetch blob `digest` of `total` bytes from `repo` into `store` (see the module doc)."""

    def __init__(
        self,
        client: RegistryClient,
        store: Store,
        repo: Repository,
        digest: str,
        total: int,
        *,
        throttle: Throttle,
        settings: DownloadSettings,
    ) -> None:
        self.client = client
        self.store = store
        self.repo = repo
        self.digest = digest
        self.total = total
        self.throttle = throttle
        self.settings = settings
        self.parts: list[Part] = []
        # The sha256 of the blob's first `hashed` bytes, fed as they are written in order, so
        # verifying after the download reads only what lies beyond (nothing, for one part).
        self.prefix = _Prefix()

    @property
    def completed(self) -> int:
        return sum(part.completed for part in self.parts)

    async def run(self) -> None:
        try:
            await self._run()
        except OSError as exc:  # the store's disk, not the network: say so
            raise StoreError(f"downloading {self.digest}: {exc}") from exc

    async def _run(self) -> None:
        partials = self.store.partials
        parts = await off_loop(partials.load, self.digest, self.total)
        if parts is None:
            parts = plan_parts(self.total, self.settings.part_size(self.total))
            await off_loop(partials.start, self.digest, parts)
        else:
            log.info("resuming %s at %d of %d bytes", self.digest, _sum(parts), self.total)
        self.parts = parts
        fd = await off_loop(os.open, partials.data_path(self.digest), os.O_RDWR)
        streams = asyncio.Semaphore(self.settings.max_streams)
        tasks = [asyncio.create_task(self._fetch(fd, p, streams)) for p in parts if not p.done]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # One part failed or the download was called off: stop the others, then let
            # their writers save what they have before the file is closed.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            await off_loop(os.close, fd)
        await off_loop(self._verify_and_finish)

    def _verify_and_finish(self) -> None:
        partials = self.store.partials
        actual = self.prefix.finish(partials.data_path(self.digest))
        if actual != self.digest:
            partials.discard(self.digest)
            raise DigestMismatch(self.digest, actual)
        partials.finish(self.digest)
        self.store.verified.remember(self.store.blob_path(self.digest), self.digest)

    async def _fetch(self, fd: int, part: Part, streams: asyncio.Semaphore) -> None:
        fruitless = 0
        async with streams:
            while not part.done:
                before = part.completed
                try:
                    await self._fetch_once(fd, part)
                except TransferFailed as exc:
                    if part.completed > before:
                        fruitless = 0  # it moved: a stall or a cut, not a dead registry
                        log.info("part %d of %s: %s; resuming", part.n, self.digest, exc)
                        continue
                    fruitless += 1
                    if fruitless > self.settings.retries:
                        raise
                    delay = min(_MAX_BACKOFF_S, self.settings.backoff_s * 2 ** (fruitless - 1))
                    log.info("part %d of %s: %s; again in %.1fs", part.n, self.digest, exc, delay)
                    await asyncio.sleep(delay)

    async def _fetch_once(self, fd: int, part: Part) -> None:
        """One ranged GET for the rest of `part`, written as it comes."""
        start = part.offset + part.completed
        end = part.offset + part.size - 1
        headers = {"Range": f"bytes={start}-{end}", "Accept-Encoding": "identity"}
        url = self.repo.blob_url(self.digest)
        writer = _PartWriter(self.store, self.digest, fd, part, self.prefix)
        try:
            async with self.client.open("GET", url, self.repo, headers=headers) as response:
                skip = _bytes_to_skip(response.status_code, response.headers, start)
                if response.status_code >= 400:
                    await response.aread()
                    raise status_error(response.status_code, response.text)
                async for chunk in response.aiter_bytes():
                    if skip:
                        cut, skip = min(skip, len(chunk)), skip - min(skip, len(chunk))
                        chunk = chunk[cut:]
                    chunk = chunk[: part.size - part.completed - writer.pending]
                    if not chunk:
                        continue
                    await self.throttle.take(len(chunk))
                    await writer.add(chunk)
                    if part.completed + writer.pending >= part.size:
                        break
        finally:
            await writer.close()
        if not part.done:
            raise TransferFailed("the registry ended the blob early")


def _bytes_to_skip(status: int, headers: httpx.Headers, start: int) -> int:
    """A registry that ignores `Range` sends the blob from byte 0 with a 200."""
    if status == 200:
        return start
    if status == 206:
        content_range = headers.get("content-range", "")
        if not content_range.startswith(f"bytes {start}-"):
            raise TransferFailed(f"the registry sent the wrong range: {content_range!r}")
    return 0


class _PartWriter:
    """Writes a part's bytes in runs off the event loop, saving progress every second."""

    def __init__(self, store: Store, digest: str, fd: int, part: Part, prefix: _Prefix) -> None:
        self.store = store
        self.digest = digest
        self.fd = fd
        self.part = part
        self.prefix = prefix
        self.buffer = bytearray()
        self.saved_at = time.monotonic()

    @property
    def pending(self) -> int:
        return len(self.buffer)

    async def add(self, chunk: bytes) -> None:
        self.buffer += chunk
        if len(self.buffer) >= _WRITE_RUN:
            data, self.buffer = bytes(self.buffer), bytearray()
            await off_loop(self._write, data)
        if time.monotonic() - self.saved_at >= SAVE_EVERY_S:
            await off_loop(self._save)

    async def close(self) -> None:
        """Write what is buffered and save, even when the transfer was cut off: one call in
        a thread, which a cancellation lets finish."""
        data, self.buffer = bytes(self.buffer), bytearray()
        await off_loop(self._write_and_save, data)

    def _write_and_save(self, data: bytes) -> None:
        self._write(data)
        self._save()

    def _write(self, data: bytes) -> None:
        """Write `data` where the part's bytes end, then count them."""
        offset = self.part.offset + self.part.completed
        self.prefix.feed(data, offset)
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, offset)
            view, offset = view[written:], offset + written
        self.part.completed += len(data)

    def _save(self) -> None:
        """Flush the bytes, then record them: `Completed` never counts what is not on disk."""
        os.fdatasync(self.fd)
        self.store.partials.save(self.digest, self.part)
        self.saved_at = time.monotonic()


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a worker thread. A cancellation waits for the call to end before it goes
    on, so a file descriptor being written is never closed under the write, and a save that
    began is never half done."""
    future = asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


class _Prefix:
    """A running sha256 of a blob's leading bytes, for bytes that arrive in order."""

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.hashed = 0
        self._lock = threading.Lock()  # parts write from several worker threads

    def feed(self, data: bytes, offset: int) -> None:
        with self._lock:
            if offset == self.hashed:  # only the run that continues the prefix
                self.hasher.update(data)
                self.hashed += len(data)

    def finish(self, path: Path) -> str:
        """`sha256:<hex>` of the whole file: the prefix, then the rest read from disk."""
        with path.open("rb") as f:
            f.seek(self.hashed)
            while chunk := f.read(1 << 22):
                self.hasher.update(chunk)
        return f"sha256:{self.hasher.hexdigest()}"


def _sum(parts: list[Part]) -> int:
    return sum(p.completed for p in parts)
