"""OpenAI compatibility: the translation on its own, then the official SDK against a live server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from pydantic import ValidationError

from pollama.api.compat import openai as compat
from pollama.api.schemas.openai import ChatCompletionRequest, CompletionRequest, dump_openai
from pollama.errors import InvalidRequest
from tests.api.compat_helpers import create_model, native_stream
from tests.api.generate_helpers import WEATHER_TOOL, server_with
from tests.fixtures.app_server import app_server

# --- request translation -------------------------------------------------------------------


def _chat(**body: Any) -> dict[str, Any]:
    body.setdefault("model", "m")
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    native = compat.chat_request(ChatCompletionRequest.model_validate(body))
    return native.model_dump(exclude_unset=True, exclude_none=True)


def test_chat_request_defaults_follow_openai() -> None:
    native = _chat()
    assert native["options"] == {"temperature": 1.0, "top_p": 1.0}
    assert native["messages"] == [{"role": "user", "content": "hi"}]
    assert "format" not in native and "tools" not in native


def test_chat_request_sampling_fields() -> None:
    native = _chat(
        temperature=0.2,
        top_p=0.5,
        max_tokens=7,
        seed=42,
        stop="END",
        frequency_penalty=0.1,
        presence_penalty=0.3,
    )
    assert native["options"] == {
        "temperature": 0.2,
        "top_p": 0.5,
        "num_predict": 7,
        "seed": 42,
        "stop": ["END"],
        "frequency_penalty": 0.1,
        "presence_penalty": 0.3,
    }
    assert _chat(max_completion_tokens=5, stop=["a", "b"])["options"]["num_predict"] == 5
    assert _chat(stop=["a", "b"])["options"]["stop"] == ["a", "b"]


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ({"type": "json_object"}, "json"),
        (
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
            {"type": "object"},
        ),
        ({"type": "text"}, None),
        ({"type": " JSON_Object "}, "json"),
        # As Ollama: no schema, or a type it does not know, asks for no format.
        ({"type": "json_schema", "json_schema": {"name": "x"}}, None),
        ({"type": "bogus"}, None),
    ],
)
def test_response_format_becomes_native_format(
    response_format: dict[str, Any], expected: Any
) -> None:
    assert _chat(response_format=response_format).get("format") == expected


def test_n_above_one_is_rejected_clearly() -> None:
    with pytest.raises(InvalidRequest, match="n > 1 is not supported"):
        _chat(n=2)
    assert _chat(n=1)["options"]["temperature"] == 1.0


def test_parallel_tool_calls_false_reaches_the_native_request() -> None:
    assert _chat(parallel_tool_calls=False)["parallel_tool_calls"] is False
    assert "parallel_tool_calls" not in _chat()


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (ChatCompletionRequest, {"logit_bias": {"42": 5}}, "logit_bias"),
        (ChatCompletionRequest, {"modalities": ["text", "audio"]}, "modalities"),
        (ChatCompletionRequest, {"audio": {"voice": "alloy"}}, "audio"),
        (ChatCompletionRequest, {"functions": [{"name": "f"}]}, "functions"),
        (ChatCompletionRequest, {"function_call": "auto"}, "function_call"),
        (ChatCompletionRequest, {"verbosity": "low"}, "verbosity"),
        (ChatCompletionRequest, {"web_search_options": {}}, "web_search_options"),
        (CompletionRequest, {"best_of": 3}, "best_of"),
        (CompletionRequest, {"echo": True}, "echo"),
        (CompletionRequest, {"logit_bias": {"1": -100}}, "logit_bias"),
    ],
)
def test_fields_pollama_cannot_honour_are_refused(
    model: type[ChatCompletionRequest | CompletionRequest], body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"model": "m", **body})
    (error,) = refused.value.errors()
    assert error["type"] == "refused" and error["loc"] == (field,)


def test_harmless_and_default_values_are_accepted() -> None:
    harmless = {"user": "u", "store": True, "metadata": {"a": "b"}, "service_tier": "auto"}
    native = _chat(logit_bias={}, modalities=["text"], prediction={"type": "content"}, **harmless)
    assert native["messages"] == [{"role": "user", "content": "hi"}]
    CompletionRequest.model_validate({"model": "m", "best_of": 1, "echo": False, **harmless})


def test_messages_parts_tools_and_tool_results() -> None:
    native = _chat(
        messages=[
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
    )
    assert native["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "a\nb"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
                }
            ],
        },
        {"role": "tool", "content": "sunny", "tool_name": "get_weather", "tool_call_id": "call_1"},
    ]
    assert native["tools"][0]["function"]["name"] == "get_weather"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"role": "user", "content": None}, "invalid message content type"),
        (
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
            },
            "image URLs are not currently supported",
        ),
        (
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": "data:text/plain;base64,AA=="}],
            },
            "invalid image input",
        ),
        (
            {
                "role": "assistant",
                "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}],
            },
            "invalid tool call arguments",
        ),
    ],
)
def test_bad_messages_are_invalid_requests(message: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidRequest, match=error):
        _chat(messages=[message])


def test_empty_messages_rejected_as_ollama_does() -> None:
    with pytest.raises(InvalidRequest, match="too short"):
        _chat(messages=[])


def test_image_parts_become_native_images() -> None:
    part = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}
    native = _chat(
        messages=[{"role": "user", "content": [{"type": "text", "text": "what?"}, part]}]
    )
    assert native["messages"] == [{"role": "user", "content": "what?", "images": ["iVBOR"]}]


def test_completion_request_translation() -> None:
    req = CompletionRequest(model="m", prompt="def f(", suffix="return 1", max_tokens=3)
    native = compat.completion_request(req)
    assert native.model_dump(exclude_unset=True, exclude_none=True) == {
        "model": "m",
        "prompt": "def f(",
        "suffix": "return 1",
        "stream": True,
        "options": {"temperature": 1.0, "top_p": 1.0, "num_predict": 3},
    }


# --- reply translation ---------------------------------------------------------------------

_TOOL_CALL = {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}


async def _all(items: AsyncIterator[Any]) -> list[dict[str, Any]]:
    return [dump_openai(i) async for i in items]


async def test_chat_chunks_role_first_finish_then_usage() -> None:
    chunks = await _all(
        compat.chat_chunks(native_stream(["Hel", "lo"], done_reason="stop"), "m", True)
    )
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": "Hel"}
    assert deltas[1] == {"content": "lo"}
    assert deltas[-1] == {}
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]] == [None, None, "stop"]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("chatcmpl-")
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)


async def test_chat_chunks_tool_calls_finish_with_tool_calls() -> None:
    stream = native_stream(["", ""], tool_calls=[_TOOL_CALL], done_reason="stop")
    chunks = await _all(compat.chat_chunks(stream, "m", False))
    calls = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert len(calls) == 1 and calls[0]["id"].startswith("call_")
    assert calls[0]["type"] == "function" and calls[0]["index"] == 0
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_chat_completion_aggregates() -> None:
    completion = await compat.chat_completion(native_stream(["a", "b"], done_reason="length"), "m")
    body = dump_openai(completion)
    assert body["object"] == "chat.completion" and body["system_fingerprint"] == "fp_ollama"
    assert body["choices"][0] == {
        "index": 0,
        "message": {"role": "assistant", "content": "ab"},
        "finish_reason": "length",
    }
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


async def test_completion_chunks_carry_text_and_finish() -> None:
    stream = native_stream(["x", "y"], done_reason="stop", generate=True)
    chunks = await _all(compat.completion_chunks(stream, "m", True))
    assert [c["choices"][0]["text"] for c in chunks[:-1]] == ["x", "y", ""]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["total_tokens"] == 7


# --- against a live server -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live pollama with the tiny model as `tiny` (module-scoped: one server for these tests)."""
    root = tmp_path_factory.mktemp("openai-models")
    create_model(root, "tiny", tiny_gguf)
    with app_server(root) as url:
        yield url


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1/", api_key="ollama", max_retries=0)


def test_sdk_chat_completion_has_usage(tiny_server: str) -> None:
    completion = _client(tiny_server).chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "Say hi"}], max_tokens=4, seed=1
    )
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.system_fingerprint == "fp_ollama"
    assert completion.model == "tiny"
    assert completion.choices[0].message.role == "assistant"
    assert isinstance(completion.choices[0].message.content, str)
    assert completion.choices[0].finish_reason in ("stop", "length")
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_usage_counts_the_whole_prompt_even_when_it_was_cached(tiny_server: str) -> None:
    """The second request's prompt comes from the cache, but usage is what was sent."""
    messages = [{"role": "user", "content": "The same question, asked twice over."}]
    first, second = (
        _client(tiny_server).chat.completions.create(
            model="tiny",
            messages=messages,
            max_tokens=2,
            seed=1,  # type: ignore[arg-type]
        )
        for _ in range(2)
    )
    assert first.usage and second.usage
    assert second.usage.prompt_tokens == first.usage.prompt_tokens > 5


def test_sdk_chat_stream_with_usage(tiny_server: str) -> None:
    stream = _client(tiny_server).chat.completions.create(
        model="tiny",
        messages=[{"role": "user", "content": "Say hi"}],
        max_tokens=4,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices]
    # Random weights may draw EOS early, so "stop" is as good as "length" here.
    assert finish[-1] in ("length", "stop") and all(f is None for f in finish[:-1])
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert 0 < chunks[-1].usage.completion_tokens <= 4


async def test_async_sdk_chat_stream_and_not(tiny_server: str) -> None:
    client = openai.AsyncOpenAI(base_url=tiny_server + "/v1/", api_key="ollama", max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "hello"}]
    completion = await client.chat.completions.create(model="tiny", messages=messages, max_tokens=3)
    assert completion.usage is not None and completion.usage.completion_tokens <= 3
    stream = await client.chat.completions.create(
        model="tiny", messages=messages, max_tokens=3, stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert isinstance(text, str)
    await client.close()


def test_sdk_completions(tiny_server: str) -> None:
    client = _client(tiny_server)
    completion = client.completions.create(model="tiny", prompt="Once", max_tokens=3)
    assert completion.object == "text_completion" and completion.id.startswith("cmpl-")
    assert completion.usage is not None and 0 < completion.usage.completion_tokens <= 3
    assert completion.choices[0].finish_reason in ("length", "stop")
    chunks = list(client.completions.create(model="tiny", prompt="Once", max_tokens=3, stream=True))
    assert chunks[-1].choices[0].finish_reason in ("length", "stop")


def test_sdk_models(tiny_server: str) -> None:
    client = _client(tiny_server)
    ids = [m.id for m in client.models.list()]
    assert ids == ["tiny:latest"]
    model = client.models.retrieve("tiny:latest")
    assert model.id == "tiny:latest" and model.owned_by == "library" and model.created > 0
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_sdk_embeddings_float_and_base64(tiny_server: str) -> None:
    client = _client(tiny_server)
    result = client.embeddings.create(model="tiny", input=["hello", "world"])
    assert [d.index for d in result.data] == [0, 1]
    assert len(result.data[0].embedding) == 64
    assert result.usage.prompt_tokens > 0
    short = client.embeddings.create(model="tiny", input="hello", dimensions=8)
    assert len(short.data[0].embedding) == 8
    # The SDK asks for base64 by default when numpy is present and decodes it itself.
    raw = httpx.post(
        tiny_server + "/v1/embeddings",
        json={"model": "tiny", "input": "hello", "encoding_format": "base64"},
    ).json()
    assert isinstance(raw["data"][0]["embedding"], str)


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        (
            "/v1/chat/completions",
            {"model": "nope", "messages": [{"role": "user", "content": "x"}]},
            404,
            "not found",
        ),
        ("/v1/chat/completions", {"model": "tiny", "messages": []}, 400, "too short"),
        (
            "/v1/chat/completions",
            {"model": "tiny", "messages": [{"role": "user", "content": "x"}], "n": 3},
            400,
            "n > 1",
        ),
        (
            "/v1/embeddings",
            {"model": "tiny", "input": "x", "encoding_format": "hex"},
            400,
            "encoding_format",
        ),
        ("/v1/embeddings", {"model": "tiny", "input": []}, 400, "invalid input"),
    ],
)
def test_errors_in_openai_envelope(
    tiny_server: str, path: str, body: dict[str, Any], status: int, message: str
) -> None:
    response = httpx.post(tiny_server + path, json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error["message"]
    assert error["type"] == ("not_found_error" if status == 404 else "invalid_request_error")
    assert error["param"] is None and error["code"] is None


def test_sdk_raises_typed_errors(tiny_server: str) -> None:
    with pytest.raises(openai.NotFoundError):
        _client(tiny_server).chat.completions.create(
            model="nope", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.BadRequestError, match="n > 1"):
        _client(tiny_server).chat.completions.create(
            model="tiny", messages=[{"role": "user", "content": "x"}], n=2
        )


@pytest.mark.starter
def test_article_snippet_on_starter(qwen_models: dict[str, str], tmp_path: Path) -> None:
    """The article's call, unchanged but for a short reply, then tools and JSON mode, on the
    real Qwen starter."""
    with server_with(tmp_path, qwen_models) as url:
        client = openai.OpenAI(base_url=url + "/v1/", api_key="ollama")
        # The 0.5B model answers a bare JSON call on a fresh cache and a ```json-fenced one
        # after other requests (the numerics of a reused prefix): both are calls.
        called = client.chat.completions.create(
            model="qwen2.5-coder:0.5b",
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            max_tokens=64,
            temperature=0,
            seed=7,
        )
        choice = called.choices[0]
        assert choice.finish_reason == "tool_calls", choice.message.content
        (tool_call,) = choice.message.tool_calls or []
        assert tool_call.function.name == "get_weather"  # type: ignore[union-attr]
        assert json.loads(tool_call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
        response = client.chat.completions.create(
            model="qwen2.5-coder:0.5b",
            messages=[{"role": "user", "content": "Reply with the single word: yes"}],
            max_tokens=8,
            temperature=0,
            seed=7,
        )
        assert "yes" in (response.choices[0].message.content or "").lower()
        assert response.usage is not None and response.usage.total_tokens > 0
        structured = client.chat.completions.create(
            model="qwen2.5-coder:0.5b",
            messages=[{"role": "user", "content": "Give a JSON object with key a set to 1"}],
            response_format={"type": "json_object"},
            max_tokens=16,
            temperature=0,
            seed=7,
        )
        assert isinstance(json.loads(structured.choices[0].message.content or ""), dict)
