"""The runner on the real Qwen2.5-Coder 0.5B: readable text, stop on EOG, JSON grammar."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from llama_cpp.llama_grammar import JSON_GBNF

from pollama.engine.runner import ProcessRunner, spawn_runner
from pollama.engine.types import CompletionRequest, LoadSpec, RunnerOptions, SamplingOptions

pytestmark = pytest.mark.starter

CHATML = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture
async def qwen(starter_ggufs: dict[str, Path]) -> AsyncIterator[ProcessRunner]:
    """Qwen 0.5B with two slots and a small context, to stay quick on two cores."""
    options = RunnerOptions(num_ctx=512, num_parallel=2)
    spec = LoadSpec(
        "qwen2.5-coder:0.5b", "0" * 64, starter_ggufs["qwen2.5-coder:0.5b"], options=options
    )
    runner = await spawn_runner(spec)
    yield runner
    await runner.close()


async def test_qwen_answers_and_stops_on_end_of_turn(qwen: ProcessRunner) -> None:
    assert len(await qwen.tokenize("<|im_start|>")) == 1
    assert "<|im_start|>" in (qwen.metadata.chat_template or "")
    request = CompletionRequest(
        prompt=CHATML.format("What is the capital of France? Answer in one word."),
        sampling=SamplingOptions(temperature=0.0, num_predict=16),
        add_bos=False,
    )
    chunks = [c async for c in qwen.completion(request)]
    text = "".join(c.text for c in chunks)
    assert "Paris" in text
    assert chunks[-1].done_reason == "stop"
    assert "<|im_end|>" not in text


async def test_qwen_json_grammar_gives_valid_json(qwen: ProcessRunner) -> None:
    request = CompletionRequest(
        prompt=CHATML.format("Give a JSON object with a person's name and age."),
        sampling=SamplingOptions(temperature=0.0, num_predict=64),
        grammar=JSON_GBNF,
        add_bos=False,
    )
    chunks = [c async for c in qwen.completion(request)]
    assert chunks[-1].done_reason == "stop"
    assert isinstance(json.loads("".join(c.text for c in chunks)), dict)
