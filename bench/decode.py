"""Decode speed and time to first token through `/api/generate`, against bare `llama_cpp.Llama`.

    .venv/bin/python bench/decode.py [--model PATH] [--tokens 96] [--threads 2] [--rounds 3]
                                     [--parallel N]

Starts `pollama serve` on a free port over a temporary store holding the model (the qwen
starter by default), then alternates rounds of the same raw prompt, greedy, same threads and
context: one streamed through the server, one through `Llama.create_completion(stream=True)`.
Each round's prompt starts differently so neither side reuses a cached prefix.

Prints medians and the ratios the project aims at: decode tok/s server/bare ≥ 0.97, and the
fixed per-request overhead (server TTFT - bare TTFT) ≤ 15 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
from llama_cpp import Llama

sys.path.insert(0, str(Path(__file__).parent))
from _common import MODEL, PROMPT, bare_llama, server

from pollama.starters import STARTERS, gguf_path

NUM_CTX = 2048


def _rates(start: float, stamps: list[float]) -> tuple[float, float]:
    """(time to first token in s, decode tok/s after the first token)."""
    return stamps[0] - start, (len(stamps) - 1) / (stamps[-1] - stamps[0])


def through_server(client: httpx.Client, prompt: str, tokens: int, threads: int) -> tuple:
    body = {
        "model": MODEL,
        "prompt": prompt,
        "raw": True,
        "options": {
            "temperature": 0,
            "top_k": 1,
            "seed": 0,
            "num_predict": tokens,
            "num_thread": threads,
            "num_ctx": NUM_CTX,
        },
    }
    stamps: list[float] = []
    start = time.perf_counter()
    with client.stream("POST", "/api/generate", json=body) as response:
        for line in response.iter_lines():
            if json.loads(line).get("response"):
                stamps.append(time.perf_counter())
    return _rates(start, stamps)


def bare(llm: Llama, prompt: str, tokens: int) -> tuple[float, float]:
    stamps: list[float] = []
    start = time.perf_counter()
    for chunk in llm.create_completion(
        prompt, max_tokens=tokens, temperature=0.0, top_k=1, seed=0, stream=True
    ):
        if chunk["choices"][0]["text"]:
            stamps.append(time.perf_counter())
    return _rates(start, stamps)


def main() -> None:
    """Run the rounds and print medians and ratios."""
    parser = argparse.ArgumentParser()
    default = gguf_path(next(s for s in STARTERS if s.name == "qwen2.5-coder:0.5b"))
    parser.add_argument("--model", type=Path, default=default)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=None, help="OLLAMA_NUM_PARALLEL")
    args = parser.parse_args()

    llm = bare_llama(args.model, args.threads, NUM_CTX)
    served: list[tuple[float, float]] = []
    local: list[tuple[float, float]] = []
    env = {"OLLAMA_NUM_PARALLEL": str(args.parallel)} if args.parallel else {}
    with server(args.model, **env) as url, httpx.Client(base_url=url, timeout=600) as c:
        through_server(c, "warm up", 4, args.threads)  # loads the model
        bare(llm, "warm up", 4)
        for i in range(args.rounds):
            prompt = f"{i}. {PROMPT}"
            served.append(through_server(c, prompt, args.tokens, args.threads))
            local.append(bare(llm, prompt, args.tokens))

    ttft_s, tps_s = (statistics.median(x) for x in zip(*served, strict=True))
    ttft_b, tps_b = (statistics.median(x) for x in zip(*local, strict=True))
    print(f"model {args.model.name}, {args.threads} threads, {args.rounds} rounds")
    print(
        f"decode   server {tps_s:7.1f} tok/s   bare {tps_b:7.1f} tok/s   ratio {tps_s / tps_b:.3f}"
    )
    print(
        f"TTFT     server {ttft_s * 1e3:7.1f} ms      bare {ttft_b * 1e3:7.1f} ms      "
        f"overhead {(ttft_s - ttft_b) * 1e3:+.1f} ms"
    )


if __name__ == "__main__":
    main()
