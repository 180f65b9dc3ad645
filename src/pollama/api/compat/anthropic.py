"""Anthropic ⇄ native translation (Ollama's `anthropic/anthropic.go`).

`MessagesRequest` → native chat request dict; native chunk dicts → a `MessagesResponse` or
the named stream events (`message_start`, `content_block_*`, `message_delta`,
`message_stop`) in the order the Anthropic SDKs accumulate.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

from pollama.api.compat.native import (
    Reply,
    collect,
    prompt_tokens_of,
    text_of,
    thinking_of,
    tool_calls_of,
)
from pollama.api.schemas.anthropic import Block, MessageParam, MessagesRequest, MessagesResponse
from pollama.api.schemas.anthropic import Usage as AnthropicUsage
from pollama.errors import InvalidRequest

Event = tuple[str, dict[str, Any]]


def message_id() -> str:
    """`msg_` and 24 hex digits, as Ollama makes them."""
    return "msg_" + secrets.token_hex(12)


def chat_request(req: MessagesRequest, *, think: bool | None) -> dict[str, Any]:
    """The native chat request for a Messages request, always streamed internally.

    `think` is decided by the caller, who knows whether the model can think (Ollama drops a
    thinking request on a model that cannot, rather than failing it).
    """
    if not req.model:
        raise InvalidRequest("model is required")
    if req.max_tokens <= 0:
        raise InvalidRequest("max_tokens is required and must be greater than 0")
    if not req.messages:
        raise InvalidRequest("messages is required")
    options: dict[str, Any] = {"num_predict": req.max_tokens}
    sent = {
        "temperature": req.temperature,
        "top_p": req.top_p,
        "top_k": req.top_k,
        "stop": req.stop_sequences,
    }
    options.update({k: v for k, v in sent.items() if v is not None})
    native: dict[str, Any] = {
        "model": req.model,
        "messages": _system(req.system) + _messages(req.messages),
        "stream": True,
        "options": options,
    }
    tools = [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description or "",
                "parameters": t.input_schema,
            },
        }
        for t in req.tools or []
        if t.type in (None, "custom")
    ]
    if tools:
        native["tools"] = tools
    if think is not None:
        native["think"] = think
    return native


def _system(system: str | list[Block] | None) -> list[dict[str, Any]]:
    if not system:
        return []
    text = system if isinstance(system, str) else "\n".join(_texts(system))
    return [{"role": "system", "content": text}]


def _texts(blocks: list[Block]) -> list[str]:
    return [str(b.get("text", "")) for b in blocks if b.get("type") == "text"]


def _messages(messages: list[MessageParam]) -> list[dict[str, Any]]:
    """Anthropic turns as native messages: tool results become `tool` messages of their own."""
    names = {
        b.get("id"): b.get("name")
        for m in messages
        if isinstance(m.content, list)
        for b in m.content
        if b.get("type") == "tool_use"
    }
    out: list[dict[str, Any]] = []
    for msg in messages:
        if isinstance(msg.content, str):
            out.append({"role": msg.role, "content": msg.content})
            continue
        out.extend(_tool_results(msg.content, names))
        native = _turn(msg.role, msg.content)
        if (
            native["content"]
            or "images" in native
            or "tool_calls" in native
            or "thinking" in native
        ):
            out.append(native)
    return out


def _turn(role: str, blocks: list[Block]) -> dict[str, Any]:
    """One native message from a turn's text, image, thinking and tool_use blocks."""
    native: dict[str, Any] = {"role": role, "content": "\n".join(_texts(blocks))}
    images = [_image(b) for b in blocks if b.get("type") == "image"]
    if images:
        native["images"] = images
    thinking = "".join(str(b.get("thinking", "")) for b in blocks if b.get("type") == "thinking")
    if thinking:
        native["thinking"] = thinking
    calls = [
        {"id": b.get("id"), "function": {"name": b.get("name"), "arguments": b.get("input") or {}}}
        for b in blocks
        if b.get("type") == "tool_use"
    ]
    if calls:
        native["tool_calls"] = calls
    return native


def _tool_results(blocks: list[Block], names: dict[Any, Any]) -> list[dict[str, Any]]:
    results = []
    for b in blocks:
        if b.get("type") != "tool_result":
            continue
        content = b.get("content", "")
        text = content if isinstance(content, str) else "\n".join(_texts(content or []))
        result: dict[str, Any] = {"role": "tool", "content": text}
        call_id = b.get("tool_use_id")
        if call_id:
            result["tool_call_id"] = call_id
            if names.get(call_id):
                result["tool_name"] = names[call_id]
        results.append(result)
    return results


def _image(block: Block) -> str:
    source = block.get("source") or {}
    if source.get("type") != "base64":
        raise InvalidRequest(
            f"invalid image source type: {source.get('type')}. Only base64 images are supported."
        )
    return str(source.get("data", ""))


def stop_reason(reply: Reply) -> str:
    """Anthropic's `stop_reason` for a finished native reply."""
    if reply.tool_calls:
        return "tool_use"
    if reply.stop_sequence:
        return "stop_sequence"
    return "max_tokens" if reply.done_reason == "length" else "end_turn"


def _tool_use(call: dict[str, Any]) -> Block:
    fn = call["function"]
    return {
        "type": "tool_use",
        "id": call["id"],
        "name": fn["name"],
        "input": fn.get("arguments") or {},
    }


async def messages_response(chunks: AsyncIterator[dict[str, Any]], model: str) -> MessagesResponse:
    """A whole Messages reply from a native chat stream (`stream: false`)."""
    reply = await collect(chunks)
    content: list[Block] = []
    if reply.thinking:
        content.append({"type": "thinking", "thinking": reply.thinking, "signature": ""})
    if reply.text or _wants_empty_text(reply):
        content.append({"type": "text", "text": reply.text})
    content.extend(_tool_use(c) for c in reply.tool_calls)
    return MessagesResponse(
        id=message_id(),
        model=model,
        content=content,
        stop_reason=stop_reason(reply),  # type: ignore[arg-type]
        stop_sequence=reply.stop_sequence,
        usage=AnthropicUsage(
            input_tokens=reply.prompt_tokens, output_tokens=reply.completion_tokens
        ),
    )


def _wants_empty_text(reply: Reply) -> bool:
    """An answer of no text and no calls still has its (empty) text block, streamed or not:
    clients read `content[0]`, and two byte tokens can be half a character, which is no text."""
    return not reply.text and not reply.tool_calls


class _Blocks:
    """The stream's open content block: starting one closes the one before."""

    def __init__(self) -> None:
        self.index = -1
        self.open: str | None = None

    def start(self, kind: str, block: Block) -> list[Event]:
        events = self.stop()
        self.index += 1
        self.open = kind
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": self.index, "content_block": block},
            )
        )
        return events

    def delta(self, delta: dict[str, Any]) -> Event:
        return (
            "content_block_delta",
            {"type": "content_block_delta", "index": self.index, "delta": delta},
        )

    def stop(self) -> list[Event]:
        if self.open is None:
            return []
        self.open = None
        return [("content_block_stop", {"type": "content_block_stop", "index": self.index})]


def _chunk_events(blocks: _Blocks, native: dict[str, Any]) -> list[Event]:
    """The block events for one native chunk: thinking, then text, then whole tool calls."""
    events: list[Event] = []
    thinking, text = thinking_of(native), text_of(native)
    if thinking:
        if blocks.open != "thinking":
            events += blocks.start(
                "thinking", {"type": "thinking", "thinking": "", "signature": ""}
            )
        events.append(blocks.delta({"type": "thinking_delta", "thinking": thinking}))
    if text:
        if blocks.open != "text":
            events += blocks.start("text", {"type": "text", "text": ""})
        events.append(blocks.delta({"type": "text_delta", "text": text}))
    for call in tool_calls_of(native):
        events += blocks.start("tool_use", {**_tool_use(call), "input": {}})
        partial = json.dumps(call["function"].get("arguments") or {}, ensure_ascii=False)
        events.append(blocks.delta({"type": "input_json_delta", "partial_json": partial}))
        events += blocks.stop()
    return events


async def stream_events(chunks: AsyncIterator[dict[str, Any]], model: str) -> AsyncIterator[Event]:
    """Named stream events from a native chat stream.

    `message_start` waits for the first native chunk, so an error in loading the model is
    still answered with its real status rather than inside a begun stream.
    """
    reply, blocks, started = Reply(), _Blocks(), False
    async for native in chunks:
        if not started:
            usage = AnthropicUsage(input_tokens=prompt_tokens_of(native))
            start = MessagesResponse(id=message_id(), model=model, content=[], usage=usage)
            yield "message_start", {"type": "message_start", "message": start.wire()}
            yield "ping", {"type": "ping"}
            started = True
        reply.add(native)
        for event in _chunk_events(blocks, native):
            yield event
    if _wants_empty_text(reply):
        for event in blocks.start("text", {"type": "text", "text": ""}):
            yield event
    for event in blocks.stop():
        yield event
    usage = {"input_tokens": reply.prompt_tokens, "output_tokens": reply.completion_tokens}
    delta = {"stop_reason": stop_reason(reply), "stop_sequence": reply.stop_sequence}
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
    yield "message_stop", {"type": "message_stop"}
