"""pollama against llama.cpp's own `llama-server`, side by side on the same GGUF (not in CI).

    .venv/bin/python bench/vs_llama_server.py [--model PATH] [--threads 2] [--slots 4]
                                              [--rounds 3] [--build-only]

The first run builds `llama-server` from the llama.cpp source that llama-cpp-python 0.3.36
vendors (its sdist, fetched with pip) into ~/.cache/pollama-bench (or $POLLAMA_BENCH_CACHE),
niced; later runs reuse it. Then both servers run side by side on the same GGUF (the qwen
starter), threads and slots, each at its defaults (pollama speculates, llama-server does
not), driven through `/v1/chat/completions`, greedy, rounds alternating which goes first,
every conversation opening with its own line so neither serves it from a cache. Printed:
medians and pollama / llama-server ratios for decode, 4-stream aggregate, TTFT on a long
prompt, a 1-token request, turn 10 of a seeded chat, and the code edit of
bench/speculative.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import MODEL, server
from speculative import WORKLOADS as EDITS

from pollama.engine.runner.model import cpu_has_amx
from pollama.starters import STARTERS, gguf_path

LLAMA_CPP_PYTHON = "0.3.36"
NUM_CTX = 4096
STORY = "Write a long story about a robot who learns to paint."
CODE_EDIT = EDITS["code edit"][0]
# About 1500 tokens of prose to read before answering.
LONG_PROMPT = "Summarise the following notes in one sentence.\n\n" + " ".join(
    f"Note {i}: the shipment of part {i * 7} arrived on day {i % 30}." for i in range(90)
)
PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps")
# llama.cpp's defaults (a native CPU build), the server only, no web UI to fetch.
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_BUILD_SERVER=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
)
CACHE = Path(os.environ.get("POLLAMA_BENCH_CACHE", Path.home() / ".cache" / "pollama-bench"))


def _sdist() -> Path:
    """The llama-cpp-python source tree, downloaded and unpacked once."""
    tree = CACHE / f"llama_cpp_python-{LLAMA_CPP_PYTHON}"
    if (tree / "vendor" / "llama.cpp" / "CMakeLists.txt").exists():
        return tree
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"llama_cpp_python-{LLAMA_CPP_PYTHON}.tar.gz"
    if not archive.exists():
        subprocess.run(
            [*PIP_DOWNLOAD, f"llama-cpp-python=={LLAMA_CPP_PYTHON}", "-d", str(CACHE)],
            check=True,
        )
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return tree


def llama_server() -> Path:
    """The path of the built `llama-server`, building it first if needed."""
    build = CACHE / f"llama-server-{LLAMA_CPP_PYTHON}"
    binary = build / "bin" / "llama-server"
    if binary.exists():
        return binary
    source = _sdist() / "vendor" / "llama.cpp"
    cmake = shutil.which("cmake") or "cmake"
    nice = ["nice", "-n", "19"]
    subprocess.run(
        [*nice, cmake, "-S", str(source), "-B", str(build), *CMAKE_FLAGS],
        check=True,
    )
    jobs = str(os.cpu_count() or 2)
    subprocess.run(
        [*nice, cmake, "--build", str(build), "--target", "llama-server", "-j", jobs], check=True
    )
    return binary


@contextmanager
def llama_server_running(binary: Path, gguf: Path, threads: int, slots: int) -> Iterator[str]:
    """llama-server on a free port with its defaults (no speculation), `slots` slots of
    `NUM_CTX` tokens each, as Ollama starts it; yields its URL."""
    port = _free_port()
    command = [str(binary), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port)]
    command += ["-t", str(threads), "-tb", str(threads), "-np", str(slots)]
    command += ["-c", str(NUM_CTX * slots), "--no-webui", "--log-disable"]
    if cpu_has_amx():  # as pollama's runner does there: the AMX kernels crash (model.py)
        command.append("--no-repack")
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("llama-server exited")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Timing:
    """One streamed chat request: when it started, when each piece of text came."""

    start: float
    stamps: list[float]

    @property
    def ttft(self) -> float:
        return self.stamps[0] - self.start

    @property
    def wall(self) -> float:
        return self.stamps[-1] - self.start

    @property
    def decode_rate(self) -> float:
        return (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])


async def chat(
    client: httpx.AsyncClient, messages: list[dict[str, str]], tokens: int, seed: int | None
) -> tuple[Timing, str]:
    """Stream one `/v1/chat/completions` request, greedy; its timing and its text."""
    body: dict[str, object] = {
        "model": MODEL,
        "messages": messages,
        "max_tokens": tokens,
        "temperature": 0,
        "stream": True,
    }
    if seed is not None:
        body["seed"] = seed
    start, stamps, text = time.perf_counter(), [], ""
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or [{}]
            piece = (choices[0].get("delta") or {}).get("content") or ""
            if piece:
                stamps.append(time.perf_counter())
                text += piece
    return Timing(start, stamps or [time.perf_counter()]), text


def _user(text: str, n: int) -> list[dict[str, str]]:
    """A one-turn conversation opening with its own line, so no cache serves it."""
    return [{"role": "system", "content": f"Session {n}."}, {"role": "user", "content": text}]


async def decode(client: httpx.AsyncClient, n: int) -> float:
    return (await chat(client, _user(STORY, n), 128, None))[0].decode_rate


async def four_streams(client: httpx.AsyncClient, n: int) -> float:
    """Aggregate tok/s of 4 concurrent streams, first to last token."""
    runs = await asyncio.gather(
        *(chat(client, _user(STORY, n * 10 + i), 96, None) for i in range(4))
    )
    first = min(t.stamps[0] for t, _ in runs)
    last = max(t.stamps[-1] for t, _ in runs)
    return sum(len(t.stamps) - 1 for t, _ in runs) / (last - first)


async def long_prompt_ttft(client: httpx.AsyncClient, n: int) -> float:
    return (await chat(client, _user(LONG_PROMPT, n), 4, None))[0].ttft


async def one_token(client: httpx.AsyncClient, n: int) -> float:
    return (await chat(client, _user("Say hi.", n), 1, None))[0].wall


async def seeded_chat(client: httpx.AsyncClient, n: int) -> float:
    """Time to first token of turn 10 of a seeded chat."""
    messages = [{"role": "system", "content": f"Session {n}."}]
    timing = None
    for turn in range(10):
        messages.append({"role": "user", "content": f"Turn {turn}: one fact about {turn}."})
        timing, text = await chat(client, messages, 24, 42)
        messages.append({"role": "assistant", "content": text})
    assert timing is not None
    return timing.ttft


async def code_edit(client: httpx.AsyncClient, n: int) -> float:
    return (await chat(client, _user(CODE_EDIT, n), 700, None))[0].wall


# name, measure, whether larger is better, goal for pollama / llama-server
WORKLOADS: list[tuple[str, Callable[[httpx.AsyncClient, int], Awaitable[float]], bool, str]] = [
    ("decode tok/s", decode, True, ">= 0.97"),
    ("4 streams tok/s", four_streams, True, ">= 1.0"),
    ("long prompt TTFT s", long_prompt_ttft, False, "<= 1.1"),
    ("1-token request s", one_token, False, ""),
    ("code edit wall s", code_edit, False, "<= 0.67 (1.5x faster)"),
    ("seeded chat turn-10 TTFT s", seeded_chat, False, ""),
]


async def run(urls: dict[str, str], rounds: int) -> None:
    """Every workload, rounds alternating which server goes first; medians and ratios."""
    n = 0
    # A fresh connection for every request, on both sides: the vendored llama-server ends
    # each streamed response complete but then closes the connection (its chunked writer
    # takes the stream's end for a cancel) without saying `Connection: close`, so a client
    # that reuses it races the close and gets "Server disconnected without sending a
    # response". A loopback connect costs well under a millisecond.
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with (
        httpx.AsyncClient(base_url=urls["pollama"], timeout=None, limits=fresh) as ours,
        httpx.AsyncClient(base_url=urls["llama-server"], timeout=None, limits=fresh) as theirs,
    ):
        clients = {"pollama": ours, "llama-server": theirs}
        for client in clients.values():  # load, warm up
            await chat(client, _user("Hi", -1), 2, None)
        for name, measure, larger_is_better, goal in WORKLOADS:
            values: dict[str, list[float]] = {"pollama": [], "llama-server": []}
            try:
                for r in range(rounds):
                    order = ["pollama", "llama-server"][:: 1 if r % 2 == 0 else -1]
                    for side in order:
                        n += 1
                        failed = side
                        values[side].append(await measure(clients[side], n))
            except httpx.TransportError as exc:
                print(f"{name:28} {failed} failed: {exc!r}", flush=True)
                continue
            ours_m = statistics.median(values["pollama"])
            theirs_m = statistics.median(values["llama-server"])
            ratio = ours_m / theirs_m
            better = ratio >= 1 if larger_is_better else ratio <= 1
            print(
                f"{name:28} pollama {ours_m:8.3f}  llama-server {theirs_m:8.3f}  "
                f"ratio {ratio:.2f} ({'pollama ahead' if better else 'llama-server ahead'})"
                + (f"  goal {goal}" if goal else ""),
                flush=True,
            )


def main() -> None:
    """Build llama-server if needed, then run the workloads and print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = gguf_path(next(s for s in STARTERS if s.name == "qwen2.5-coder:0.5b"))
    parser.add_argument("--model", type=Path, default=default)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    binary = llama_server()
    if args.build_only:
        print(f"llama-server: {binary}")
        return
    parameters = f"PARAMETER num_thread {args.threads}\n"
    env = {"OLLAMA_NUM_PARALLEL": str(args.slots), "OLLAMA_CONTEXT_LENGTH": str(NUM_CTX)}
    print(f"model {args.model.name}, {args.threads} threads, {args.slots} slots each")
    with (
        llama_server_running(binary, args.model, args.threads, args.slots) as theirs,
        server(args.model, parameters, **env) as ours,
    ):
        asyncio.run(run({"pollama": ours, "llama-server": theirs}, args.rounds))


if __name__ == "__main__":
    main()
