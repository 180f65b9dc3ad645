"""A pull: the manifest, each blob (shared, resumed, verified), then the manifest written.

The statuses are Ollama's, in its order: `pulling manifest`; `pulling <hex12>` per layer
(config last) with digest, total and completed; `verifying sha256 digest`; `writing
manifest`; `removing unused layers` when the pull replaced layers nobody else uses (then
`couldn't remove unused layers: <why>` if that failed: the pull still succeeds); `success`.

Unlike Ollama, a blob already present counts only if its size and sha256 are right (checked
cheaply, see `pollama.store.verified`); a corrupted one is downloaded again. Each blob is
verified before it is moved into place, and the manifest (the registry's bytes, verbatim) is
written last, atomically, once every blob it names is whole. Until then the pull's digests
are recorded in the store (`pollama.store.pending`), so a restart's prune keeps the blobs a
pull cut off had already finished.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager

import anyio

from pollama import config
from pollama.errors import PollamaError
from pollama.registry.client import RegistryClient
from pollama.registry.download import BlobDownload
from pollama.registry.errors import RegistryError
from pollama.registry.names import Repository
from pollama.registry.progress import Progress, blob_status
from pollama.registry.transfers import Transfers
from pollama.store import Layer, Manifest, ModelName, Store, normalize_digest

log = logging.getLogger(__name__)

DownloadMaker = Callable[[Repository, Layer], BlobDownload]


async def pull(
    client: RegistryClient,
    store: Store,
    transfers: Transfers,
    make_download: DownloadMaker,
    name: ModelName,
    *,
    insecure: bool,
) -> AsyncIterator[Progress]:
    """Pull `name` into `store`, yielding Ollama's progress (see the module doc)."""
    repo = Repository.of(name, insecure=insecure)
    yield Progress("pulling manifest")
    raw, manifest = await _fetch_manifest(client, repo)
    layers = [*manifest.layers, *([manifest.config] if manifest.config.digest else [])]
    async with _holding(store, manifest.digests()):
        # Left behind if the pull is cut off, so a restart's prune spares what it fetched.
        record = await anyio.to_thread.run_sync(store.pending.begin, manifest.digests())
        for layer in layers:
            # `aclosing`: a client that leaves stops watching at once, not when GC gets to it.
            pulling = _pull_blob(store, transfers, make_download, repo, layer)
            async with aclosing(pulling) as blob:
                async for progress in blob:
                    yield progress
            await anyio.to_thread.run_sync(store.pending.touch, record)
        yield Progress("verifying sha256 digest")
        yield Progress("writing manifest")
        old = await anyio.to_thread.run_sync(store.write_manifest_bytes, name, raw)
        await anyio.to_thread.run_sync(store.pending.end, record)
    unused = (old.digests() - manifest.digests()) if old else set()
    if unused and not config.noprune():
        yield Progress("removing unused layers")
        # The model is whole and written: as in Ollama, a blob left behind is only said.
        why: str | None = None
        try:
            await anyio.to_thread.run_sync(store.remove_unreferenced, unused)
        except PollamaError as exc:
            why = exc.message
        except OSError as exc:
            why = str(exc)
        if why is not None:
            yield Progress(f"couldn't remove unused layers: {why}")
    yield Progress("success")


@asynccontextmanager
async def _holding(store: Store, digests: set[str]) -> AsyncIterator[None]:
    """Keep a delete running meanwhile from pruning the blobs this pull will name (the
    store's lock is taken in a thread: it may wait on another process)."""
    hold = store.holding()
    held = await anyio.to_thread.run_sync(hold.__enter__)
    held.update(digests)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(hold.__exit__, None, None, None)


async def _fetch_manifest(client: RegistryClient, repo: Repository) -> tuple[bytes, Manifest]:
    try:
        raw = await client.get_manifest(repo)
        manifest = Manifest.from_bytes(raw)
        if not manifest.layers:  # an image index, or a manifest of nothing: not a model
            raise RegistryError("the registry's manifest names no layers")
        for layer in [*manifest.layers, manifest.config]:
            if layer.digest or layer is not manifest.config:
                normalize_digest(layer.digest)
            if layer.size < 0:
                raise RegistryError(f"negative size for {layer.digest}")
    except PollamaError as exc:
        raise RegistryError(f"pull model manifest: {exc.message}") from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise RegistryError(f"pull model manifest: not a model manifest: {exc}") from exc
    return raw, manifest


async def _pull_blob(
    store: Store,
    transfers: Transfers,
    make_download: DownloadMaker,
    repo: Repository,
    layer: Layer,
) -> AsyncIterator[Progress]:
    digest = normalize_digest(layer.digest)
    status = blob_status("pulling", digest)
    if transfers.active(digest) is None and await anyio.to_thread.run_sync(
        store.blob_is_whole, digest, layer.size
    ):
        yield Progress(status, digest, layer.size, layer.size)
        return
    async with aclosing(transfers.watch(digest, lambda: make_download(repo, layer))) as watch:
        async for completed in watch:
            yield Progress(status, digest, layer.size, completed)
