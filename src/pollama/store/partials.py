"""Downloads in progress, kept on disk as Ollama keeps them, so a pull resumes after a crash.

A blob being fetched is `blobs/sha256-<hex>-partial` (the data, sparse, at its final size)
plus one `sha256-<hex>-partial-<n>` file per ranged part, JSON with Ollama's capitalised keys
`{"N", "Offset", "Size", "Completed"}`. A part's `Completed` is written only after the bytes
it counts were flushed to disk (`fdatasync`), so after a kill or a power cut a resume starts
from bytes that are really there; at worst it fetches again what came after the last save.
Ollama's own partials are read the same way, and ours by Ollama.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from pollama.store.blobs import BlobStore
from pollama.store.guard import fsync_dir, write_atomically

log = logging.getLogger(__name__)

_SUFFIX = "-partial"


@dataclass
class Part:
    """One ranged piece of a blob: `size` bytes from `offset`, the first `completed` on disk."""

    n: int
    offset: int
    size: int
    completed: int = 0

    @property
    def done(self) -> bool:
        return self.completed >= self.size

    def to_bytes(self) -> bytes:
        fields = {"N": self.n, "Offset": self.offset, "Size": self.size}
        return json.dumps({**fields, "Completed": self.completed}).encode()


def plan_parts(total: int, part_size: int) -> list[Part]:
    """`total` bytes cut into parts of `part_size`, the last one taking the rest."""
    count = max(1, total // max(1, part_size))
    size = total // count
    parts = [Part(n, n * size, size) for n in range(count)]
    parts[-1].size = total - parts[-1].offset
    return parts


class Partials:
    """The partial downloads beside the blobs of one store."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def data_path(self, digest: str) -> Path:
        return self.blobs.path(digest).with_name(self.blobs.path(digest).name + _SUFFIX)

    def part_path(self, digest: str, n: int) -> Path:
        return self.data_path(digest).with_name(f"{self.data_path(digest).name}-{n}")

    def load(self, digest: str, total: int) -> list[Part] | None:
        """The parts saved for `digest`, or None unless they cover exactly `total` bytes."""
        data = self.data_path(digest)
        parts: list[Part] = []
        try:
            if data.stat().st_size != total:
                return None
            while (path := self.part_path(digest, len(parts))).exists():
                fields = json.loads(path.read_bytes())
                part = Part(len(parts), int(fields["Offset"]), int(fields["Size"]))
                part.completed = max(0, min(part.size, int(fields.get("Completed") or 0)))
                parts.append(part)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.info("ignoring the partial download of %s: %s", digest, exc)
            return None
        offset = 0
        for part in parts:
            if part.offset != offset:
                return None
            offset += part.size
        return parts if parts and offset == total else None

    def start(self, digest: str, parts: list[Part]) -> None:
        """Begin a fresh download: a sparse data file at its full size and the part files."""
        self.discard(digest)
        self.blobs.root.mkdir(parents=True, exist_ok=True)
        with self.data_path(digest).open("wb") as data:
            data.truncate(sum(p.size for p in parts))
        for part in parts:
            self.save(digest, part)

    def save(self, digest: str, part: Part) -> None:
        """Record `part`'s progress atomically (its bytes must already be flushed)."""
        write_atomically(self.part_path(digest, part.n), part.to_bytes())

    def finish(self, digest: str) -> None:
        """Move the verified data into place as the blob, then drop the part files."""
        target = self.blobs.path(digest)
        os.chmod(self.data_path(digest), 0o644)
        os.replace(self.data_path(digest), target)
        fsync_dir(target.parent)
        self._remove_parts(digest)

    def discard(self, digest: str) -> None:
        """Forget a download: its data and its part files."""
        self.data_path(digest).unlink(missing_ok=True)
        self._remove_parts(digest)

    def _remove_parts(self, digest: str) -> None:
        prefix = self.data_path(digest).name + "-"
        if self.blobs.root.is_dir():
            for path in self.blobs.root.glob(prefix + "*"):
                path.unlink(missing_ok=True)

    def prune_stale(self, grace_s: float) -> None:
        """Remove partial downloads nobody has written to for `grace_s` seconds.

        A download's files go together, aged by the newest: a part finished long ago keeps
        its file while later parts are still being written, and losing it would restart
        the whole blob."""
        if not self.blobs.root.is_dir():
            return
        newest: dict[str, float] = {}
        files: dict[str, list[Path]] = {}
        for path in self.blobs.root.glob(f"sha256-*{_SUFFIX}*"):
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue
            download = path.name.split(_SUFFIX, 1)[0]
            newest[download] = max(mtime, newest.get(download, mtime))
            files.setdefault(download, []).append(path)
        cutoff = time.time() - grace_s
        for download, paths in files.items():
            if newest[download] < cutoff:
                log.info("removing stale partial download %s", download)
                for path in paths:
                    path.unlink(missing_ok=True)


def is_partial(name: str) -> bool:
    """Whether a file name in `blobs/` belongs to a download in progress."""
    return _SUFFIX in name
