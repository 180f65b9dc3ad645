"""OpenAI ⇄ native translation (Ollama's `openai/openai.go` and `middleware/openai.go`).

Requests: `ChatCompletionRequest` → native chat request dict, `CompletionRequest` → native
generate request dict. Replies: native chunk dicts → `ChatCompletion`/`ChatCompletionChunk`,
`Completion`. The native dicts use Ollama's JSON keys, so they validate into the native
request models whatever their Python field names.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from typing import Any

from pollama.api.compat.native import Reply, collect, text_of, thinking_of, tool_calls_of
from pollama.api.schemas.openai import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Completion,
    CompletionChoice,
    CompletionRequest,
    Delta,
    FunctionCall,
    Message,
    ResponseMessage,
    ToolCall,
    Usage,
)
from pollama.errors import InvalidRequest

# OpenAI's reasoning efforts onto Ollama's `think` values (Ollama's table).
_EFFORTS: dict[str, bool | str] = {
    "none": False,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "max": "max",
    "xhigh": "max",
    "ultra": "max",
}
# `data:;base64,` is allowed too, to match /api/chat taking bare base64.
_IMAGE_PREFIXES = (
    *(f"data:image/{t};base64," for t in ("jpeg", "jpg", "png", "webp")),
    "data:;base64,",
)


def new_id(prefix: str) -> str:
    """`chatcmpl-NNN` / `cmpl-NNN`: Ollama's short random ids."""
    return f"{prefix}-{random.randrange(999)}"


def sampling(
    req: ChatCompletionRequest | CompletionRequest, max_tokens: int | None
) -> dict[str, Any]:
    """The native `options` for an OpenAI request.

    OpenAI's defaults for `temperature` and `top_p` are 1.0, not Ollama's, so they are always
    set; the rest only when sent, leaving the Modelfile's PARAMETERs in force otherwise.
    """
    if req.n is not None and req.n > 1:
        raise InvalidRequest("n > 1 is not supported: pollama generates one choice per request")
    options: dict[str, Any] = {
        "temperature": 1.0 if req.temperature is None else req.temperature,
        "top_p": 1.0 if req.top_p is None else req.top_p,
    }
    sent = {
        "num_predict": max_tokens,
        "seed": req.seed,
        "frequency_penalty": req.frequency_penalty,
        "presence_penalty": req.presence_penalty,
        "stop": [req.stop] if isinstance(req.stop, str) else req.stop,
    }
    options.update({k: v for k, v in sent.items() if v is not None})
    return options


def chat_request(req: ChatCompletionRequest) -> dict[str, Any]:
    """The native chat request (Ollama's `FromChatRequest`), always streamed internally."""
    if not req.messages:
        raise InvalidRequest("[] is too short - 'messages'")
    native: dict[str, Any] = {
        "model": req.model,
        "messages": _messages(req.messages),
        "stream": True,
        "options": sampling(req, req.max_tokens or req.max_completion_tokens),
    }
    if req.tools:
        native["tools"] = req.tools
    fmt = _format(req)
    if fmt is not None:
        native["format"] = fmt
    effort = req.reasoning_effort or (req.reasoning.effort if req.reasoning else None)
    if effort is not None:
        if effort not in _EFFORTS:
            raise InvalidRequest(f'invalid reasoning value: "{effort}"')
        native["think"] = _EFFORTS[effort]
    return native


def completion_request(req: CompletionRequest) -> dict[str, Any]:
    """The native generate request for a legacy completion (Ollama's `FromCompleteRequest`)."""
    native: dict[str, Any] = {
        "model": req.model,
        "prompt": req.prompt,
        "stream": True,
        "options": sampling(req, req.max_tokens),
    }
    if req.suffix:
        native["suffix"] = req.suffix
    return native


def _format(req: ChatCompletionRequest) -> str | dict[str, Any] | None:
    """`response_format` as native `format`: "json", a JSON schema, or none. As Ollama, the
    type is read case- and space-insensitively, and anything else (or a json_schema without
    a schema) asks for no format rather than failing."""
    rf = req.response_format
    kind = (rf.type or "").strip().lower() if rf else ""
    if kind == "json_object":
        return "json"
    if kind == "json_schema" and rf and rf.json_schema and rf.json_schema.schema_ is not None:
        return rf.json_schema.schema_
    return None


def _messages(messages: list[Message]) -> list[dict[str, Any]]:
    """OpenAI messages as native ones; tool results get the tool's name from its call id."""
    names = {c.id: c.function.name for m in messages for c in (m.tool_calls or []) if c.id}
    out = []
    for msg in messages:
        role = msg.role.lower()
        native: dict[str, Any] = {"role": "system" if role == "developer" else role}
        text, images = _content(msg)
        native["content"] = text
        if images:
            native["images"] = images
        if msg.reasoning:
            native["thinking"] = msg.reasoning
        if msg.tool_calls:
            native["tool_calls"] = [_native_call(c) for c in msg.tool_calls]
        if role == "tool":
            name = msg.name or names.get(msg.tool_call_id or "")
            if name:
                native["tool_name"] = name
            if msg.tool_call_id:
                native["tool_call_id"] = msg.tool_call_id
        out.append(native)
    return out


def _content(msg: Message) -> tuple[str, list[str]]:
    """The text and base64 images of a message whose content is a string or a list of parts."""
    if msg.content is None:
        if not msg.tool_calls:
            raise InvalidRequest("invalid message content type: <nil>")
        return "", []
    if isinstance(msg.content, str):
        return msg.content, []
    texts, images = [], []
    for part in msg.content:
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            images.append(_image(part.get("image_url")))
        else:
            raise InvalidRequest("invalid message format")
    return "\n".join(texts), images


def _image(value: Any) -> str:
    url = value.get("url") if isinstance(value, dict) else value
    if not isinstance(url, str):
        raise InvalidRequest("invalid message format")
    if url.startswith(("http://", "https://")):
        raise InvalidRequest(
            "image URLs are not currently supported, please use base64 encoded data instead"
        )
    for prefix in _IMAGE_PREFIXES:
        if url.startswith(prefix):
            return url.removeprefix(prefix)
    raise InvalidRequest("invalid image input")


def _native_call(call: ToolCall) -> dict[str, Any]:
    try:
        arguments = json.loads(call.function.arguments or "{}")
    except json.JSONDecodeError:
        raise InvalidRequest("invalid tool call arguments") from None
    native: dict[str, Any] = {"function": {"name": call.function.name, "arguments": arguments}}
    if call.id:
        native["id"] = call.id
    return native


def openai_tool_calls(calls: list[dict[str, Any]]) -> list[ToolCall]:
    """Native tool calls in OpenAI's shape: `arguments` as a JSON string, `type: function`."""
    return [
        ToolCall(
            id=c["id"],
            index=c["function"].get("index", i),
            function=FunctionCall(
                name=c["function"]["name"],
                arguments=json.dumps(c["function"].get("arguments") or {}, ensure_ascii=False),
            ),
        )
        for i, c in enumerate(calls)
    ]


def usage(reply: Reply) -> Usage:
    return Usage(
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        total_tokens=reply.prompt_tokens + reply.completion_tokens,
    )


def finish_reason(done_reason: str | None, tool_calls: bool) -> str | None:
    """OpenAI's `finish_reason`: "tool_calls" whenever the model called a tool."""
    if tool_calls:
        return "tool_calls"
    return done_reason or None


async def chat_completion(chunks: AsyncIterator[dict[str, Any]], model: str) -> ChatCompletion:
    """A whole `ChatCompletion` from a native chat stream (`stream: false`)."""
    reply = await collect(chunks)
    message = ResponseMessage(
        content=reply.text,
        reasoning=reply.thinking or None,
        tool_calls=openai_tool_calls(reply.tool_calls) or None,
    )
    return ChatCompletion(
        id=new_id("chatcmpl"),
        created=int(time.time()),
        model=model,
        choices=[
            Choice(
                message=message,
                finish_reason=finish_reason(reply.done_reason, bool(reply.tool_calls)),
            )
        ],
        usage=usage(reply),
    )


async def chat_chunks(
    chunks: AsyncIterator[dict[str, Any]], model: str, include_usage: bool
) -> AsyncIterator[ChatCompletionChunk]:
    """`ChatCompletionChunk`s from a native chat stream (Ollama's `ToChunk` and the middleware).

    The role goes in the first delta; thinking and content travel in separate deltas; the
    native final chunk becomes a finish chunk with an empty delta, then, if asked, a usage
    chunk with no choices.
    """
    cid, created = new_id("chatcmpl"), int(time.time())
    reply = Reply()

    def chunk(delta: Delta, finish: str | None = None) -> ChatCompletionChunk:
        choice = ChunkChoice(delta=delta, finish_reason=finish)
        return ChatCompletionChunk(id=cid, created=created, model=model, choices=[choice])

    first = True
    async for native in chunks:
        reply.add(native)
        calls = openai_tool_calls(tool_calls_of(native))
        thinking, text = thinking_of(native), text_of(native)
        role = "assistant" if first else None
        if thinking:
            yield chunk(Delta(role=role, reasoning=thinking))
            role = None
        if text or calls or role:
            yield chunk(Delta(role=role, content=text, tool_calls=calls or None))
        first = False
    yield chunk(Delta(), finish_reason(reply.done_reason, bool(reply.tool_calls)))
    if include_usage:
        yield ChatCompletionChunk(
            id=cid, created=created, model=model, choices=[], usage=usage(reply)
        )


async def completion(chunks: AsyncIterator[dict[str, Any]], model: str) -> Completion:
    """A whole `Completion` from a native generate stream (`stream: false`)."""
    reply = await collect(chunks)
    choice = CompletionChoice(text=reply.text, finish_reason=reply.done_reason or None)
    return Completion(
        id=new_id("cmpl"),
        created=int(time.time()),
        model=model,
        choices=[choice],
        usage=usage(reply),
    )


async def completion_chunks(
    chunks: AsyncIterator[dict[str, Any]], model: str, include_usage: bool
) -> AsyncIterator[Completion]:
    """Streamed `text_completion` objects carrying text deltas, then the finish and usage."""
    cid, created = new_id("cmpl"), int(time.time())
    reply = Reply()
    async for native in chunks:
        reply.add(native)
        text = text_of(native)
        if text or native.get("done"):
            finish = reply.done_reason if native.get("done") else None
            choice = CompletionChoice(text=text, finish_reason=finish)
            yield Completion(id=cid, created=created, model=model, choices=[choice])
    if include_usage:
        yield Completion(id=cid, created=created, model=model, choices=[], usage=usage(reply))
