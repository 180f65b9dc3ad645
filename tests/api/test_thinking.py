"""Thinking, end to end and in-process: a model whose template marks thinking, a real runner
held to a grammar that answers `thought</think>answer`, through every API family."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pollama.engine.runner import spawn_runner
from pollama.engine.scheduler import Scheduler
from pollama.engine.types import CompletionChunk, CompletionRequest, LoadSpec, Runner
from tests.api.generate_helpers import create
from tests.api.inprocess import app_client
from tests.fixtures.tiny_gguf import THINKING_TEMPLATE

# The prompt of a thinking turn ends in `<think>`: the model thinks, closes, answers.
THINK_GRAMMAR = 'root ::= [a-z]{3,10} "</think>" [a-z]{2,6}'
OPTIONS = {"num_predict": 40, "seed": 5, "num_ctx": 256}
MESSAGES = [{"role": "user", "content": "hi"}]


class GrammarRunner:
    """A real runner whose every completion is held to one grammar (the test's seam)."""

    def __init__(self, runner: Runner, grammar: str) -> None:
        self._runner = runner
        self._grammar = grammar
        self.spec = runner.spec
        self.metadata = runner.metadata

    def completion(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]:
        return self._runner.completion(dataclasses.replace(request, grammar=self._grammar))

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        return await self._runner.tokenize(text, add_special=add_special)

    async def detokenize(self, tokens: list[int]) -> str:
        return await self._runner.detokenize(tokens)

    async def embed(self, inputs: list[str], *, truncate: bool = True) -> Any:
        return await self._runner.embed(inputs, truncate=truncate)

    async def close(self) -> None:
        await self._runner.close()

    @property
    def alive(self) -> bool:
        return self._runner.alive


@pytest.fixture
async def client(isolated_store: Path, tiny_gguf: Path) -> AsyncIterator[httpx.AsyncClient]:
    create(isolated_store, "thinker", f'FROM {tiny_gguf}\nTEMPLATE """{THINKING_TEMPLATE}"""\n')
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")

    async def runners(spec: LoadSpec) -> Runner:
        return GrammarRunner(await spawn_runner(spec), THINK_GRAMMAR)

    async with app_client(isolated_store, Scheduler(runner_factory=runners, max_loaded=2)) as http:
        yield http


async def _chat(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"model": "thinker", "messages": MESSAGES, "stream": False, "options": OPTIONS}
    reply = await client.post("/api/chat", json={**body, **fields})
    assert reply.status_code == 200, reply.text
    return reply.json()


def _split(raw: str) -> tuple[str, str]:
    thought, _, answer = raw.partition("</think>")
    return thought, answer


async def test_a_thinking_model_thinks_unless_told_not_to(client: httpx.AsyncClient) -> None:
    message = (await _chat(client))["message"]
    assert message["thinking"].isalpha() and message["content"].isalpha()
    off = (await _chat(client, think=False))["message"]
    assert "thinking" not in off and "</think>" in off["content"]  # no split when off
    generated = (
        await client.post(
            "/api/generate",
            json={"model": "thinker", "prompt": "hi", "stream": False, "options": OPTIONS},
        )
    ).json()
    assert generated["thinking"].isalpha() and generated["response"].isalpha()


async def test_a_level_reaches_the_template(client: httpx.AsyncClient) -> None:
    """The template writes `Reasoning: <level>`, and `true` is "medium" (as in Ollama): the
    prompt's byte tokens differ by the levels' lengths."""
    plain = await _chat(client, think=True)
    high = await _chat(client, think="high")
    assert high["prompt_eval_count"] - plain["prompt_eval_count"] == len("high") - len("medium")
    assert high["message"]["thinking"]


async def test_streamed_thinking_comes_before_the_answer(client: httpx.AsyncClient) -> None:
    body = {"model": "thinker", "messages": MESSAGES, "options": OPTIONS}
    lines = [json.loads(x) for x in (await client.post("/api/chat", json=body)).text.splitlines()]
    kinds = [
        "thinking" if c["message"].get("thinking") else "content"
        for c in lines
        if c["message"].get("thinking") or c["message"]["content"]
    ]
    assert kinds == sorted(kinds, reverse=True) and kinds[0] == "thinking"


async def test_openai_reasoning_whole_and_streamed(client: httpx.AsyncClient) -> None:
    body = {"model": "thinker", "messages": MESSAGES, "max_tokens": 40, "seed": 5}
    message = (await client.post("/v1/chat/completions", json=body)).json()["choices"][0]["message"]
    assert message["reasoning"].isalpha() and message["content"].isalpha()
    stream = await client.post(
        "/v1/chat/completions", json={**body, "stream": True, "reasoning_effort": "low"}
    )
    deltas = [
        json.loads(line[6:])["choices"]
        for line in stream.text.splitlines()
        if line.startswith("data: {")
    ]
    reasoning = "".join(c[0]["delta"].get("reasoning") or "" for c in deltas if c)
    content = "".join(c[0]["delta"].get("content") or "" for c in deltas if c)
    assert reasoning.isalpha() and content.isalpha()


async def test_anthropic_thinking_blocks(client: httpx.AsyncClient) -> None:
    body = {
        "model": "thinker",
        "max_tokens": 40,
        "messages": MESSAGES,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    reply = (await client.post("/v1/messages", json=body)).json()
    assert [b["type"] for b in reply["content"]] == ["thinking", "text"]
    assert reply["content"][0]["thinking"].isalpha()
    stream = (await client.post("/v1/messages", json={**body, "stream": True})).text
    assert '"content_block":{"type":"thinking"' in stream.replace(" ", "")
    assert '"type":"thinking_delta"' in stream.replace(" ", "")


async def test_thinking_on_a_model_that_cannot_is_refused(client: httpx.AsyncClient) -> None:
    body = {"model": "tiny", "messages": MESSAGES, "think": True, "stream": False}
    reply = await client.post("/api/chat", json=body)
    assert reply.status_code == 400
    assert reply.json() == {"error": '"tiny" does not support thinking'}


async def test_responses_reasoning_item_whole_and_streamed(client: httpx.AsyncClient) -> None:
    body = {"model": "thinker", "input": "hi", "max_output_tokens": 40}
    reply = (await client.post("/v1/responses", json=body)).json()
    reasoning, message = reply["output"]
    assert reasoning["type"] == "reasoning" and reasoning["summary"][0]["text"].isalpha()
    assert message["content"][0]["text"].isalpha()
    stream = (await client.post("/v1/responses", json={**body, "stream": True})).text
    names = [line[7:] for line in stream.splitlines() if line.startswith("event: ")]
    assert names.index("response.reasoning_summary_text.delta") < names.index(
        "response.output_text.delta"
    )
    assert names[-1] == "response.completed"
