"""The model store at `$OLLAMA_MODELS`: Ollama's `manifests/` and `blobs/`, byte for byte.

A model exists once its manifest does; the manifest is written last (temp file, fsync,
rename), so a create that dies half way leaves blobs that the next prune removes, never half a
model. Writers that meet take the store's lock (`pollama.store.guard`); a create in flight
`holds` the blobs it will name, so a delete running meanwhile does not prune them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pollama import config
from pollama.errors import ModelNotFound, StoreError
from pollama.store import manifest as mt
from pollama.store.blobs import BlobStore, normalize_digest
from pollama.store.guard import StoreLock, fsync_dir, os_errors
from pollama.store.manifest import Manifest
from pollama.store.model import Model
from pollama.store.name import ModelName
from pollama.store.partials import Partials, is_partial
from pollama.store.pending import PendingPulls
from pollama.store.verified import VerifiedDigests

log = logging.getLogger(__name__)

# Partial downloads survive a restart this long (Ollama: one hour), so a pull cut off by a
# reboot or a night offline still resumes; older ones are removed at start-up.
PARTIAL_GRACE_S = 24 * 3600


class Store:
    """Manifests and blobs below one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.manifests = self.root / "manifests"
        self.blobs = BlobStore(self.root / "blobs")
        self.partials = Partials(self.blobs)
        self.verified = VerifiedDigests(self.root / "pollama-verified.json")
        self.pending = PendingPulls(self.root / "pollama-pending")
        self.lock = StoreLock(self.root)
        self._held: list[set[str]] = []

    # -- blobs ------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        return self.blobs.path(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blobs.exists(digest)

    def write_blob(self, chunks: Iterable[bytes], digest: str | None = None) -> str:
        """Store `chunks` as a blob, verifying `digest` when given; returns the digest."""
        return self.blobs.write(chunks, digest)[0]

    def blob_is_whole(self, digest: str, size: int) -> bool:
        """Whether blob `digest` is present with `size` bytes that hash to it (cheap when
        unchanged since last verified; see `pollama.store.verified`)."""
        return self.verified.is_whole(self.blob_path(digest), normalize_digest(digest), size)

    # -- manifests --------------------------------------------------------------------------

    def manifest_files(self) -> list[tuple[ModelName, Path]]:
        """Every `manifests/host/ns/model/tag` file that names a model.

        A folder a delete removes meanwhile is skipped, not an error (`Path.glob` raises).
        """
        found = []
        for path in _files_at_depth(self.manifests, 4):
            name = ModelName.from_path(path.relative_to(self.manifests).parts)
            if name is not None:
                found.append((name, path))
        return found

    def resolve(self, name: str | ModelName) -> ModelName:
        """The stored spelling of `name` (lookup is case-insensitive), or `name` itself."""
        parsed = name if isinstance(name, ModelName) else ModelName.parse(name)
        for existing, _path in self.manifest_files():
            if existing.matches(parsed):
                return existing
        return parsed

    def manifest_path(self, name: ModelName) -> Path:
        return self.manifests.joinpath(*name.path.parts)

    def read_manifest(self, name: str | ModelName) -> tuple[ModelName, Manifest, bytes, Path]:
        resolved = self.resolve(name)
        path = self.manifest_path(resolved)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ModelNotFound(f"model '{name}' not found") from None
        try:
            return resolved, Manifest.from_bytes(raw), raw, path
        except (ValueError, TypeError) as exc:
            raise StoreError(
                f"manifest of {resolved.display_shortest()} is corrupt: {exc}"
            ) from exc

    def write_manifest(self, name: ModelName, manifest: Manifest) -> None:
        """Write `manifest` atomically; every blob it names must already exist."""
        with self.lock.held():
            self._check_blobs(manifest)
            self._atomic_write(self.manifest_path(self.resolve(name)), manifest.to_bytes())

    def write_manifest_bytes(self, name: ModelName, raw: bytes) -> Manifest | None:
        """Write a pulled manifest verbatim and atomically, once every blob it names exists;
        return the manifest it replaced (None if there was none)."""
        manifest = Manifest.from_bytes(raw)
        with self.lock.held():
            self._check_blobs(manifest)
            path = self.manifest_path(self.resolve(name))
            try:
                old: Manifest | None = Manifest.from_bytes(path.read_bytes())
            except (OSError, ValueError):
                old = None
            self._atomic_write(path, raw)
        return old

    def _check_blobs(self, manifest: Manifest) -> None:
        missing = [d for d in manifest.digests() if not self.has_blob(d)]
        if missing:
            raise StoreError(f"cannot write manifest: blob {missing[0]} is missing")

    def _atomic_write(self, path: Path, data: bytes) -> None:
        with os_errors("cannot write manifest"):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())  # the new bytes are on disk before the name moves
                os.chmod(tmp, 0o644)
                os.replace(tmp, path)
                fsync_dir(path.parent)  # and the new name is on disk too
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)

    @contextmanager
    def holding(self) -> Iterator[set[str]]:
        """A set the caller fills with the digests it is about to name in a manifest; while
        the block runs, no delete or overwrite prunes them."""
        held: set[str] = set()
        with self.lock.held():
            self._held.append(held)
        try:
            yield held
        finally:
            with self.lock.held():
                self._held.remove(held)

    # -- models -----------------------------------------------------------------------------

    def get_model(self, name: str | ModelName) -> Model:
        """The model called `name`; `ModelNotFound` ("model 'NAME' not found") if absent."""
        resolved, manifest, raw, path = self.read_manifest(name)
        return self._load(resolved, manifest, raw, path)

    def list_models(self) -> list[Model]:
        """Every valid model in the store, newest first; corrupt manifests are skipped."""
        models = []
        for name, path in self.manifest_files():
            try:
                raw = path.read_bytes()
                models.append(self._load(name, Manifest.from_bytes(raw), raw, path))
            except (OSError, ValueError, StoreError) as exc:
                log.warning("skipping manifest %s: %s", path, exc)
        return sorted(models, key=lambda m: m.modified_at, reverse=True)

    def _text(self, digest: str) -> str:
        return self.blob_path(digest).read_text(encoding="utf-8")

    def _load(self, name: ModelName, manifest: Manifest, raw: bytes, path: Path) -> Model:
        fields: dict[str, Any] = {"license": [], "parameters": {}, "messages": []}
        adapters, projectors = [], []
        for layer in manifest.layers:
            kind = layer.media_type
            if kind == mt.MODEL:
                fields["model_path"] = self.blob_path(layer.digest)
                fields["parent_model"] = layer.from_
            elif kind == mt.ADAPTER:
                adapters.append(self.blob_path(layer.digest))
            elif kind == mt.PROJECTOR:
                projectors.append(self.blob_path(layer.digest))
            elif kind == mt.DRAFT:
                fields["draft_path"] = self.blob_path(layer.digest)
            elif kind in (mt.TEMPLATE, mt.PROMPT):
                fields["template"] = self._text(layer.digest)
            elif kind == mt.SYSTEM:
                fields["system"] = self._text(layer.digest)
            elif kind == mt.LICENSE:
                fields["license"].append(self._text(layer.digest))
            elif kind == mt.PARAMS:
                fields["parameters"] = json.loads(self._text(layer.digest) or "{}")
            elif kind == mt.MESSAGES:
                fields["messages"] = json.loads(self._text(layer.digest) or "[]")
        cfg: dict[str, Any] = {}
        if manifest.config.digest and self.has_blob(manifest.config.digest):
            cfg = json.loads(self._text(manifest.config.digest) or "{}")
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        return Model(
            name=name,
            digest=hashlib.sha256(raw).hexdigest(),
            size=manifest.size,
            modified_at=modified,
            adapters=tuple(adapters),
            projectors=tuple(projectors),
            config=cfg,
            **fields,
        )

    def copy(self, source: str, destination: str) -> None:
        """Copy the manifest byte for byte; blobs are shared."""
        with self.lock.held():
            _, manifest, raw, src_path = self.read_manifest(source)
            self._check_blobs(manifest)
            target = self.manifest_path(self.resolve(destination))
            if target != src_path:
                self._atomic_write(target, raw)

    def delete(self, name: str) -> None:
        """Remove the manifest, then every blob no other manifest references."""
        with self.lock.held():
            _, manifest, _, path = self.read_manifest(name)
            with os_errors("cannot delete model"):
                path.unlink()
                self._prune_dirs(path.parent)
            self.remove_unreferenced(manifest.digests())

    def models_using(self, digest: str) -> list[ModelName]:
        """The models whose manifests reference blob `digest`."""
        found = []
        for name, path in self.manifest_files():
            try:
                if digest in Manifest.from_bytes(path.read_bytes()).digests():
                    found.append(name)
            except (OSError, ValueError):
                continue
        return found

    def referenced_digests(self) -> set[str]:
        """Digests some manifest names or a create in flight holds (lower case)."""
        refs: set[str] = {d.lower() for held in self._held for d in held}
        for _name, path in self.manifest_files():
            try:
                refs |= {d.lower() for d in Manifest.from_bytes(path.read_bytes()).digests()}
            except (OSError, ValueError):
                continue
        return refs

    def remove_unreferenced(self, digests: Iterable[str]) -> None:
        with self.lock.held(), os_errors("cannot remove blob"):
            refs = self.referenced_digests()
            for digest in digests:
                if digest and normalize_digest(digest).lower() not in refs:
                    self.blob_path(digest).unlink(missing_ok=True)

    def prune(self) -> None:
        """Startup prune (unless `OLLAMA_NOPRUNE`): unreferenced blobs older than an hour, and
        partial downloads untouched for `PARTIAL_GRACE_S`. A blob an interrupted pull had
        finished counts as referenced as long as that pull's partials would be kept."""
        if config.noprune() or not self.blobs.root.is_dir():
            return
        with self.lock.held(), os_errors("cannot prune blobs"):
            refs = self.referenced_digests() | self.pending.digests(PARTIAL_GRACE_S)
            cutoff = datetime.now().timestamp() - 3600
            for blob in self.blobs.root.iterdir():
                digest = blob.name.replace("sha256-", "sha256:", 1)
                if is_partial(blob.name):
                    continue
                if blob.stat().st_mtime < cutoff and digest.lower() not in refs:
                    blob.unlink(missing_ok=True)
            self.partials.prune_stale(PARTIAL_GRACE_S)

    def _prune_dirs(self, folder: Path) -> None:
        while folder != self.manifests and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _files_at_depth(folder: Path, depth: int) -> list[Path]:
    """The files exactly `depth` folders below `folder`, read as they are at this moment."""
    try:
        with os.scandir(folder) as entries:
            children = list(entries)
    except (FileNotFoundError, NotADirectoryError):
        return []
    if depth == 1:
        return [Path(e.path) for e in children if e.is_file()]
    return [f for e in children if e.is_dir() for f in _files_at_depth(Path(e.path), depth - 1)]
