"""The model store seen as an OCI registry, read-only: what `/v2/` serves to peers.

A registry names a repository `<namespace>/<model>` and has no host, while the store keeps
`host/namespace/model/tag`. A repository is therefore every manifest of that namespace and
model under any host, compared case-insensitively as Ollama looks names up; when one tag
exists under several hosts, the default host (`registry.ollama.ai`, where local creates
live) wins, then the first host in sorted order. A blob is served only through a repository
whose manifests reference it, as a registry scopes blobs to repositories, so a peer cannot
read what the store holds for other models by guessing digests.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pollama.errors import BlobUnknown, ManifestUnknown, NameInvalid, NameUnknown
from pollama.store import Manifest, ModelName, Store
from pollama.store.manifest import MANIFEST_MEDIA_TYPE
from pollama.store.name import DEFAULT_HOST

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ServedManifest:
    """A manifest as a registry answers it: the stored bytes verbatim, their digest, type."""

    raw: bytes
    digest: str
    media_type: str


@dataclass(frozen=True)
class ServedBlob:
    """A blob file to stream, and the digest it is stored under."""

    path: Path
    digest: str
    size: int


class ServedRepository:
    """One `<namespace>/<model>` of the store."""

    def __init__(self, store: Store, namespace: str, model: str) -> None:
        probe = ModelName(DEFAULT_HOST, namespace, model, "latest")
        if not probe.is_valid():
            raise NameInvalid()
        self.store = store
        self.name = f"{namespace}/{model}"
        self._entries = sorted(
            (
                (name, path)
                for name, path in store.manifest_files()
                if f"{name.namespace}/{name.model}".lower() == self.name.lower()
            ),
            key=lambda entry: (entry[0].host.lower() != DEFAULT_HOST, entry[0].host.lower()),
        )
        if not self._entries:
            raise NameUnknown()

    def tags(self) -> list[str]:
        """The repository's tags, sorted, each once."""
        return sorted({name.tag for name, _path in self._entries})

    def manifest(self, reference: str) -> ServedManifest:
        """The manifest tagged `reference`, or whose digest `reference` is."""
        by_digest = reference.startswith("sha256:")
        for name, path in self._entries:
            if not by_digest and name.tag.lower() != reference.lower():
                continue
            raw = _read(path)
            if raw is None:
                continue
            digest = "sha256:" + hashlib.sha256(raw).hexdigest()
            if by_digest and digest != reference.lower():
                continue
            return ServedManifest(raw, digest, _media_type(raw))
        raise ManifestUnknown()

    def blob(self, digest: str) -> ServedBlob:
        """The blob `digest`, if a manifest of this repository references it and it is stored."""
        digest = digest.lower()
        if not _DIGEST.match(digest) or digest not in self._referenced():
            raise BlobUnknown()
        path = self.store.blob_path(digest)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise BlobUnknown() from None
        return ServedBlob(path, digest, size)

    def _referenced(self) -> set[str]:
        referenced: set[str] = set()
        for _name, path in self._entries:
            raw = _read(path)
            try:
                manifest = Manifest.from_bytes(raw) if raw is not None else None
            except (ValueError, TypeError):
                continue
            if manifest is not None:
                referenced |= {d.lower() for d in manifest.digests() if d}
        return referenced


def _read(path: Path) -> bytes | None:
    """A manifest's bytes; None if it went away since the store was listed (a delete)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _media_type(raw: bytes) -> str:
    """The manifest's own `mediaType` (Docker schema 2 for what Ollama writes)."""
    try:
        declared = json.loads(raw).get("mediaType")
    except (ValueError, AttributeError):
        declared = None
    return declared if isinstance(declared, str) and declared else MANIFEST_MEDIA_TYPE
