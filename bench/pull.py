"""Pull throughput against a plain file copy, and the server's memory during a pull.

In one run, on loopback: a source `pollama serve` holds two models of one random blob each
(100 MB and 500 MB) and pushes them into Debian's `docker-registry`. For each source, the
registry and the source server's `/v2/` (a peer), one server pulls each model `--rounds`
times, deleting it between rounds, while its resident memory is sampled. Each pull is set
against a plain copy of the same bytes on the same disk (read, write, fsync) beside it, which
goes first alternating, and the medians are printed:

    ratio = median copy time / median pull time   (the goal is >= 0.8)

The `busy` column is the share of all the machine's cores in use during the pull (from
/proc/stat): near 100 % the pull is bound by the CPU (receiving, writing and hashing on this
side, sending on the source's), while the copy is bound by the disk.

The peak RSS of the pulling server must not grow with the blob: the 500 MB pull should peak
where the 100 MB pull does (`--rounds 1 --sizes N` shows one size's peak in a fresh server;
over several rounds both rows show what the rounds left behind). Not part of the test suite;
`make bench` runs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

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


def cpu_times() -> tuple[int, int]:
    """(busy, all) jiffies of every core since boot; iowait counts as idle."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


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
    os.sync()
    start = time.perf_counter()
    with source.open("rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, 4 * MB)
        dst.flush()
        os.fsync(dst.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


@dataclass
class Figures:
    """One model's figures over the rounds: pull and copy seconds, and peak RSS."""

    blob: Path
    pulls: list[float] = field(default_factory=list)
    copies: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    peak: int = 0


def pull_round(
    client: httpx.Client, url: str, name: str, rss: RssSampler
) -> tuple[float, float, int]:
    """(seconds, busy share of the cores, peak RSS) of one pull of `name`, deleted again
    afterwards so the next round fetches every byte anew."""
    os.sync()  # what earlier writes left dirty is flushed on neither side's clock
    rss.peak = 0
    busy_before, all_before = cpu_times()
    start = time.perf_counter()
    pull(client, url, name)
    pulled = time.perf_counter() - start
    busy_after, all_after = cpu_times()
    peak = rss.peak
    client.request("DELETE", f"{url}/api/delete", json={"model": name}).raise_for_status()
    return pulled, (busy_after - busy_before) / max(1, all_after - all_before), peak


def measure(host: str, models: dict[str, Figures], work: Path, rounds: int) -> int:
    """Pull each of `models` from `host` `rounds` times into one server, a copy of the same
    bytes beside each pull (which goes first alternates); returns the server's idle RSS."""
    store = work / "pulled"
    # The client is made before the clock starts: making one loads a CA bundle (about 45 ms
    # here), which is the bench's cost, not the pull's.
    with launch(store) as (url, pid), RssSampler(pid) as rss, httpx.Client(timeout=None) as client:
        idle = rss.rss()
        for n in range(rounds):
            for name, figures in models.items():
                copy_first = n % 2 == 1
                if copy_first:
                    figures.copies.append(plain_copy(figures.blob, work))
                pulled, busy, peak = pull_round(client, url, f"{host}/library/{name}", rss)
                figures.pulls.append(pulled)
                figures.busy.append(busy)
                figures.peak = max(figures.peak, peak)
                if not copy_first:
                    figures.copies.append(plain_copy(figures.blob, work))
    shutil.rmtree(store)
    return idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500", help="blob sizes in MB")
    parser.add_argument("--rounds", type=int, default=5, help="pulls of each model per source")
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
                f"{'rounds':>12}{'busy':>6}{'idle RSS':>11}{'peak RSS':>11}"
            )
            for label, host in hosts.items():
                models = {name: Figures(blob) for name, blob in blobs.items()}
                idle = measure(host, models, work, args.rounds)
                for figures in models.values():
                    pulled, copied = median(figures.pulls), median(figures.copies)
                    each = sorted(c / p for c, p in zip(figures.copies, figures.pulls, strict=True))
                    spread = f"{each[0]:.2f}-{each[-1]:.2f}"
                    busy = median(figures.busy)
                    print(
                        f"{label:<9}{figures.blob.stat().st_size // MB:>4} MB{pulled:>9.2f}"
                        f"{copied:>9.2f}{copied / pulled:>8.2f}{spread:>12}{busy:>6.0%}"
                        f"{idle / MB:>8.0f} MB{figures.peak / MB:>8.0f} MB"
                    )


if __name__ == "__main__":
    main()
