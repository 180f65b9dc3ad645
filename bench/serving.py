"""Serving bars of issue 4, through the HTTP API, against bare `llama_cpp.Llama`, in one run.

    .venv/bin/python bench/serving.py [--model PATH] [--tokens 64] [--threads 2]

Prints three ratios:
- aggregate decode tok/s of 4 concurrent `/api/generate` streams / 1 stream (goal >= 1.5x);
- time to first token of turn 10 of a `/api/chat` conversation / turn 2 (goal <= 1.5x): the
  prompt cache evaluates only the new turn, where bare llama.cpp re-reads the history;
- cold load to first token through the server / `Llama()` + first token (goal <= 1.2x);
- time to first token of turn 10 of a seeded chat / of an unseeded one (goal <= 1.2x): a
  seeded prompt reuses the cache in fixed segments, the last reply as it was generated.
  Between turns the user reads and types (`--think`, 1 s by default), and the same chats are
  also run back to back, with no pause at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import MODEL, PROMPT, bare_llama, server

from pollama.engine.runner.launch import RESTOCK_DELAY_S
from pollama.starters import STARTERS, gguf_path


async def _stream(client: httpx.AsyncClient, prompt: str, tokens: int, threads: int) -> list[float]:
    body = {
        "model": MODEL,
        "prompt": prompt,
        "raw": True,
        "options": {"num_predict": tokens, "temperature": 0, "num_thread": threads},
    }
    stamps = []
    async with client.stream("POST", "/api/generate", json=body) as response:
        async for line in response.aiter_lines():
            if line and json.loads(line).get("response"):
                stamps.append(time.perf_counter())
    return stamps


async def aggregate(url: str, streams: int, tokens: int, threads: int) -> float:
    """Tokens per second over all streams, from the first to the last token seen."""
    async with httpx.AsyncClient(base_url=url, timeout=None) as client:
        runs = await asyncio.gather(
            *(_stream(client, f"({i}) {PROMPT}", tokens, threads) for i in range(streams))
        )
    first = min(r[0] for r in runs)
    last = max(r[-1] for r in runs)
    return sum(len(r) - 1 for r in runs) / (last - first)


def chat_ttft(
    url: str, turns: int, threads: int, seed: int = -1, think: float = 0.0
) -> list[tuple[float, int]]:
    """(time to first token, prompt tokens evaluated) of each turn of one growing chat, with
    `think` seconds between a reply and the next turn (its messages name the seed, so a
    seeded chat and an unseeded one share no cached prefix)."""
    messages: list[dict[str, str]] = []
    turns_seen = []
    with httpx.Client(base_url=url, timeout=None) as client:
        for turn in range(turns):
            messages.append(
                {"role": "user", "content": f"Turn {turn} ({seed}): one fact about {turn} ."}
            )
            body = {
                "model": MODEL,
                "messages": messages,
                "options": {
                    "num_predict": 24,
                    "temperature": 0,
                    "num_thread": threads,
                    "seed": seed,
                },
            }
            if turn:
                time.sleep(think)
            start, first, reply, evaluated = time.perf_counter(), 0.0, "", 0
            with client.stream("POST", "/api/chat", json=body) as response:
                for line in response.iter_lines():
                    chunk = json.loads(line) if line else {}
                    text = chunk.get("message", {}).get("content", "")
                    if text and not first:
                        first = time.perf_counter() - start
                    reply += text
                    evaluated = chunk.get("prompt_eval_count", evaluated)
            turns_seen.append((first, evaluated))
            messages.append({"role": "assistant", "content": reply})
    return turns_seen


def seeded_against_unseeded(url: str, threads: int, think: float) -> tuple[float, float, int, int]:
    """Turn 10's TTFT of seeded and unseeded chats (median of three each, alternating, as
    the machine's pace drifts), and the prompt tokens turn 10 evaluated in each."""
    seeded, unseeded = [], []
    for s in (1, 2, 3):
        seeded.append(chat_ttft(url, 10, threads, seed=s, think=think)[9])
        unseeded.append(chat_ttft(url, 10, threads, seed=-2 - s, think=think)[9])
    return (
        statistics.median(t for t, _ in seeded),
        statistics.median(t for t, _ in unseeded),
        max(n for _, n in seeded),
        max(n for _, n in unseeded),
    )


def cold_server(url: str, threads: int) -> float:
    """Unload, let the server idle, then time a one-token generate: load plus first token.

    The idle pause is what a cold model meets in use (it was unloaded after keep_alive); it
    lets the server restock the runner process it keeps started ahead.
    """
    with httpx.Client(base_url=url, timeout=None) as client:
        client.post("/api/generate", json={"model": MODEL, "keep_alive": 0})
        time.sleep(RESTOCK_DELAY_S + 1)
        start = time.perf_counter()
        client.post(
            "/api/generate",
            json={
                "model": MODEL,
                "prompt": "Hi",
                "raw": True,
                "stream": False,
                "options": {"num_predict": 1, "num_thread": threads},
            },
        )
        return time.perf_counter() - start


def cold_bare(gguf: Path, threads: int) -> float:
    start = time.perf_counter()
    llm = bare_llama(gguf, threads, n_ctx=4096)
    llm.create_completion("Hi", max_tokens=1)
    elapsed = time.perf_counter() - start
    del llm
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between chat turns")
    args = parser.parse_args()
    gguf = args.model or gguf_path(STARTERS[0])
    with server(gguf, OLLAMA_NUM_PARALLEL="4") as url:
        one = statistics.median(
            asyncio.run(aggregate(url, 1, args.tokens, args.threads)) for _ in range(2)
        )
        four = statistics.median(
            asyncio.run(aggregate(url, 4, args.tokens, args.threads)) for _ in range(2)
        )
        ttft = [first for first, _ in chat_ttft(url, 10, args.threads)]
        paused = seeded_against_unseeded(url, args.threads, args.think)
        rushed = seeded_against_unseeded(url, args.threads, 0.0)
        cold = statistics.median(cold_server(url, args.threads) for _ in range(3))
    bare = statistics.median(cold_bare(gguf, args.threads) for _ in range(3))
    print(f"model {gguf.name}, threads {args.threads}")
    print(f"decode tok/s, 1 stream {one:.1f}, 4 streams {four:.1f}")
    print(f"  ratio 4/1: {four / one:.2f}x (goal >= 1.5)")
    print(f"chat TTFT, turn 2 {ttft[1] * 1000:.0f} ms, turn 10 {ttft[9] * 1000:.0f} ms")
    print(f"  ratio turn 10 / turn 2: {ttft[9] / ttft[1]:.2f}x (goal <= 1.5)")
    for label, (seeded, unseeded, seeded_n, unseeded_n) in (
        (f"{args.think:g} s between turns", paused),
        ("back to back", rushed),
    ):
        print(
            f"seeded chat TTFT at turn 10, {label}: {seeded * 1000:.0f} ms"
            f" ({seeded_n} prompt tokens evaluated), unseeded {unseeded * 1000:.0f} ms"
            f" ({unseeded_n})"
        )
        print(f"  ratio seeded / unseeded: {seeded / unseeded:.2f}x (goal <= 1.2)")
    print(f"cold load to first token, server {cold:.2f} s, bare {bare:.2f} s")
    print(f"  ratio server / bare: {cold / bare:.2f}x (goal <= 1.2)")


if __name__ == "__main__":
    main()
