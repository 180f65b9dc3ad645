"""Logprobs from the runner on the tiny GGUF: one per token, the model's own distribution."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncIterator
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from pollama.engine.runner import ProcessRunner
from pollama.engine.types import (
    CompletionChunk,
    CompletionRequest,
    Logprob,
    SamplingOptions,
)
from tests.fixtures.tiny_runner import tiny_runner

PROMPT = "The quick brown fox"


@pytest.fixture
async def runner(tiny_gguf: Path) -> AsyncIterator[ProcessRunner]:
    async with tiny_runner(tiny_gguf, num_ctx=256, num_parallel=2) as r:
        yield r


def _request(top: int = 3, grammar: str | None = None, **sampling: object) -> CompletionRequest:
    opts = SamplingOptions(**{"num_predict": 12, "seed": 7, **sampling})  # type: ignore[arg-type]
    return CompletionRequest(
        prompt=PROMPT, sampling=opts, grammar=grammar, logprobs=True, top_logprobs=top
    )


async def _run(r: ProcessRunner, request: CompletionRequest) -> list[CompletionChunk]:
    return [c async for c in r.completion(request)]


def _all(chunks: list[CompletionChunk]) -> list[Logprob]:
    return [lp for c in chunks for lp in c.logprobs]


async def test_no_logprobs_unless_asked(runner: ProcessRunner) -> None:
    request = dataclasses.replace(_request(), logprobs=False)
    assert _all(await _run(runner, request)) == []


async def test_one_per_token_and_tokens_join_to_the_text(runner: ProcessRunner) -> None:
    chunks = await _run(runner, _request(grammar="root ::= [a-z ] root"))
    logprobs = _all(chunks)
    text = "".join(c.text for c in chunks)
    assert len(logprobs) == chunks[-1].eval_count == 12
    assert "".join(lp.token for lp in logprobs) == text
    assert all(bytes(lp.bytes) == lp.token.encode() for lp in logprobs)
    # Each chunk carries the logprobs of the text it brings.
    for chunk in chunks:
        assert "".join(lp.token for lp in chunk.logprobs) == chunk.text


async def test_greedy_choice_is_the_most_likely_token(runner: ProcessRunner) -> None:
    chunks = await _run(runner, _request(top=5, temperature=0.0))
    logprobs = _all(chunks)
    assert len(logprobs) == chunks[-1].eval_count
    joined = b"".join(bytes(lp.bytes) for lp in logprobs).decode("utf-8", errors="replace")
    text = "".join(c.text for c in chunks)
    # Random weights draw random bytes: a reply may end half-way through a character.
    assert joined.startswith(text) and joined[len(text) :] in ("", "\ufffd")
    for lp in logprobs:
        top = lp.top_logprobs
        assert len(top) == 5
        assert [t.logprob for t in top] == sorted((t.logprob for t in top), reverse=True)
        assert (top[0].token, top[0].bytes) == (lp.token, lp.bytes)
        assert top[0].logprob == pytest.approx(lp.logprob)
        assert sum(math.exp(t.logprob) for t in top) <= 1.0 + 1e-6


async def test_values_are_the_models_distribution(runner: ProcessRunner, tiny_gguf: Path) -> None:
    """The first token's logprobs are the log-softmax of the logits bare llama.cpp computes
    for the prompt: the values come from the step that sampled, not from another pass."""
    chunks = await _run(runner, _request(top=20, temperature=0.0, num_predict=1))
    (first,) = _all(chunks)
    bare = llama_cpp.Llama(str(tiny_gguf), n_ctx=256, n_threads=1, verbose=False)
    bare.eval(bare.tokenize(PROMPT.encode(), add_bos=True, special=True))
    last = llama_cpp.llama_get_logits_ith(bare._ctx.ctx, -1)
    logits = np.ctypeslib.as_array(last, shape=(bare.n_vocab(),)).astype(np.float64)
    logsoftmax = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
    expected = np.sort(logsoftmax)[::-1][:20]
    assert [t.logprob for t in first.top_logprobs] == pytest.approx(list(expected), abs=1e-3)
    assert first.logprob == pytest.approx(float(expected[0]), abs=1e-3)


async def test_a_stop_string_drops_the_logprobs_of_what_it_cut(runner: ProcessRunner) -> None:
    grammar = 'root ::= "ab" "c"+'
    chunks = await _run(runner, _request(grammar=grammar, stop=("c",), num_predict=8))
    assert "".join(c.text for c in chunks) == "ab"
    assert "".join(lp.token for lp in _all(chunks)) == "ab"
