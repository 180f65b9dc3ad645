"""Partial downloads on disk: Ollama's part files read back, and stale ones pruned at start."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from pollama.store import Store
from pollama.store.partials import Part, plan_parts
from pollama.store.store import PARTIAL_GRACE_S

DIGEST = "sha256:" + "ab" * 32


def test_parts_cover_the_blob_the_last_taking_the_rest() -> None:
    parts = plan_parts(1050, 100)
    assert [(p.offset, p.size) for p in parts][:2] == [(0, 105), (105, 105)]
    assert sum(p.size for p in parts) == 1050 and len(parts) == 10
    assert plan_parts(10, 100) == [Part(0, 0, 10)]


def test_ollamas_part_files_are_read_back(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.partials.start(DIGEST, plan_parts(300, 100))
    # What Ollama writes after 40 bytes of part 1.
    store.partials.part_path(DIGEST, 1).write_text(
        json.dumps({"N": 1, "Offset": 100, "Size": 100, "Completed": 40})
    )
    parts = store.partials.load(DIGEST, 300)
    assert parts is not None and [p.completed for p in parts] == [0, 40, 0]
    assert store.partials.load(DIGEST, 301) is None  # another size: start afresh


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


@pytest.mark.parametrize("noprune", [False, True])
def test_startup_prune_removes_stale_partials_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, noprune: bool
) -> None:
    if noprune:
        monkeypatch.setenv("OLLAMA_NOPRUNE", "1")
    store = Store(tmp_path)
    fresh = "sha256:" + "cd" * 32
    store.partials.start(DIGEST, plan_parts(300, 100))
    store.partials.start(fresh, plan_parts(300, 100))
    for path in store.blobs.root.glob(f"sha256-{'ab' * 32}-partial*"):
        _age(path, PARTIAL_GRACE_S + 60)
    for path in store.blobs.root.glob(f"sha256-{'cd' * 32}-partial*"):
        _age(path, 2 * 3600)  # older than Ollama's hour, within pollama's grace
    store.prune()
    assert (store.partials.load(DIGEST, 300) is not None) is noprune
    assert store.partials.load(fresh, 300) is not None


def test_a_part_finished_long_ago_goes_with_its_download_not_alone(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.partials.start(DIGEST, plan_parts(300, 100))
    # Part 0 was done (and last written) a day ago; the others are still coming in.
    _age(store.partials.part_path(DIGEST, 0), PARTIAL_GRACE_S + 60)
    store.prune()
    assert store.partials.load(DIGEST, 300) is not None
    for path in store.blobs.root.glob(f"sha256-{'ab' * 32}-partial*"):
        _age(path, PARTIAL_GRACE_S + 60)
    store.prune()
    assert not list(store.blobs.root.glob("*partial*"))


def test_startup_prune_spares_the_finished_blobs_of_an_interrupted_pull(tmp_path: Path) -> None:
    store = Store(tmp_path)
    finished = store.write_blob([b"the model, done before the kill"])
    orphan = store.write_blob([b"a blob no pull or manifest names"])
    record = store.pending.begin({finished, DIGEST})
    store.partials.start(DIGEST, plan_parts(300, 100))  # the projector, still downloading
    for digest in (finished, orphan):
        _age(store.blob_path(digest), 2 * 3600)  # past the hour unreferenced blobs get
    store.prune()
    assert store.has_blob(finished) and not store.has_blob(orphan)
    assert store.partials.load(DIGEST, 300) is not None

    # A pull given up for longer than the partials' grace keeps nothing.
    _age(record, PARTIAL_GRACE_S + 60)
    store.prune()
    assert not store.has_blob(finished)
    assert not record.exists()


def test_a_finished_pull_leaves_no_record(tmp_path: Path) -> None:
    store = Store(tmp_path)
    record = store.pending.begin({DIGEST})
    assert store.pending.digests(PARTIAL_GRACE_S) == {DIGEST}
    store.pending.end(record)
    assert store.pending.digests(PARTIAL_GRACE_S) == set()
