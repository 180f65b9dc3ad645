"""What the benchmarks share: a `pollama serve` over a temporary store holding one model, and
the bare `llama_cpp.Llama` reference they are set against."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import llama_cpp.llama_cpp as llama_cpp_lib
from llama_cpp import Llama

from pollama.create import create_from_modelfile
from pollama.engine.runner.model import cpu_has_amx
from pollama.store import Store

MODEL = "bench:latest"
PROMPT = "Write a long story about a robot who learns to paint. Once upon a time"


def bare_llama(model: Path, threads: int, n_ctx: int = 2048) -> Llama:
    """The reference engine: bare llama-cpp-python on `model` with the same threads, its
    weights loaded as pollama's runner loads them."""
    with _weights_as_the_runner_loads_them():
        return Llama(
            str(model), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False
        )


@contextmanager
def _weights_as_the_runner_loads_them() -> Iterator[None]:
    """On AMX CPUs pollama's runner keeps the weights out of llama.cpp's extra buffer types,
    whose AMX kernels crash (`load_model` in engine/runner/model.py); `Llama()` has no
    parameter for it, so its default model parameters are wrapped while it loads."""
    if not cpu_has_amx():
        yield
        return
    default = llama_cpp_lib.llama_model_default_params

    def plain_buffers() -> llama_cpp_lib.llama_model_params:
        params = default()
        params.use_extra_bufts = False
        return params

    llama_cpp_lib.llama_model_default_params = plain_buffers
    try:
        yield
    finally:
        llama_cpp_lib.llama_model_default_params = default


def bare_decode(llm: Llama, tokens: int) -> float:
    """Decode tok/s of bare llama-cpp-python, streaming greedy, first token excluded."""
    llm.reset()
    stamps = [
        time.perf_counter()
        for _ in llm.create_completion(PROMPT, max_tokens=tokens, temperature=0.0, stream=True)
    ]
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def launch(models: Path, **env: str) -> Iterator[tuple[str, int]]:
    """A `pollama serve` over the store at `models`; yields its URL and process id."""
    port = _free_port()
    environ = {**os.environ, "OLLAMA_MODELS": str(models), "OLLAMA_HOST": f"127.0.0.1:{port}"}
    environ.update(env)
    proc = subprocess.Popen([sys.executable, "-m", "pollama", "serve"], env=environ)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def server(gguf: Path, modelfile: str = "", **env: str) -> Iterator[str]:
    """A `pollama serve` over a fresh store holding `gguf` as `bench` (with the extra
    `modelfile` lines, e.g. `PARAMETER num_thread 2`); yields its URL."""
    with tempfile.TemporaryDirectory() as models:
        text = f"FROM {gguf}\n{modelfile}"
        for _ in create_from_modelfile(Store(Path(models)), MODEL, text):
            pass
        with launch(Path(models), **env) as (url, _pid):
            yield url
