"""`POST /api/generate` against a live server: mechanics on the tiny model, behaviour on qwen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import ollama
import pytest

from pollama.api.pipeline.plan import grammar_for
from pollama.errors import InvalidRequest
from tests.api.generate_helpers import TINY_OPTIONS, ndjson, post, server_with

METRICS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, tiny_gguf: Path) -> Iterator[str]:
    root = tmp_path_factory.mktemp("generate-models")
    models = {"tiny": f"FROM {tiny_gguf}\n", "tiny-sys": f"FROM {tiny_gguf}\nSYSTEM Be brief.\n"}
    with server_with(root, models) as base:
        yield base


def test_streams_ndjson_ending_in_metrics(url: str) -> None:
    response, chunks = ndjson(
        url, "/api/generate", {"model": "tiny", "prompt": "hi", "options": TINY_OPTIONS}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    wire_keys = {"model", "created_at", "response", "done", "done_reason", "context", *METRICS}
    for chunk in chunks[:-1]:
        assert chunk["model"] == "tiny" and chunk["done"] is False
        assert isinstance(chunk["response"], str) and "created_at" in chunk
    for chunk in chunks:
        assert set(chunk) <= wire_keys  # Ollama's fields only
    final = chunks[-1]
    assert final["done"] is True
    assert final["done_reason"] == "length"
    assert final["eval_count"] == TINY_OPTIONS["num_predict"]
    for key in METRICS:
        assert isinstance(final[key], int) and final[key] > 0, key
    assert all(isinstance(t, int) for t in final["context"])


def test_non_streamed_equals_joined_stream(url: str) -> None:
    body = {"model": "tiny", "prompt": "tell me", "options": {**TINY_OPTIONS, "temperature": 0.9}}
    _, chunks = ndjson(url, "/api/generate", body)
    whole = post(url, "/api/generate", {**body, "stream": False}).json()
    assert whole["response"] == "".join(c["response"] for c in chunks)
    assert whole["done"] is True and whole["context"] == chunks[-1]["context"]


def test_context_continues_a_conversation(url: str) -> None:
    first = post(
        url,
        "/api/generate",
        {"model": "tiny", "prompt": "a", "stream": False, "options": TINY_OPTIONS},
    ).json()
    second = post(
        url,
        "/api/generate",
        {
            "model": "tiny",
            "prompt": "b",
            "context": first["context"],
            "stream": False,
            "options": TINY_OPTIONS,
        },
    ).json()
    assert second["context"][: len(first["context"])] == first["context"]
    assert second["prompt_eval_count"] > 0


def test_raw_returns_no_context(url: str) -> None:
    body = {"model": "tiny", "prompt": "abc", "raw": True, "stream": False, "options": TINY_OPTIONS}
    reply = post(url, "/api/generate", body).json()
    assert reply["done"] is True and "context" not in reply


def test_empty_prompt_loads_and_keep_alive_zero_unloads(url: str) -> None:
    loaded = post(url, "/api/generate", {"model": "tiny", "stream": False}).json()
    assert loaded["done_reason"] == "load" and loaded["response"] == ""
    unloaded = post(url, "/api/generate", {"model": "tiny", "keep_alive": 0}).json()
    assert unloaded == {**unloaded, "done": True, "done_reason": "unload", "response": ""}


def test_official_client_streaming_and_not(url: str) -> None:
    client = ollama.Client(host=url)
    parts = list(client.generate(model="tiny", prompt="x", stream=True, options=TINY_OPTIONS))
    assert parts[-1].done and parts[-1].eval_count == TINY_OPTIONS["num_predict"]
    whole = client.generate(model="tiny", prompt="x", options=TINY_OPTIONS)
    assert whole.response == "".join(p.response for p in parts)


def test_stale_and_unknown_options_are_accepted(url: str) -> None:
    options = {
        **TINY_OPTIONS,
        "tfs_z": 1.0,
        "low_vram": False,
        "f16_kv": True,
        "vocab_only": False,
        "mirostat": 0,
        "penalize_newline": True,
        "numa": False,
        "no_such_option": 1,
        "num_keep": 4.0,
    }
    reply = post(
        url, "/api/generate", {"model": "tiny", "prompt": "x", "stream": False, "options": options}
    )
    assert reply.status_code == 200, reply.text


def test_a_prompt_longer_than_num_ctx_is_cut_and_reported(url: str) -> None:
    options = {**TINY_OPTIONS, "num_ctx": 64}
    body = {"model": "tiny", "prompt": "word " * 200, "options": options}
    streamed, chunks = ndjson(url, "/api/generate", body)
    assert chunks[-1]["done"] is True
    whole = post(url, "/api/generate", {**body, "stream": False})
    for reply in (streamed, whole):
        assert int(reply.headers["X-Pollama-Truncated-Tokens"]) > 100
    fitting = post(url, "/api/generate", {**body, "prompt": "word", "stream": False})
    assert "X-Pollama-Truncated-Tokens" not in fitting.headers


def test_truncate_false_refuses_a_prompt_longer_than_num_ctx(url: str) -> None:
    options = {**TINY_OPTIONS, "num_ctx": 64}
    body = {"model": "tiny", "prompt": "word " * 200, "options": options, "truncate": False}
    reply = post(url, "/api/generate", body)
    assert reply.status_code == 400
    assert "context length" in reply.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "nope", "prompt": "x"}, 404, "model 'nope' not found"),
        ({"model": "", "prompt": "x"}, 404, "model '' not found"),
        (
            {"model": "tiny", "prompt": "x", "options": {"num_ctx": "x"}},
            400,
            'option "num_ctx" must be of type integer',
        ),
        (
            {"model": "tiny", "prompt": "x", "raw": True, "system": "s"},
            400,
            "raw mode does not support template, system, or context",
        ),
        ({"model": "tiny", "prompt": "x", "images": ["aGk="]}, 400, "does not support vision"),
        ({"model": "tiny", "prompt": "x", "format": "yaml"}, 400, "invalid format"),
        ({"model": "tiny", "prompt": "x", "format": 123}, 400, 'invalid format: "123"'),
        ({"model": "tiny", "prompt": "x", "keep_alive": True}, 400, "Unsupported type: 'bool'"),
        ({"model": "tiny", "prompt": "x", "suffix": "y"}, 400, "does not support insert"),
        ({"model": "tiny", "prompt": "x", "think": True}, 400, '"tiny" does not support thinking'),
        ({"model": "tiny", "prompt": "x", "think": "loud"}, 400, "invalid think value"),
    ],
)
def test_errors_before_the_stream(url: str, body: dict, status: int, message: str) -> None:
    reply = post(url, "/api/generate", body)
    assert reply.status_code == status
    assert message in reply.json()["error"]


def test_every_chunk_is_utf8_and_stop_is_never_sent(url: str) -> None:
    _, chunks = ndjson(
        url,
        "/api/generate",
        {"model": "tiny", "prompt": "q", "options": {**TINY_OPTIONS, "num_predict": 32}},
    )
    text = "".join(c["response"] for c in chunks)
    assert len(text) > 1
    stop = text[len(text) // 2 : len(text) // 2 + 2]
    _, cut = ndjson(
        url,
        "/api/generate",
        {
            "model": "tiny",
            "prompt": "q",
            "options": {**TINY_OPTIONS, "num_predict": 32, "stop": [stop]},
        },
    )
    cut_text = "".join(c["response"] for c in cut)
    assert stop not in cut_text
    assert text.startswith(cut_text)
    assert cut[-1]["done_reason"] == "stop"


# --- behaviour on the real model ---------------------------------------------------------

QWEN_OPTIONS = {"num_predict": 48, "num_ctx": 1024, "temperature": 0, "seed": 7}


@pytest.fixture(scope="module")
def qwen_url(
    tmp_path_factory: pytest.TempPathFactory, qwen_models: dict[str, str]
) -> Iterator[str]:
    with server_with(tmp_path_factory.mktemp("qwen-models"), qwen_models) as base:
        yield base


@pytest.mark.starter
def test_qwen_answers(qwen_url: str) -> None:
    reply = ollama.Client(host=qwen_url).generate(
        model="qwen2.5-coder:0.5b",
        prompt="What is the capital of France? One word.",
        options=QWEN_OPTIONS,
    )
    assert "paris" in reply.response.lower()
    assert reply.done_reason == "stop"


@pytest.mark.starter
def test_qwen_format_json_is_parseable(qwen_url: str) -> None:
    reply = post(
        qwen_url,
        "/api/generate",
        {
            "model": "qwen2.5-coder:0.5b",
            "prompt": "Describe a cat with keys name and age.",
            "format": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name", "age"],
            },
            "stream": False,
            "options": {**QWEN_OPTIONS, "num_predict": 64},
        },
    ).json()
    data = json.loads(reply["response"])
    assert isinstance(data["name"], str) and isinstance(data["age"], int)


@pytest.mark.starter
def test_qwen_seed_and_temperature_are_deterministic(qwen_url: str) -> None:
    body = {
        "model": "qwen2.5-coder:0.5b",
        "prompt": "Write a haiku about rain.",
        "stream": False,
        "options": {**QWEN_OPTIONS, "temperature": 1.0, "seed": 1234, "num_predict": 24},
    }
    first = post(qwen_url, "/api/generate", body).json()["response"]
    _, chunks = ndjson(qwen_url, "/api/generate", {**body, "stream": True})
    assert "".join(c["response"] for c in chunks) == first
    again = post(qwen_url, "/api/generate", body).json()["response"]
    assert again == first
    other = post(qwen_url, "/api/generate", {**body, "options": {**body["options"], "seed": 99}})
    assert other.json()["response"] != first


# --- format → grammar ----------------------------------------------------------------------


def test_format_json_is_llama_cpps_json_grammar() -> None:
    from llama_cpp.llama_grammar import JSON_GBNF

    assert grammar_for("json") == JSON_GBNF
    assert grammar_for(None) is None and grammar_for("") is None


def test_format_schema_becomes_a_grammar() -> None:
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    grammar = grammar_for(schema)
    assert grammar is not None and "root ::=" in grammar and '\\"age\\"' in grammar


@pytest.mark.parametrize("fmt", ["yaml", "JSON "])
def test_other_formats_are_rejected(fmt: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid format"):
        grammar_for(fmt)
