"""Downloads shared between the pulls that wait for them.

Two clients pulling the same model (or two models sharing a blob) join one `BlobDownload`
per digest and both watch its progress. The download belongs to no request: a client that
disconnects only stops watching. When the last watcher leaves, the download is called off
and its partial stays on disk for the next pull to resume.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from pollama.registry.download import BlobDownload

log = logging.getLogger(__name__)

# How often a watcher reports progress (Ollama: every 60 ms).
PROGRESS_EVERY_S = 0.06


@dataclass
class _Shared:
    download: BlobDownload
    task: asyncio.Task[None]
    watchers: int = 0


class Transfers:
    """The downloads in flight in this server, by digest."""

    def __init__(self) -> None:
        self._active: dict[str, _Shared] = {}

    def active(self, digest: str) -> BlobDownload | None:
        shared = self._active.get(digest)
        return shared.download if shared else None

    async def watch(self, digest: str, make: Callable[[], BlobDownload]) -> AsyncIterator[int]:
        """Join (or start) the download of `digest`; yield its completed bytes as it goes,
        and return once it is done or raise its error."""
        while (shared := self._active.get(digest)) is not None and shared.task.cancelling():
            # Called off a moment ago: let it save its partial, then resume from there.
            await asyncio.wait([shared.task])
        if shared is None or shared.task.done():
            download = make()
            shared = _Shared(download, asyncio.create_task(download.run()))
            self._active[digest] = shared
            shared.task.add_done_callback(lambda _t, s=shared: self._finished(digest, s))
        shared.watchers += 1
        try:
            while not shared.task.done():
                yield shared.download.completed
                await asyncio.wait([shared.task], timeout=PROGRESS_EVERY_S)
            if shared.task.cancelled():
                raise asyncio.CancelledError()
            shared.task.result()
            yield shared.download.completed
        finally:
            shared.watchers -= 1
            if shared.watchers == 0 and not shared.task.done():
                log.info("nobody waits for %s any more: stopping, its partial kept", digest)
                shared.task.cancel()

    async def aclose(self) -> None:
        """Call off every download and wait for each to save its partial."""
        tasks = [shared.task for shared in self._active.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, digest: str, shared: _Shared) -> None:
        if self._active.get(digest) is shared:
            del self._active[digest]
        if not shared.task.cancelled() and shared.task.exception() is not None:
            log.info("download of %s failed: %s", digest, shared.task.exception())
