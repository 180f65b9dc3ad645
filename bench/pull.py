"""Pull throughput against a plain file copy, and the server's memory during a pull.

In one run, on loopback: a source `pollama serve` holds two models of one random blob each
(100 MB and 500 MB) and pushes them into Debian's `docker-registry`. A fresh server then
pulls each model twice, from the registry and from the source server's `/v2/` (a peer),
while its resident memory is sampled. Each pull is set against a plain copy of the same
bytes on the same disk (read, write, fsync), made in the same run:

    ratio = copy time / pull time   (the goal is >= 0.8)

The peak RSS of the pulling server must not grow with the blob: the 500 MB pull should peak
where the 100 MB pull does. Not part of the test suite; `make bench` runs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from _common import launch

from pollama.store import Layer, Manifest, ModelName, Store
from pollama.store import manifest as mt

# The tests' loopback registry: docker-registry with a temporary config and storage.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.registry.registries import DOCKER_REGISTRY, docker_registry

MB = 1_000_000
SAMPLE_S = 0.02


def write_model(store: Store, name: str, size: int) -> Path:
    """A model of one blob of `size` random bytes (a block of its own, repeated); returns
    the blob's path."""
    block = os.urandom(4 * MB)
    chunks = (block[: min(len(block), size - sent)] for sent in range(0, size, len(block)))
    layer = Layer(mt.MODEL, store.write_blob(chunks), size)
    config = Layer(mt.CONFIG_MEDIA_TYPE, store.write_blob([b"{}"]), 2)
    store.write_manifest(ModelName.parse(name), Manifest(config, (layer,)))
    return store.blob_path(layer.digest)


class RssSampler:
    """The peak resident set of one process, read from /proc every SAMPLE_S seconds."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(SAMPLE_S)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pull(client: httpx.Client, url: str, name: str) -> None:
    """`/api/pull` of `name` over plain HTTP, to its `success` line."""
    body = {"model": name, "insecure": True}
    with client.stream("POST", f"{url}/api/pull", json=body) as reply:
        last = ""
        for line in reply.iter_lines():
            last = line or last
    if '"success"' not in last:
        raise RuntimeError(f"pull of {name} failed: {last}")


def plain_copy(source: Path, folder: Path) -> float:
    """Seconds to copy `source` into `folder` and fsync it."""
    target = folder / "copy.bin"
    start = time.perf_counter()
    with source.open("rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, 4 * MB)
        dst.flush()
        os.fsync(dst.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def measure(name: str, blob: Path, work: Path) -> tuple[float, float, int, int]:
    """(pull s, copy s, idle RSS, peak RSS) of a fresh server pulling `name`."""
    store = work / "pulled"
    # The client is made before the clock starts: making one loads a CA bundle (about 45 ms
    # here), which is the bench's cost, not the pull's.
    with launch(store) as (url, pid), RssSampler(pid) as rss, httpx.Client(timeout=None) as client:
        idle = rss.rss()
        os.sync()  # what earlier writes left dirty is flushed on neither side's clock
        start = time.perf_counter()
        pull(client, url, name)
        pulled = time.perf_counter() - start
        peak = rss.peak
    shutil.rmtree(store)
    os.sync()
    return pulled, plain_copy(blob, work), idle, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500", help="blob sizes in MB")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not Path(DOCKER_REGISTRY).exists():
        sys.exit("docker-registry is not installed (see .ci/run)")
    with tempfile.TemporaryDirectory(prefix="pollama-bench-pull-") as tmp:
        work = Path(tmp)
        source = Store(work / "source")
        blobs = {f"bench-{mb}": write_model(source, f"bench-{mb}", mb * MB) for mb in sizes}
        with launch(source.root) as (peer, _), docker_registry(work / "registry") as registry:
            for name in blobs:
                target = f"{registry}/library/{name}"
                copy = {"source": name, "destination": target}
                httpx.post(f"{peer}/api/copy", json=copy).raise_for_status()
                push = {"model": target, "insecure": True, "stream": False}
                httpx.post(f"{peer}/api/push", json=push, timeout=None).raise_for_status()
            hosts = {"registry": registry, "peer": peer.removeprefix("http://")}
            print(
                f"{'source':<9}{'blob':>7}{'pull s':>9}{'copy s':>9}{'ratio':>8}"
                f"{'idle RSS':>11}{'peak RSS':>11}"
            )
            for label, host in hosts.items():
                for name, blob in blobs.items():
                    pulled, copied, idle, peak = measure(f"{host}/library/{name}", blob, work)
                    size = blob.stat().st_size // MB
                    print(
                        f"{label:<9}{size:>4} MB{pulled:>9.2f}{copied:>9.2f}"
                        f"{copied / pulled:>8.2f}{idle / MB:>8.0f} MB{peak / MB:>8.0f} MB"
                    )


if __name__ == "__main__":
    main()
