"""Which blobs have been hashed and found whole, so a pull re-verifies present blobs cheaply.

Hashing a multi-GB blob on every pull would take seconds to minutes; trusting a file because
it exists (as Ollama does) keeps a corrupted one forever. So a blob's sha256 is computed once
and remembered with the size, mtime and inode it had then: while those stay the same the
blob is taken as verified, and once any changes (the file was rewritten or replaced) it is
hashed again. The record is a small JSON file beside `blobs/`, rewritten atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

_CHUNK = 1 << 22


def sha256_of(path: Path) -> str:
    """`sha256:<hex>` of a file's bytes."""
    hasher = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            hasher.update(chunk)
    return f"sha256:{hasher.hexdigest()}"


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class VerifiedDigests:
    """Digests computed earlier, by the file stamp (size, mtime, inode) they held for."""

    def __init__(self, record: Path) -> None:
        self.record = record
        self._lock = threading.Lock()
        self._stamps: dict[str, list[int]] | None = None

    def _load(self) -> dict[str, list[int]]:
        if self._stamps is None:
            try:
                self._stamps = {str(k): list(v) for k, v in json.loads(self.record.read_bytes())}
            except (OSError, ValueError, TypeError):
                self._stamps = {}
        return self._stamps

    def is_whole(self, path: Path, digest: str, size: int) -> bool:
        """Whether the blob at `path` has `size` bytes and hashes to `digest`.

        Cheap when the file is unchanged since it last hashed right; otherwise it is hashed.
        """
        try:
            stamp = _stamp(path)
        except FileNotFoundError:
            return False
        if stamp[0] != size:
            return False
        with self._lock:
            if self._load().get(digest) == stamp:
                return True
        if sha256_of(path) != digest:
            log.warning("blob %s is corrupt: its bytes do not hash to its name", digest)
            return False
        self.remember(path, digest)
        return True

    def remember(self, path: Path, digest: str) -> None:
        """Record that the file at `path` was just verified to hash to `digest`."""
        stamp = _stamp(path)
        with self._lock:
            stamps = self._load()
            stamps[digest] = stamp
            for gone in [d for d in stamps if not path.with_name(d.replace(":", "-")).exists()]:
                del stamps[gone]
            self._write(stamps)

    def _write(self, stamps: dict[str, list[int]]) -> None:
        self.record.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.record.with_name(self.record.name + ".tmp")
        tmp.write_text(json.dumps(sorted(stamps.items())))
        os.replace(tmp, self.record)
