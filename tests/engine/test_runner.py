"""The runner process on the tiny GGUF: streaming, sampling, batching, cache, cancel, crash."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pollama.engine.runner import ProcessRunner, spawn_runner
from pollama.engine.types import (
    CompletionChunk,
    CompletionRequest,
    LoadSpec,
    RunnerOptions,
    SamplingOptions,
)
from pollama.errors import InvalidRequest, PollamaError, RunnerCrashed

PROMPT = "The quick brown fox jumps over the lazy dog"


def _spec(path: Path, **options: object) -> LoadSpec:
    opts = {"num_ctx": 256, "num_parallel": 4, "num_thread": 1, **options}
    return LoadSpec(name="tiny", digest="0" * 64, model_path=path, options=RunnerOptions(**opts))


@pytest.fixture
async def runner(tiny_gguf: Path) -> AsyncIterator[ProcessRunner]:
    """A 4-slot runner on the tiny model."""
    r = await spawn_runner(_spec(tiny_gguf))
    yield r
    await r.close()


def _request(prompt: str = PROMPT, **sampling: object) -> CompletionRequest:
    opts = {"num_predict": 16, "seed": 42, **sampling}
    return CompletionRequest(prompt=prompt, sampling=SamplingOptions(**opts))


def _endless(
    num_predict: int = 100_000, prompt: str = PROMPT, **sampling: object
) -> CompletionRequest:
    """A request that runs to `num_predict`: its grammar has no end, so EOS is never sampled
    (random weights draw one a few hundred tokens in, which would end a stream a test needs)."""
    request = _request(prompt, num_predict=num_predict, **sampling)
    return dataclasses.replace(request, grammar="root ::= [a-z] root")


async def _collect(r: ProcessRunner, request: CompletionRequest) -> tuple[str, CompletionChunk]:
    chunks = [c async for c in r.completion(request)]
    assert chunks[-1].done and all(not c.done for c in chunks[:-1])
    return "".join(c.text for c in chunks), chunks[-1]


async def test_completion_streams_and_ends_with_metrics(runner: ProcessRunner) -> None:
    chunks = [c async for c in runner.completion(_request())]
    final = chunks[-1]
    assert len(chunks) > 2
    assert final.done and final.done_reason == "length"
    assert final.eval_count == 16
    assert final.prompt_eval_count > 5
    assert final.prompt_eval_duration > 0 and final.eval_duration > 0
    prompt_tokens = await runner.tokenize(PROMPT, add_special=True)
    assert final.tokens[: len(prompt_tokens)] == prompt_tokens
    assert len(final.tokens) == len(prompt_tokens) + 16


async def test_metadata_and_alive(runner: ProcessRunner) -> None:
    assert runner.alive
    assert runner.metadata.n_ctx_train == 2048
    assert runner.metadata.n_embd == 64
    assert runner.metadata.chat_template and "messages" in runner.metadata.chat_template


async def test_same_seed_gives_same_text(runner: ProcessRunner) -> None:
    first, _ = await _collect(runner, _request(seed=7, num_predict=24))
    second, _ = await _collect(runner, _request(seed=7, num_predict=24))
    other, _ = await _collect(runner, _request(seed=8, num_predict=24))
    assert first == second
    assert first != other


async def test_greedy_is_deterministic_across_slots(runner: ProcessRunner) -> None:
    texts = await asyncio.gather(*(_collect(runner, _request(temperature=0.0)) for _ in range(3)))
    assert len({t for t, _ in texts}) == 1


async def test_stop_string_split_across_tokens_never_leaks(runner: ProcessRunner) -> None:
    text, _ = await _collect(runner, _request(temperature=0.0, num_predict=32))
    # Byte-level vocab: every character is its own token, so a 3-character stop string
    # always arrives over three tokens.
    stop = text[5:8]
    assert len(stop) == 3
    stopped, final = await _collect(runner, _request(temperature=0.0, num_predict=32, stop=(stop,)))
    assert final.done_reason == "stop"
    assert stopped == text[: text.find(stop)]
    assert stop not in stopped


async def test_a_stop_string_is_no_part_of_the_context(runner: ProcessRunner) -> None:
    text, _ = await _collect(runner, _request(temperature=0.0, num_predict=32))
    stop = text[5:8]
    stopped, final = await _collect(runner, _request(temperature=0.0, num_predict=32, stop=(stop,)))
    assert final.stop_sequence == stop
    prompt = await runner.tokenize(PROMPT, add_special=True)
    assert final.tokens is not None and final.tokens[: len(prompt)] == prompt
    assert await runner.detokenize(final.tokens[len(prompt) :]) == stopped


async def test_num_predict_gives_length(runner: ProcessRunner) -> None:
    _, final = await _collect(runner, _request(num_predict=3))
    assert final.done_reason == "length"
    assert final.eval_count == 3


async def test_concurrent_completions_share_decode_batches(runner: ProcessRunner) -> None:
    requests = [_request(f"{PROMPT} {i}", num_predict=32) for i in range(4)]
    results = await asyncio.gather(*(_collect(runner, r) for r in requests))
    assert all(final.eval_count == 32 for _, final in results)
    stats = await runner.stats()
    assert stats["max_seqs_per_decode"] >= 2


async def test_requests_sent_together_start_in_one_batch(runner: ProcessRunner) -> None:
    # As the server sends chat requests that came together: each prompt tokenized first, the
    # next ones before the first is sent, or just after. They take one decode for their
    # prompts, then one for each token.
    def sent(prompt: str) -> asyncio.Task[tuple[str, CompletionChunk]]:
        request = _endless(8, prompt, seed=-1, draft_num_predict=0)
        return asyncio.ensure_future(_collect(runner, request))

    prompts = [f"{PROMPT} {i}" for i in range(4)]
    await asyncio.gather(*(runner.tokenize(p) for p in prompts[:2]))
    streams = [sent(p) for p in prompts[:2]]
    for prompt in prompts[2:]:
        await asyncio.sleep(0)  # the streams before are sent
        await runner.tokenize(prompt)
        streams.append(sent(prompt))
    results = await asyncio.gather(*streams)
    assert all(final.eval_count == 8 for _, final in results)
    assert (await runner.stats())["decodes"] == 8


async def test_tokenize_is_answered_while_a_step_decodes(tiny_gguf: Path) -> None:
    runner = await spawn_runner(_spec(tiny_gguf, num_ctx=2048, num_batch=2048))
    try:
        stream = runner.completion(_request(PROMPT * 40, num_predict=1, seed=-1))
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)  # the request is sent: its prompt is one long decode
        stats = asyncio.ensure_future(runner.stats())  # answered between steps
        tokens = asyncio.ensure_future(runner.tokenize(PROMPT))
        done, _ = await asyncio.wait({stats, tokens}, return_when=asyncio.FIRST_COMPLETED)
        assert done == {tokens}
        assert tokens.result() == await runner.tokenize(PROMPT)
        await asyncio.gather(stats, first)
        await stream.aclose()
    finally:
        await runner.close()


async def test_prompt_cache_evaluates_only_new_tokens(runner: ProcessRunner) -> None:
    history = PROMPT * 4
    _, first = await _collect(runner, _request(history, seed=-1))
    _, second = await _collect(runner, _request(history + " and runs away", seed=-1))
    total = len(await runner.tokenize(history + " and runs away", add_special=True))
    assert first.prompt_eval_count == len(await runner.tokenize(history, add_special=True))
    assert second.prompt_eval_count < total - 100
    _, repeat = await _collect(runner, _request(history + " and runs away", seed=-1))
    assert repeat.prompt_eval_count == 1
    # A seeded request reuses only prefixes evaluated in fixed chunks, which unseeded
    # requests never make: it evaluates the whole prompt (tests/engine/test_seeded_cache.py).
    _, seeded = await _collect(runner, _request(history + " and runs away", seed=3))
    assert seeded.prompt_eval_count == total


async def test_context_tokens_continue_a_generation(runner: ProcessRunner) -> None:
    # A reply that ended on EOS would leave no sampled-but-undecoded token to evaluate (one
    # run in thirty did): the endless grammar keeps EOS out.
    _, first = await _collect(runner, _endless(16, "abc", seed=-1))
    request = CompletionRequest(
        prompt="def", context=tuple(first.tokens), sampling=SamplingOptions(num_predict=4)
    )
    _, second = await _collect(runner, request)
    assert second.tokens[: len(first.tokens)] == first.tokens
    # Cached in its slot: only the last reply token (sampled, never decoded) and "▁def".
    assert second.prompt_eval_count == 5


async def test_early_close_frees_slots(runner: ProcessRunner) -> None:
    rng = random.Random(0)
    for i in range(200):
        stream = runner.completion(_request(f"{i} {PROMPT}", num_predict=64))
        for _ in range(rng.randint(0, 3)):
            await anext(stream)
        await stream.aclose()
    requests = [_request(f"after {i}", num_predict=8) for i in range(4)]
    results = await asyncio.gather(*(_collect(runner, r) for r in requests))
    assert [final.eval_count for _, final in results] == [8, 8, 8, 8]


async def test_task_cancellation_frees_slot(runner: ProcessRunner) -> None:
    async def consume() -> None:
        async for _ in runner.completion(_endless()):
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(consume()) for _ in range(4)]
    await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    _, final = await asyncio.wait_for(_collect(runner, _request(num_predict=4)), 5)
    assert final.eval_count == 4


async def test_prompt_longer_than_context(runner: ProcessRunner) -> None:
    long_prompt = "x" * 400
    with pytest.raises(InvalidRequest, match="exceeds the context length"):
        await _collect(runner, CompletionRequest(prompt=long_prompt, truncate=False))
    _, final = await _collect(runner, _request(long_prompt, num_keep=4))
    n_prompt = len(await runner.tokenize(long_prompt, add_special=True))
    assert final.truncated == n_prompt - 256
    assert final.tokens[:5] == (await runner.tokenize("x" * 3, add_special=True))  # BOS + 4 kept


async def test_generation_past_context_shifts(tiny_gguf: Path) -> None:
    r = await spawn_runner(_spec(tiny_gguf, num_ctx=64, num_parallel=1))
    try:
        _, final = await _collect(r, _endless(150))
        assert final.eval_count == 150 and final.done_reason == "length"
    finally:
        await r.close()


async def test_a_smaller_num_ctx_is_kept_by_a_larger_runner(runner: ProcessRunner) -> None:
    """The runner has 256 tokens a slot; a request for 64 is truncated and shifted at 64."""
    long_prompt = "x" * 200
    small = CompletionRequest(prompt=long_prompt, num_ctx=64, sampling=SamplingOptions(num_keep=4))
    _, final = await _collect(runner, small)
    n_prompt = len(await runner.tokenize(long_prompt, add_special=True))
    assert final.truncated == n_prompt - 64
    with pytest.raises(InvalidRequest, match=r"exceeds the context length \(64 tokens\)"):
        await _collect(runner, dataclasses.replace(small, truncate=False))


async def test_shift_false_ends_a_full_context_with_length(tiny_gguf: Path) -> None:
    r = await spawn_runner(_spec(tiny_gguf, num_ctx=64, num_parallel=1))
    try:
        request = dataclasses.replace(_endless(150), shift=False)
        _, final = await _collect(r, request)
        assert final.done_reason == "length" and final.eval_count < 64
    finally:
        await r.close()


async def test_tokenize_and_detokenize(runner: ProcessRunner) -> None:
    tokens = await runner.tokenize("hello")
    assert len(tokens) == 6  # "▁" then one byte token per letter
    assert await runner.detokenize(tokens) == "hello"
    assert (await runner.tokenize("hello", add_special=True))[0] == 1  # BOS
    assert await runner.tokenize("<s>") == [1]  # special tokens are parsed


async def test_embeddings_have_model_width(tiny_gguf: Path) -> None:
    r = await spawn_runner(_spec(tiny_gguf, embedding=True, num_parallel=1))
    try:
        assert r.metadata.pooling == "mean"
        result = await r.embed(["hello", "world", "a longer input"])
        assert [len(v) for v in result.embeddings] == [64, 64, 64]
        assert result.embeddings[0] != result.embeddings[1]
        assert result.prompt_eval_count == sum(
            [
                len(await r.tokenize(t, add_special=True))
                for t in ["hello", "world", "a longer input"]
            ]
        )
        many = await r.embed([f"input number {i}" for i in range(40)])  # > one decode's seqs
        assert len(many.embeddings) == 40
        alone = (await r.embed(["input number 1"])).embeddings[0]
        # Batched and lone decodes round differently, but sequences must not see each other.
        assert many.embeddings[1] == pytest.approx(alone, rel=1e-2, abs=1e-3)
        with pytest.raises(InvalidRequest):
            await _collect(r, _request())
    finally:
        await r.close()


async def test_bad_grammar_is_an_invalid_request(runner: ProcessRunner) -> None:
    with pytest.raises(InvalidRequest, match="grammar"):
        await _collect(runner, CompletionRequest(prompt="hi", grammar="root ::= ("))
    _, final = await _collect(runner, _request(num_predict=2))
    assert final.eval_count == 2


async def test_kill_9_mid_stream_raises_runner_crashed(tiny_gguf: Path) -> None:
    r = await spawn_runner(_spec(tiny_gguf))
    streams = [r.completion(_endless()) for _ in range(2)]
    for stream in streams:
        await anext(stream)
    os.kill(r.pid, signal.SIGKILL)
    started = time.monotonic()
    for stream in streams:
        with pytest.raises(RunnerCrashed):
            async for _ in stream:
                pass
    assert time.monotonic() - started < 1.0
    assert not r.alive
    with pytest.raises(RunnerCrashed):
        await r.tokenize("x")
    await r.close()


async def test_load_failure_reports_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf")
    with pytest.raises(PollamaError, match="unable to load model"):
        await spawn_runner(_spec(bad))


def _process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in "ZX"


_ORPHAN_SCRIPT = """
import asyncio, os, sys
from pathlib import Path
from pollama.engine.runner import spawn_runner
from pollama.engine.types import LoadSpec

async def main():
    runner = await spawn_runner(LoadSpec("tiny", "0", Path(sys.argv[1])))
    print(runner.pid, flush=True)
    os.kill(os.getpid(), 9)

asyncio.run(main())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_runner_dies_with_a_killed_server(tiny_gguf: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _ORPHAN_SCRIPT, str(tiny_gguf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 5
    while not _process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _process_gone(pid)
