"""The sha256 a download verifies with: hashed by a thread of its own while the parts are
written, in whatever order they arrive, and never ahead of the bytes on disk."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from pollama.registry.download import _Prefix
from pollama.store.partials import plan_parts


def test_parts_written_out_of_order_are_hashed_as_they_arrive(tmp_path: Path) -> None:
    blob = os.urandom(3 * 1_000_000 + 17)
    path = tmp_path / "partial"
    path.write_bytes(b"\0" * len(blob))
    parts = plan_parts(len(blob), 1_000_000)
    prefix = _Prefix(parts)
    fd = os.open(path, os.O_RDWR)
    prefix.start(fd)
    try:
        # The last parts first: nothing can be hashed until the first part's bytes come.
        for part in reversed(parts[1:]):
            os.pwrite(fd, blob[part.offset : part.offset + part.size], part.offset)
            part.completed = part.size
            prefix.advance()
        time.sleep(0.05)
        assert prefix.hashed == 0
        first = parts[0]
        for start in range(0, first.size, 64 * 1024):
            chunk = blob[start : min(first.size, start + 64 * 1024)]
            os.pwrite(fd, chunk, start)
            first.completed += len(chunk)
            prefix.advance()
        deadline = time.monotonic() + 10
        while prefix.hashed < len(blob) and time.monotonic() < deadline:
            time.sleep(0.01)
        # The thread read on through the parts written before the first: all of it is hashed.
        assert prefix.hashed == len(blob)
    finally:
        prefix.stop()
        os.close(fd)
    assert prefix.finish(path) == f"sha256:{hashlib.sha256(blob).hexdigest()}"


def test_a_stopped_hash_is_finished_from_the_file(tmp_path: Path) -> None:
    blob = os.urandom(2 * 1_000_000)
    path = tmp_path / "partial"
    path.write_bytes(blob)
    parts = plan_parts(len(blob), 1_000_000)
    prefix = _Prefix(parts)
    fd = os.open(path, os.O_RDWR)
    prefix.start(fd)
    parts[0].completed = 1000  # as if cut off: the thread may hash at most these bytes
    prefix.advance()
    prefix.stop()
    os.close(fd)
    assert prefix.hashed <= 1000
    assert prefix.finish(path) == f"sha256:{hashlib.sha256(blob).hexdigest()}"
