"""OpenAI requests → native requests (Ollama's `FromChatRequest`, `FromCompleteRequest`).

`ChatCompletionRequest` becomes a native `ChatRequest` and `CompletionRequest` a native
`GenerateRequest`, as Ollama's middleware translates them, so every check and default
after this is the native one.
"""

from __future__ import annotations

import json
from typing import Any

from pollama.api.schemas import generate as native
from pollama.api.schemas.openai import (
    ChatCompletionRequest,
    CompletionRequest,
    ContentPart,
    ImageUrl,
    Message,
    ToolCall,
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


def sampling(
    req: ChatCompletionRequest | CompletionRequest, max_tokens: int | None
) -> native.Options:
    """The native `options` for an OpenAI request.

    OpenAI's defaults for `temperature` and `top_p` are 1.0, not Ollama's, so they are always
    set; the rest only when sent, leaving the Modelfile's PARAMETERs in force otherwise.
    """
    if req.n is not None and req.n > 1:
        raise InvalidRequest("n > 1 is not supported: pollama generates one choice per request")
    return native.Options(
        temperature=1.0 if req.temperature is None else req.temperature,
        top_p=1.0 if req.top_p is None else req.top_p,
        num_predict=max_tokens,
        seed=req.seed,
        frequency_penalty=req.frequency_penalty,
        presence_penalty=req.presence_penalty,
        stop=[req.stop] if isinstance(req.stop, str) else req.stop,
    )


def chat_request(req: ChatCompletionRequest) -> native.ChatRequest:
    """The native chat request (Ollama's `FromChatRequest`), always streamed internally."""
    if not req.messages:
        raise InvalidRequest("[] is too short - 'messages'")
    return native.ChatRequest(
        model=req.model,
        messages=_messages(req.messages),
        stream=True,
        options=sampling(req, req.max_tokens or req.max_completion_tokens).as_map(),
        tools=req.tools or None,
        tool_choice=req.tool_choice,
        format=_format(req),
        think=effort_think(
            req.reasoning_effort or (req.reasoning.effort if req.reasoning else None)
        ),
        logprobs=req.logprobs,
        top_logprobs=req.top_logprobs,
        parallel_tool_calls=req.parallel_tool_calls,
    )


def completion_request(req: CompletionRequest) -> native.GenerateRequest:
    """The native generate request for a legacy completion (Ollama's `FromCompleteRequest`)."""
    return native.GenerateRequest(
        model=req.model,
        prompt=req.prompt,
        suffix=req.suffix or None,
        stream=True,
        options=sampling(req, req.max_tokens).as_map(),
        logprobs=req.logprobs is not None or None,
        top_logprobs=req.logprobs,
    )


def effort_think(effort: str | None) -> bool | str | None:
    """A reasoning effort as native `think` (Ollama's table); None when none was sent."""
    if effort is None:
        return None
    if effort not in _EFFORTS:
        raise InvalidRequest(f'invalid reasoning value: "{effort}"')
    return _EFFORTS[effort]


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


def _messages(messages: list[Message]) -> list[native.Message]:
    """OpenAI messages as native ones; tool results get the tool's name from its call id."""
    names = {c.id: c.function.name for m in messages for c in (m.tool_calls or []) if c.id}
    return [_message(msg, names) for msg in messages]


def _message(msg: Message, names: dict[str, str]) -> native.Message:
    role = msg.role.lower()
    text, images = _content(msg)
    is_tool = role == "tool"
    return native.Message(
        role="system" if role == "developer" else role,
        content=text,
        images=images or None,
        thinking=msg.reasoning or None,
        tool_calls=[_native_call(c) for c in msg.tool_calls] if msg.tool_calls else None,
        tool_name=(msg.name or names.get(msg.tool_call_id or "") or None) if is_tool else None,
        tool_call_id=(msg.tool_call_id or None) if is_tool else None,
    )


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
        if part.type == "text" and isinstance(part.text, str):
            texts.append(part.text)
        elif part.type == "image_url":
            images.append(_image(part))
        else:
            raise InvalidRequest("invalid message format")
    return "\n".join(texts), images


def _image(part: ContentPart) -> str:
    return image_data(
        part.image_url.url if isinstance(part.image_url, ImageUrl) else part.image_url
    )


def image_data(url: object) -> str:
    """The base64 data of an image given as a `data:` URL (as Ollama, no fetched URLs)."""
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


def _native_call(call: ToolCall) -> native.ToolCall:
    try:
        arguments = json.loads(call.function.arguments or "{}")
    except json.JSONDecodeError:
        raise InvalidRequest("invalid tool call arguments") from None
    if not isinstance(arguments, dict):
        raise InvalidRequest("invalid tool call arguments")
    function = native.ToolCallFunction(name=call.function.name, arguments=arguments)
    return native.ToolCall(id=call.id or None, function=function)
