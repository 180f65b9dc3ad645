"""What keeps the store whole when several writers meet, or the disk says no.

- `StoreLock`: manifest writes, copies, deletes and prunes take it, so a delete never prunes
  a blob between a create checking it and writing the manifest that names it. It is a
  thread lock plus `flock` on `<root>/.pollama.lock`, so two servers on one store agree too,
  and a writer killed with `kill -9` releases it with its last file descriptor.
- `os_errors`: the filesystem's failures (full disk, read-only store, no permission) become
  a `StoreError` that says so, at the store's boundary, instead of a traceback.
- `write_atomically`: a small record (a part's progress, a pull under way) replaced whole,
  never seen half written.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pollama.errors import StoreError

_WHY = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the model store is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


@contextmanager
def os_errors(what: str) -> Iterator[None]:
    """Re-raise an `OSError` from the block as a `StoreError` naming `what` was being done."""
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as exc:
        why = _WHY.get(exc.errno or 0, exc.strerror or str(exc))
        where = f" ({exc.filename})" if exc.filename else ""
        raise StoreError(f"{what}: {why}{where}") from exc


class StoreLock:
    """A re-entrant lock over one store, held across threads and processes."""

    def __init__(self, root: Path) -> None:
        self.path = root / ".pollama.lock"
        self._thread = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread:
            if self._depth == 0:
                with os_errors("cannot lock the model store"):
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    os.close(self._fd)  # closing the descriptor drops the flock
                    self._fd = None


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (the file's own fsync does not cover its name)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """`data` as the whole of `path`: written to `<path>.tmp` and flushed to disk before the
    rename, so a kill leaves the old record or the new one, never half of either."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
