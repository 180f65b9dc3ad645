"""One blob downloaded in parallel ranged parts, resumable, verified before it is a blob.

1. Resume: the part files of an earlier try (this server's, or Ollama's) give each part's
   bytes already on disk; otherwise the blob is cut into parts (`total/16`, clamped to
   [`min_part`, `max_part`], as Ollama cuts) and a sparse `-partial` file is made.
2. Fetch: at most `max_streams` parts at once, each a `Range` GET from where it stopped,
   received in a worker thread of its own with blocking reads (the event loop's reads cost
   about three times the CPU a byte, and the CPU is what bounds a pull from a near registry).
   Bytes are written at their offset as they arrive; about every `SAVE_EVERY_S` the data is
   flushed (`fdatasync`) and the part's `Completed` saved, in another thread so receiving
   goes on meanwhile, so a kill, crash or power cut loses at most those seconds. A pull
   called off sets the part's stop flag, and its thread saves what it has and ends.
3. A part whose connection fails or stalls (no byte for `stall_s`, the client's read
   timeout) starts again from its last byte. A part fails only after `retries` tries in a
   row that brought nothing, backing off between them (`pollama.registry.retry`).
4. Verify: the whole file's sha256 must equal the digest, or the partial is removed and the
   pull fails with Ollama's `digest mismatch` error; only then is it renamed into place.
   The hash runs on from the start, beside the receiving, in a thread of its own (see
   `_Prefix`), so little or nothing is left to read back.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import mmap
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from pollama.errors import StoreError
from pollama.registry.client import Challenge, RegistryClient
from pollama.registry.errors import DigestMismatch, TransferFailed, Unauthorized, status_error
from pollama.registry.names import Repository
from pollama.registry.retry import TRIES, back_off
from pollama.registry.throttle import Throttle
from pollama.store import Store
from pollama.store.partials import Part, plan_parts

log = logging.getLogger(__name__)

T = TypeVar("T")

SAVE_EVERY_S = 1.0
# A save is also due once this much was written since the last: the flush then keeps the
# disk writing while bytes arrive, rather than leaving it all to the end (as a copy's fsync).
_SAVE_EVERY_BYTES = 32 << 20
_HASH_RUN = 4 << 20


@dataclass(frozen=True)
class DownloadSettings:
    """How blobs are fetched; the defaults are Ollama's, tests shrink them."""

    min_part: int = 100_000_000
    max_part: int = 1_000_000_000
    max_streams: int = 16
    retries: int = TRIES  # tries in a row that bring nothing, the first included
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
        # The sha256 of the blob's first `hashed` bytes, carried on as they are written, so
        # verifying after the download reads only what was left behind (mostly nothing).
        self.prefix = _Prefix(self.parts)
        # The receiving threads, one per stream: they block on the network for as long as a
        # part lasts, so they get threads of their own rather than the loop's shared ones.
        self._pool = ThreadPoolExecutor(settings.max_streams, thread_name_prefix="pull")

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
        self.parts.extend(parts)
        fd = await off_loop(os.open, partials.data_path(self.digest), os.O_RDWR)
        self.prefix.start(fd)
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
            await off_loop(self.prefix.stop)
            await off_loop(os.close, fd)
            self._pool.shutdown(wait=False)
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
                    if fruitless >= self.settings.retries:
                        raise
                    what = f"part {part.n} of {self.digest}"
                    await back_off(self.settings.backoff_s, fruitless, what, exc)

    async def _fetch_once(self, fd: int, part: Part) -> None:
        """One ranged GET for the rest of `part`, received and written in a worker thread
        (answering one auth challenge on the event loop)."""
        for attempt in range(2):
            stop = threading.Event()
            try:
                await off_loop(self._receive, fd, part, stop, stop=stop, pool=self._pool)
            except Challenge as challenge:
                if attempt == 1:
                    raise Unauthorized() from None
                await self.client.answer(self.repo, challenge)
            else:
                break
        if not part.done:
            raise TransferFailed("the registry ended the blob early")

    def _receive(self, fd: int, part: Part, stop: threading.Event) -> None:
        """The rest of `part` from the registry into the file, until done or `stop` is set."""
        start = part.offset + part.completed
        end = part.offset + part.size - 1
        headers = {"Range": f"bytes={start}-{end}", "Accept-Encoding": "identity"}
        url = self.repo.blob_url(self.digest)
        writer = _PartWriter(self.store, self.digest, fd, part, self.prefix)
        try:
            if stop.is_set():  # called off while it waited for a thread
                return
            with self.client.open_blocking("GET", url, self.repo, headers=headers) as response:
                skip = _bytes_to_skip(response.status_code, response.headers, start)
                if response.status_code >= 400:
                    response.read()
                    raise status_error(response.status_code, response.text)
                for chunk in response.iter_raw():
                    if stop.is_set():
                        return
                    if skip:
                        cut, skip = min(skip, len(chunk)), skip - min(skip, len(chunk))
                        chunk = chunk[cut:]
                    chunk = chunk[: part.size - part.completed]
                    if not chunk:
                        continue
                    self.throttle.take(len(chunk), stop)
                    writer.add(chunk)
                    if part.completed >= part.size:
                        break
        finally:
            writer.close()


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
    """Writes a part's bytes as they arrive, saving progress about every second in a thread
    of its own, so the receiving thread never waits for the disk to flush."""

    def __init__(self, store: Store, digest: str, fd: int, part: Part, prefix: _Prefix) -> None:
        self.store = store
        self.digest = digest
        self.fd = fd
        self.part = part
        self.prefix = prefix
        self.saved_at = time.monotonic()
        self.saved = part.completed
        self.saving: threading.Thread | None = None

    def add(self, chunk: bytes) -> None:
        """Write `chunk` where the part's bytes end, count it, wake the hash, and save if due."""
        offset = self.part.offset + self.part.completed
        view = memoryview(chunk)
        while view:
            written = os.pwrite(self.fd, view, offset)
            view, offset = view[written:], offset + written
        self.part.completed += len(chunk)
        self.prefix.advance()
        due = self.part.completed - self.saved >= _SAVE_EVERY_BYTES
        if (due or time.monotonic() - self.saved_at >= SAVE_EVERY_S) and not self._still_saving():
            self.saved_at, self.saved = time.monotonic(), self.part.completed
            self.saving = threading.Thread(target=self._save, args=(self.part.completed,))
            self.saving.start()

    def close(self) -> None:
        """Save what was written, even when the transfer was cut off."""
        if self.saving is not None:
            self.saving.join()
        self._save(self.part.completed)

    def _still_saving(self) -> bool:
        return self.saving is not None and self.saving.is_alive()

    def _save(self, completed: int) -> None:
        """Flush the bytes, then record the `completed` written before the flush began:
        `Completed` never counts what is not on disk."""
        os.fdatasync(self.fd)
        saved = Part(self.part.n, self.part.offset, self.part.size, completed)
        self.store.partials.save(self.digest, saved)


async def off_loop(
    fn: Callable[..., T],
    *args: Any,
    stop: threading.Event | None = None,
    pool: Executor | None = None,
) -> T:
    """`fn(*args)` in a worker thread (of `pool`, if given). A cancellation sets `stop` and
    waits for the call to end before it goes on, so a file descriptor being written is never
    closed under the write, and a save that began is never half done."""
    future = asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if stop is not None:
            stop.set()
        await asyncio.wait([future])
        raise


class _Prefix:
    """A running sha256 of a blob's leading bytes, carried on by a thread of its own.

    The thread reads back from the file whatever the parts have written just past the bytes
    it has hashed (from the page cache: they were written a moment ago), so hashing runs on
    another core beside receiving, and a blob in several parts is hashed while it downloads,
    not after. Inline, the hash was about half a receiving thread's CPU.
    """

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        self.hasher = hashlib.sha256()
        self.hashed = 0
        self._written = threading.Condition()  # notified by the writers, after each write
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self, fd: int) -> None:
        self._thread = threading.Thread(target=self._hash, args=(fd,), daemon=True)
        self._thread.start()

    def advance(self) -> None:
        """More of the file is written: wake the hashing thread."""
        with self._written:
            self._written.notify()

    def stop(self) -> None:
        """End the thread after its current run (before `fd` is closed); `finish` hashes
        whatever it had not reached."""
        with self._written:
            self._stopping = True
            self._written.notify()
        if self._thread is not None:
            self._thread.join()

    def _hash(self, fd: int) -> None:
        # One buffer, read into again and again; mapped, so it goes back to the system
        # when the thread ends rather than staying in a thread arena of the allocator.
        with mmap.mmap(-1, _HASH_RUN) as buffer, memoryview(buffer) as run:
            while True:
                with self._written:
                    while (ready := self._written_from(self.hashed)) <= 0 and not self._stopping:
                        self._written.wait()
                if self._stopping:
                    return
                read = os.preadv(fd, [run[: min(ready, _HASH_RUN)]], self.hashed)
                self.hasher.update(run[:read])
                self.hashed += read

    def _written_from(self, offset: int) -> int:
        """How many bytes from `offset` on are written, within the part that holds it."""
        for part in self.parts:
            if part.offset <= offset < part.offset + part.size:
                return part.offset + part.completed - offset
        return 0

    def finish(self, path: Path) -> str:
        """`sha256:<hex>` of the whole file: the prefix, then the rest read from disk."""
        with path.open("rb") as f:
            f.seek(self.hashed)
            while chunk := f.read(1 << 22):
                self.hasher.update(chunk)
        return f"sha256:{self.hasher.hexdigest()}"


def _sum(parts: list[Part]) -> int:
    return sum(p.completed for p in parts)
