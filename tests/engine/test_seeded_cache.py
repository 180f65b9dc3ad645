"""Seeded requests reuse the prompt cache in fixed segments and still give the same text."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pollama.engine.runner import ProcessRunner, spawn_runner
from pollama.engine.runner.chunks import CHUNK
from pollama.engine.types import (
    CompletionChunk,
    CompletionRequest,
    LoadSpec,
    Logprob,
    RunnerOptions,
    SamplingOptions,
)

HISTORY = "The quick brown fox jumps over the lazy dog. " * 4


def _spec(path: Path) -> LoadSpec:
    options = RunnerOptions(num_ctx=512, num_parallel=2, num_thread=1)
    return LoadSpec("tiny", "0" * 64, path, options=options)


@pytest.fixture
async def runners(tiny_gguf: Path) -> AsyncIterator[tuple[ProcessRunner, ProcessRunner]]:
    """Two runners of the same model: one that keeps a cache, one asked only once per prompt."""
    cached, fresh = await asyncio.gather(
        spawn_runner(_spec(tiny_gguf)), spawn_runner(_spec(tiny_gguf))
    )
    yield cached, fresh
    await asyncio.gather(cached.close(), fresh.close())


async def _run(runner: ProcessRunner, request: CompletionRequest) -> tuple[str, CompletionChunk]:
    chunks = [c async for c in runner.completion(request)]
    return "".join(c.text for c in chunks), chunks[-1]


async def _said(
    runner: ProcessRunner, request: CompletionRequest
) -> tuple[str, list[Logprob], int]:
    """The text, every token's log-probability, and the prompt tokens evaluated."""
    chunks = [c async for c in runner.completion(request)]
    logprobs = [lp for c in chunks for lp in c.logprobs or ()]
    return "".join(c.text for c in chunks), logprobs, chunks[-1].prompt_eval_count


async def _idle(runner: ProcessRunner) -> None:
    """Wait until the runner has put its seeded replies into fixed chunks."""
    for _ in range(500):
        if not (await runner.stats())["recomputing"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the runner never finished recomputing")


def _seeded(prompt: str, context: tuple[int, ...] = (), seed: int = 11) -> CompletionRequest:
    sampling = SamplingOptions(seed=seed, temperature=0.9, num_predict=24)
    return CompletionRequest(prompt=prompt, context=context, sampling=sampling)


async def test_a_cached_prefix_gives_a_seeded_request_the_same_text(
    runners: tuple[ProcessRunner, ProcessRunner],
) -> None:
    cached, fresh = runners
    await _run(cached, _seeded(HISTORY))
    longer = _seeded(HISTORY + "and runs away")
    text, final = await _run(cached, longer)
    total = len(await cached.tokenize(HISTORY + "and runs away", add_special=True))
    assert final.prompt_eval_count < total - 100 + CHUNK  # the shared prefix came from cache
    assert (await _run(fresh, longer))[0] == text


async def test_a_seeded_chat_evaluates_only_each_new_turn(
    runners: tuple[ProcessRunner, ProcessRunner],
) -> None:
    """Replies that end with the end-of-turn token, which the next prompt repeats (as chat
    templates do): each turn evaluates exactly its new tokens, and says what a runner that
    never saw the chat says."""
    cached, fresh = runners
    context: tuple[int, ...] = ()
    eos = 2  # the tiny model's </s>
    for turn in range(6):
        message = f" Turn {turn}: tell me a fact about the number {turn}."
        new = len(await cached.tokenize(message))
        request = _seeded(message, context, seed=turn)
        request = dataclasses.replace(request, grammar='root ::= "ok " [a-z] [a-z] [a-z]')
        text, final = await _run(cached, request)
        assert final.done_reason == "stop"
        assert (await _run(fresh, request))[0] == text
        if turn:
            assert final.prompt_eval_count == new
        context = (*(final.tokens or ()), eos)
        await _idle(cached)


async def test_a_reply_cut_short_costs_the_next_turn_at_most_a_chunk(
    runners: tuple[ProcessRunner, ProcessRunner],
) -> None:
    cached, fresh = runners
    context: tuple[int, ...] = ()
    for turn in range(4):
        message = f" Turn {turn}: tell me a fact about the number {turn}."
        new = len(await cached.tokenize(message))
        request = _seeded(message, context, seed=turn)  # 24 tokens: ends by length
        text, final = await _run(cached, request)
        assert (await _run(fresh, request))[0] == text
        if turn:
            assert final.prompt_eval_count < new + CHUNK
        context = tuple(final.tokens or ())
        await _idle(cached)
    stats = await cached.stats()
    assert max(stats["slot_canonical_sizes"]) > len(context) - CHUNK


async def test_unseeded_requests_still_reuse_every_cached_token(
    runners: tuple[ProcessRunner, ProcessRunner],
) -> None:
    cached, _ = runners
    _, first = await _run(cached, _seeded(HISTORY))
    await _idle(cached)  # the seeded reply was re-evaluated, tail included
    plain = CompletionRequest(
        "more", context=tuple(first.tokens or ()), sampling=SamplingOptions(num_predict=4)
    )
    _, final = await _run(cached, plain)
    assert final.prompt_eval_count == 1 + len(await cached.tokenize("more"))


@pytest.mark.parametrize("num_predict", [12, 5], ids=["ended-by-end-of-turn", "cut-short"])
async def test_a_seeded_chat_reuses_each_reply_as_it_was_generated(
    runners: tuple[ProcessRunner, ProcessRunner], num_predict: int
) -> None:
    """A chat says where its replies lie: back to back, with no idle moment to re-evaluate
    them, each turn evaluates only its new tokens and the reply's last one, and the text and
    its log-probabilities are a fresh runner's, digit for digit."""
    cached, fresh = runners
    grammar = "root ::= [a-z] [a-z] [a-z] [a-z] [a-z] [a-z] [a-z] [a-z]"  # retokenizes alike
    text, replies, previous = "", [], 0
    for turn in range(5):
        text += f" User: tell me a fact about the number {turn}. Assistant:"
        sampling = SamplingOptions(seed=turn, temperature=0.9, num_predict=num_predict)
        request = CompletionRequest(
            text, sampling, grammar=grammar, replies=tuple(replies), logprobs=True
        )
        reply, logprobs, evaluated = await _said(cached, request)
        assert logprobs and (reply, logprobs) == (await _said(fresh, request))[:2]
        prompt = len(await cached.tokenize(text, add_special=True))
        if turn:
            assert evaluated == prompt - previous + 1
        previous = len(await cached.tokenize(text + reply, add_special=True))
        start = len(text.encode())
        text += reply
        replies.append((start, len(text.encode())))


async def test_a_reply_that_shared_its_decodes_is_reused_only_as_far_as_they_were_its_own(
    runners: tuple[ProcessRunner, ProcessRunner],
) -> None:
    cached, fresh = runners
    grammar = "root ::= [a-z] [a-z] [a-z] [a-z] [a-z] [a-z] [a-z] [a-z] [a-z] [a-z]"
    text = " User: spell a long word. Assistant:"
    first = CompletionRequest(
        text, SamplingOptions(seed=1, temperature=0.9), grammar=grammar, replies=()
    )
    other = CompletionRequest(HISTORY, SamplingOptions(num_predict=60))
    _, (reply, _) = await asyncio.gather(_run(cached, other), _run(cached, first))
    assert (await cached.stats())["max_seqs_per_decode"] == 2  # the reply shared decodes
    start = len(text.encode())
    text += reply
    replies = ((start, len(text.encode())),)
    text += " User: and another. Assistant:"
    sampling = SamplingOptions(seed=2, temperature=0.9)
    second = CompletionRequest(text, sampling, grammar=grammar, replies=replies, logprobs=True)
    got, logprobs, evaluated = await _said(cached, second)
    want, cold_logprobs, cold = await _said(fresh, second)
    assert logprobs and (got, logprobs) == (want, cold_logprobs)
    new = len(await cached.tokenize(" User: and another. Assistant:"))
    assert new + 1 < evaluated < cold  # part of the reply came from the cache
