"""Content-addressed blobs: `blobs/sha256-<hex>`, written through a temp file and verified."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from pollama.errors import InvalidRequest
from pollama.store.guard import os_errors

_DIGEST = re.compile(r"^sha256[:-]([0-9a-fA-F]{64})$")


def normalize_digest(digest: str) -> str:
    """`sha256:<hex>` for any accepted spelling; `invalid digest format` otherwise.

    Only 64 hex digits pass, so a digest can never smuggle a path into `blobs/`.
    """
    match = _DIGEST.match(digest)
    if not match:
        raise InvalidRequest("invalid digest format")
    return f"sha256:{match.group(1)}"


def _copy_hashing(chunks: Iterable[bytes], out: BinaryIO) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    for chunk in chunks:
        hasher.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return f"sha256:{hasher.hexdigest()}", size


class BlobStore:
    """The `blobs/` folder of a store."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / normalize_digest(digest).replace(":", "-")

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def write(self, chunks: Iterable[bytes], digest: str | None = None) -> tuple[str, int, bool]:
        """Store `chunks`, verifying `digest` when given; returns (digest, size, created).

        The data goes to a temp file in `blobs/`, is synced, and is renamed into place only
        once its hash is known, so readers never see a partial blob. A full disk or a
        read-only store is a `StoreError` saying so, and the temp file goes.
        """
        with os_errors("cannot write blob"):
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix="sha256-", dir=self.root)
            try:
                with os.fdopen(fd, "wb") as out:
                    actual, size = _copy_hashing(chunks, out)
                    out.flush()
                    os.fsync(out.fileno())
                target = self.path(actual)
                # Try the blob already stored first, with no exists-then-act gap: a delete's
                # prune may remove it at any moment, and then this copy takes its place.
                try:
                    os.utime(target)
                    created = False
                except FileNotFoundError:
                    os.chmod(tmp, 0o644)
                    os.replace(tmp, target)
                    created = True
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        # As in Ollama, data that fails the check still stays, under its real digest.
        if digest is not None and normalize_digest(digest) != actual:
            raise InvalidRequest(
                f'digest mismatch, expected "{normalize_digest(digest)}", got "{actual}"'
            )
        return actual, size, created

    def write_bytes(self, data: bytes) -> tuple[str, int, bool]:
        return self.write([data])

    def import_file(self, source: Path) -> tuple[str, int, bool]:
        """Store a copy of a local file, hashed while it is copied.

        A copy, not a hard link: the user may later edit their file in place (metadata tools
        do), and a blob must never change under its digest. The source is only read.
        """
        with os_errors(f"cannot read {source}"), source.open("rb") as f:
            return self.write(iter(lambda: f.read(1 << 22), b""))
