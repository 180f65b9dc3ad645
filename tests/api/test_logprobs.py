"""Logprobs through the HTTP API, in-process: Ollama's shape on /api/generate and /api/chat,
OpenAI's on chat completions and legacy completions, streamed and whole."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pollama.engine.scheduler import Scheduler
from tests.api.generate_helpers import create
from tests.api.inprocess import app_client

# The grammar keeps the random model to ASCII, so tokens join to the text exactly.
ASCII = {"type": "string", "pattern": "^[a-z ]{4,12}$"}
OPTIONS = {"num_predict": 8, "seed": 42, "num_ctx": 256}
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def client(isolated_store: Path, tiny_gguf: Path) -> AsyncIterator[httpx.AsyncClient]:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    async with app_client(isolated_store, Scheduler(max_loaded=1)) as http:
        yield http


def _lines(reply: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in reply.text.splitlines()]


def _sse(reply: httpx.Response) -> list[dict[str, Any]]:
    data = [line[6:] for line in reply.text.splitlines() if line.startswith("data: ")]
    return [json.loads(d) for d in data if d != "[DONE]"]


def _tokens(logprobs: list[dict[str, Any]]) -> str:
    return "".join(lp["token"] for lp in logprobs)


async def test_generate_one_per_token_in_ollamas_shape(client: httpx.AsyncClient) -> None:
    body = {"model": "tiny", "prompt": "hi", "format": ASCII, "options": OPTIONS}
    whole = (
        await client.post(
            "/api/generate", json={**body, "stream": False, "logprobs": True, "top_logprobs": 3}
        )
    ).json()
    logprobs = whole["logprobs"]
    assert len(logprobs) == whole["eval_count"]
    assert _tokens(logprobs) == whole["response"]
    for lp in logprobs:
        assert set(lp) == {"token", "logprob", "bytes", "top_logprobs"}
        assert bytes(lp["bytes"]) == lp["token"].encode() and lp["logprob"] <= 0
        assert len(lp["top_logprobs"]) == 3
    chunks = _lines(await client.post("/api/generate", json={**body, "logprobs": True}))
    for chunk in chunks:
        assert _tokens(chunk.get("logprobs", [])) == chunk["response"]
        assert all("top_logprobs" not in lp for lp in chunk.get("logprobs", []))
    assert "".join(c["response"] for c in chunks) == whole["response"]  # seeded: the same
    plain = (await client.post("/api/generate", json={**body, "stream": False})).json()
    assert "logprobs" not in plain


async def test_chat_logprobs_and_the_limit_on_top(client: httpx.AsyncClient) -> None:
    body = {"model": "tiny", "messages": MESSAGES, "format": ASCII, "options": OPTIONS}
    whole = (
        await client.post("/api/chat", json={**body, "stream": False, "logprobs": True})
    ).json()
    assert _tokens(whole["logprobs"]) == whole["message"]["content"]
    too_many = await client.post("/api/chat", json={**body, "logprobs": True, "top_logprobs": 21})
    assert too_many.status_code == 400
    assert too_many.json() == {"error": "top_logprobs must be between 0 and 20"}


async def test_openai_chat_logprobs_whole_and_streamed(client: httpx.AsyncClient) -> None:
    schema = {"type": "json_schema", "json_schema": {"schema": ASCII}}
    body = {
        "model": "tiny",
        "messages": MESSAGES,
        "response_format": schema,
        "max_tokens": 8,
        "seed": 42,
        "logprobs": True,
        "top_logprobs": 2,
    }
    whole = (await client.post("/v1/chat/completions", json=body)).json()
    choice = whole["choices"][0]
    content = choice["logprobs"]["content"]
    assert _tokens(content) == choice["message"]["content"]
    assert all(len(lp["top_logprobs"]) == 2 for lp in content)
    chunks = _sse(await client.post("/v1/chat/completions", json={**body, "stream": True}))
    streamed = [
        lp
        for c in chunks
        for ch in c["choices"]
        for lp in (ch.get("logprobs") or {}).get("content", [])
    ]
    assert _tokens(streamed) == "".join(
        ch["delta"].get("content") or "" for c in chunks for ch in c["choices"]
    )
    assert _tokens(streamed) == choice["message"]["content"]


async def test_openai_completion_logprobs_in_the_legacy_lists(client: httpx.AsyncClient) -> None:
    body = {"model": "tiny", "prompt": "hi", "max_tokens": 6, "seed": 42, "logprobs": 2}
    whole = (await client.post("/v1/completions", json=body)).json()
    logprobs = whole["choices"][0]["logprobs"]
    text = whole["choices"][0]["text"]
    assert len(logprobs["tokens"]) == len(logprobs["token_logprobs"]) == 6
    assert logprobs["text_offset"][0] == 0
    assert all(len(top) <= 2 for top in logprobs["top_logprobs"])
    chunks = _sse(await client.post("/v1/completions", json={**body, "stream": True}))
    offsets = [
        o
        for c in chunks
        for ch in c["choices"]
        for o in (ch.get("logprobs") or {}).get("text_offset", [])
    ]
    assert offsets == logprobs["text_offset"]
    assert "".join(ch["text"] for c in chunks for ch in c["choices"]) == text
