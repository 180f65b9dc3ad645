"""Pulls under way, recorded on disk, so a restart's prune spares the blobs they fetched.

A pull names its blobs in a manifest only at the end; until then a blob it finished (the
model, while the projector still downloads) is referenced by nothing. Were the pull killed
and the server restarted an hour later, the start-up prune would delete that blob and the
resumed pull would fetch it again. So a pull writes the digests it fetches to
`pollama-pending/<id>.json` (atomically) before its first blob, touches the record as each
blob is done, and removes it once the manifest is written. A record younger than the
partial-file grace period keeps its digests from the prune; an older one is dropped by it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from pollama.store.guard import os_errors, write_atomically

log = logging.getLogger(__name__)


class PendingPulls:
    """The records of pulls under way, one JSON list of digests per pull."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def begin(self, digests: Iterable[str]) -> Path:
        """Record that a pull is fetching `digests`; returns the record, for `touch`/`end`."""
        record = self.folder / f"{uuid.uuid4().hex}.json"
        with os_errors("cannot record the pull"):
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(record, json.dumps(sorted(digests)).encode())
        return record

    def touch(self, record: Path) -> None:
        """The pull moved on (a blob is done): its grace period starts again."""
        with contextlib.suppress(FileNotFoundError):  # pruned meanwhile: nothing to keep
            os.utime(record)

    def end(self, record: Path) -> None:
        """The pull's manifest is written: its blobs are referenced by that now."""
        record.unlink(missing_ok=True)

    def digests(self, grace_s: float) -> set[str]:
        """The digests named by records touched within `grace_s` (lower case); older records
        (and temp files a kill left) are removed."""
        found: set[str] = set()
        if not self.folder.is_dir():
            return found
        cutoff = time.time() - grace_s
        for path in self.folder.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    log.info("removing stale pull record %s", path.name)
                    path.unlink()
                    continue
                if path.suffix != ".json":  # a record being written meanwhile
                    continue
                found |= {str(d).lower() for d in json.loads(path.read_bytes())}
            except FileNotFoundError:
                continue
            except (ValueError, TypeError) as exc:
                log.warning("ignoring unreadable pull record %s: %s", path.name, exc)
        return found
