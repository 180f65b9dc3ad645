"""Anthropic compatibility: the translation alone, then the official SDK on a live server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from pydantic import ValidationError

from pollama.api.compat import anthropic as compat
from pollama.api.pipeline import Event
from pollama.api.schemas.anthropic import MessagesRequest
from pollama.errors import InvalidRequest
from tests.api.compat_helpers import create_model, native_stream
from tests.fixtures.app_server import app_server

_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def _native(think: bool | None = None, **body: Any) -> dict[str, Any]:
    body.setdefault("model", "m")
    body.setdefault("max_tokens", 16)
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    native = compat.chat_request(MessagesRequest.model_validate(body), think=think)
    return native.model_dump(exclude_unset=True, exclude_none=True)


async def _events(stream: AsyncIterator[Event]) -> list[tuple[str, dict[str, Any]]]:
    """The stream events as (name, data), as they go on the wire."""
    return [(e.type, e.wire()) async for e in compat.stream_events(stream, "m")]


def test_request_options_and_system() -> None:
    native = _native(
        system=[{"type": "text", "text": "be"}, {"type": "text", "text": "brief"}],
        temperature=0.1,
        top_p=0.9,
        top_k=5,
        stop_sequences=["END"],
    )
    assert native["options"] == {
        "num_predict": 16,
        "temperature": 0.1,
        "top_p": 0.9,
        "top_k": 5,
        "stop": ["END"],
    }
    assert native["messages"] == [
        {"role": "system", "content": "be\nbrief"},
        {"role": "user", "content": "hi"},
    ]
    assert _native(system="sys")["messages"][0] == {"role": "system", "content": "sys"}


def test_output_config_format_effort_and_one_call_at_a_time() -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    native = _native(
        output_config={"format": {"type": "json_schema", "schema": schema}},
        tools=[_TOOL],
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
    )
    assert native["format"] == schema and native["parallel_tool_calls"] is False
    assert _native(tools=[_TOOL])["parallel_tool_calls"] is True

    def think(**body: Any) -> bool | str | None:
        body |= {"model": "m", "max_tokens": 1, "messages": []}
        return compat.think(MessagesRequest.model_validate(body))

    assert think() is None and think(thinking={"type": "adaptive"}) is True
    assert think(output_config={"effort": "low"}) == "low"
    assert think(output_config={"effort": "xhigh"}, thinking={"type": "enabled"}) == "max"
    assert think(output_config={"effort": "high"}, thinking={"type": "disabled"}) is False


def test_a_container_is_refused_and_harmless_fields_accepted() -> None:
    with pytest.raises(ValidationError) as refused:
        MessagesRequest.model_validate({"container": "cntr_1"})
    assert refused.value.errors()[0]["type"] == "refused"
    harmless = {"cache_control": {"type": "ephemeral"}, "service_tier": "auto", "speed": "fast"}
    assert _native(**harmless, inference_geo="us", metadata={"user_id": "u"})["messages"]


def test_tool_use_and_tool_result_blocks() -> None:
    native = _native(
        tools=[_TOOL, {"type": "web_search_20250305", "name": "web_search"}],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Let me check."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "sunny"}],
                    }
                ],
            },
        ],
    )
    assert native["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
                }
            ],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": "toolu_1", "tool_name": "get_weather"},
    ]
    assert native["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": _TOOL["input_schema"],
            },
        }
    ]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"messages": []}, "messages is required"),
        ({"model": ""}, "model is required"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image", "source": {"type": "url", "url": "http://x"}}
                        ],
                    }
                ]
            },
            "Only base64 images are supported",
        ),
    ],
)
def test_invalid_requests(body: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidRequest, match=error):
        _native(**body)


async def test_response_text_and_usage() -> None:
    reply = await compat.messages_response(native_stream(["Hel", "lo"], done_reason="length"), "m")
    body = reply.wire()
    assert body["id"].startswith("msg_") and len(body["id"]) == 28
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["content"] == [{"type": "text", "text": "Hello"}]
    assert body["stop_reason"] == "max_tokens" and body["stop_sequence"] is None
    assert body["usage"] == {"input_tokens": 5, "output_tokens": 2}


async def test_a_stop_sequence_hit_is_reported() -> None:
    stream = native_stream(["1, 2, 3, "], stop_sequence="4", prompt_tokens=40)
    body = (await compat.messages_response(stream, "m")).wire()
    assert (body["stop_reason"], body["stop_sequence"]) == ("stop_sequence", "4")
    assert body["usage"] == {"input_tokens": 40, "output_tokens": 1}  # the whole prompt
    events = dict(await _events(native_stream(["x"], stop_sequence="4")))
    assert events["message_delta"]["delta"] == {
        "stop_reason": "stop_sequence",
        "stop_sequence": "4",
    }


async def test_response_tool_use() -> None:
    call = {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    reply = await compat.messages_response(native_stream([""], tool_calls=[call]), "m")
    assert reply.stop_reason == "tool_use"
    (block,) = reply.wire()["content"]
    assert block["type"] == "tool_use" and block["id"].startswith("call_")
    assert block["name"] == "get_weather" and block["input"] == {"city": "Paris"}


async def test_an_answer_with_no_text_has_one_empty_text_block_streamed_or_not() -> None:
    whole = await compat.messages_response(native_stream([""]), "m")
    assert whole.wire()["content"] == [{"type": "text", "text": ""}]
    events = await _events(native_stream([""]))
    blocks = [(name, p.get("content_block")) for name, p in events if "content_block" in name]
    assert blocks == [
        ("content_block_start", {"type": "text", "text": ""}),
        ("content_block_stop", None),
    ]


async def test_stream_event_order() -> None:
    call = {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    stream = native_stream(["a", "b"], tool_calls=[call], thinking="hmm")
    events = await _events(stream)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",  # thinking
        "content_block_delta",
        "content_block_stop",
        "content_block_start",  # text
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",  # tool_use
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    deltas = [p["delta"] for n, p in events if n == "content_block_delta"]
    assert deltas[0] == {"type": "thinking_delta", "thinking": "hmm"}
    assert deltas[1] == {"type": "text_delta", "text": "a"}
    assert deltas[3] == {"type": "input_json_delta", "partial_json": '{"city": "Paris"}'}
    assert [p["index"] for n, p in events if n == "content_block_start"] == [0, 1, 2]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert events[-2][1]["usage"] == {"input_tokens": 5, "output_tokens": 2}


# --- against a live server -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("anthropic-models")
    create_model(root, "tiny", tiny_gguf)
    with app_server(root) as url:
        yield url


def _client(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="x", max_retries=0)


def test_sdk_create(tiny_server: str) -> None:
    message = _client(tiny_server).messages.create(
        model="tiny",
        max_tokens=4,
        system="You are terse.",
        messages=[{"role": "user", "content": "Hello"}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.content[0].type == "text"
    # Random weights may draw EOS early, so "end_turn" is as good as "max_tokens" here.
    assert message.stop_reason in ("max_tokens", "end_turn")
    assert message.usage.input_tokens > 0 and 0 < message.usage.output_tokens <= 4


def test_sdk_stream(tiny_server: str) -> None:
    with _client(tiny_server).messages.stream(
        model="tiny", max_tokens=4, messages=[{"role": "user", "content": "Hello"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert final.content[0].type == "text" and final.content[0].text == text
    assert final.stop_reason in ("max_tokens", "end_turn")
    assert 0 < final.usage.output_tokens <= 4


def test_raw_stream_is_named_sse(tiny_server: str) -> None:
    # Greedy and 8 tokens long, so the answer has text: two sampled byte tokens can be half a
    # UTF-8 character, which decodes to nothing and opens no content block.
    body = {
        "model": "tiny",
        "max_tokens": 8,
        "temperature": 0,
        "stream": True,
        "messages": [{"role": "user", "content": "x"}],
    }
    with httpx.stream("POST", tiny_server + "/v1/messages", json=body, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [
            line.removeprefix("event: ")
            for line in response.iter_lines()
            if line.startswith("event:")
        ]
    assert events[:3] == ["message_start", "ping", "content_block_start"]
    assert events[-2:] == ["message_delta", "message_stop"]


def test_errors_in_anthropic_shape(tiny_server: str) -> None:
    response = httpx.post(
        tiny_server + "/v1/messages",
        json={"model": "nope", "max_tokens": 4, "messages": [{"role": "user", "content": "x"}]},
    )
    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert "not found" in body["error"]["message"]
    assert body["request_id"].startswith("req_")
    with pytest.raises(anthropic.BadRequestError):
        _client(tiny_server).messages.create(model="tiny", max_tokens=4, messages=[])


@pytest.mark.starter
def test_sdk_on_starter(starter_ggufs: dict[str, Path], tmp_path: Path) -> None:
    create_model(tmp_path, "qwen2.5-coder:0.5b", starter_ggufs["qwen2.5-coder:0.5b"])
    with app_server(tmp_path) as url:
        message = _client(url).messages.create(
            model="qwen2.5-coder:0.5b",
            max_tokens=8,
            # anthropic 2.x dropped `temperature` from its signature; the API still takes it.
            extra_body={"temperature": 0},
            messages=[{"role": "user", "content": "Reply with the single word: yes"}],
        )
        counted = _client(url).messages.create(
            model="qwen2.5-coder:0.5b",
            max_tokens=40,
            stop_sequences=["4"],
            extra_body={"temperature": 0},
            messages=[{"role": "user", "content": "Count from 1 to 10, separated by commas."}],
        )
    assert "yes" in message.content[0].text.lower()  # type: ignore[union-attr]
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert (counted.stop_reason, counted.stop_sequence) == ("stop_sequence", "4")
    assert "3" in counted.content[0].text and "4" not in counted.content[0].text  # type: ignore[union-attr]
