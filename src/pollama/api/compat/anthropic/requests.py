"""Anthropic Messages requests → native chat requests (Ollama's `anthropic.FromMessagesRequest`).

Tool results become `tool` messages of their own; client tools become native function tools
(server tools such as web search are left out); thinking is asked for, never forced.
"""

from __future__ import annotations

from pollama.api.compat.openai.requests import effort_think
from pollama.api.schemas import generate as native
from pollama.api.schemas.anthropic import ContentBlock, MessageParam, MessagesRequest, ToolChoice
from pollama.errors import InvalidRequest


def think(req: MessagesRequest) -> bool | str | None:
    """The native `think` a Messages request asks for; the pipeline drops it on a model that
    cannot think (`optional_think`), as Ollama does, rather than failing the request. An
    `output_config.effort` is the level of the thinking asked for (or left to the model)."""
    if req.thinking is not None and req.thinking.type not in ("enabled", "adaptive"):
        return False
    effort = req.output_config.effort if req.output_config else None
    if effort is not None:
        return effort_think(effort)
    return None if req.thinking is None else True


def chat_request(req: MessagesRequest, *, think: bool | str | None) -> native.ChatRequest:
    """The native chat request for a Messages request, always streamed internally."""
    if not req.model:
        raise InvalidRequest("model is required")
    if req.max_tokens <= 0:
        raise InvalidRequest("max_tokens is required and must be greater than 0")
    if not req.messages:
        raise InvalidRequest("messages is required")
    options = native.Options(
        num_predict=req.max_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        top_k=req.top_k,
        stop=req.stop_sequences,
    )
    tools = [
        native.Tool(
            type="function",
            function=native.ToolFunction(
                name=t.name, description=t.description or "", parameters=t.input_schema
            ),
        )
        for t in req.tools or []
        if t.type in (None, "custom")
    ]
    return native.ChatRequest(
        model=req.model,
        messages=_system(req.system) + _messages(req.messages),
        stream=True,
        options=options.as_map(),
        tools=tools or None,
        tool_choice=_tool_choice(req.tool_choice),
        parallel_tool_calls=not (req.tool_choice and req.tool_choice.disable_parallel_tool_use),
        format=fmt.schema_ if (fmt := req.output_config and req.output_config.format) else None,
        think=think,
    )


def _tool_choice(choice: ToolChoice | None) -> native.ToolChoice | None:
    """Anthropic's tool choice in the native (OpenAI) shape: `any` is "required"."""
    if choice is None or choice.type == "auto":
        return None
    if choice.type == "tool":
        if not choice.name:
            raise InvalidRequest("tool_choice of type tool needs the tool's name")
        return native.NamedTool(function=native.NamedToolFunction(name=choice.name))
    return "required" if choice.type == "any" else "none"


def _system(system: str | list[ContentBlock] | None) -> list[native.Message]:
    if not system:
        return []
    text = system if isinstance(system, str) else "\n".join(_texts(system))
    return [native.Message(role="system", content=text)]


def _texts(blocks: list[ContentBlock]) -> list[str]:
    return [b.text for b in blocks if b.type == "text"]


def _messages(messages: list[MessageParam]) -> list[native.Message]:
    """Anthropic turns as native messages: tool results become `tool` messages of their own."""
    names = {
        b.id: b.name
        for m in messages
        if isinstance(m.content, list)
        for b in m.content
        if b.type == "tool_use"
    }
    out: list[native.Message] = []
    for msg in messages:
        if isinstance(msg.content, str):
            out.append(native.Message(role=msg.role, content=msg.content))
            continue
        out.extend(_tool_results(msg.content, names))
        turn = _turn(msg.role, msg.content)
        if turn.content or turn.images or turn.tool_calls or turn.thinking:
            out.append(turn)
    return out


def _turn(role: str, blocks: list[ContentBlock]) -> native.Message:
    """One native message from a turn's text, image, thinking and tool_use blocks."""
    calls = [
        native.ToolCall(
            id=b.id, function=native.ToolCallFunction(name=b.name or "", arguments=b.input or {})
        )
        for b in blocks
        if b.type == "tool_use"
    ]
    return native.Message(
        role=role,
        content="\n".join(_texts(blocks)),
        images=[_image(b) for b in blocks if b.type == "image"] or None,
        thinking="".join(b.thinking for b in blocks if b.type == "thinking") or None,
        tool_calls=calls or None,
    )


def _tool_results(
    blocks: list[ContentBlock], names: dict[str | None, str | None]
) -> list[native.Message]:
    results = []
    for b in blocks:
        if b.type != "tool_result":
            continue
        content = b.content or ""
        text = content if isinstance(content, str) else "\n".join(_texts(content))
        call_id = b.tool_use_id or None
        results.append(
            native.Message(
                role="tool",
                content=text,
                tool_call_id=call_id,
                tool_name=names.get(call_id) if call_id else None,
            )
        )
    return results


def _image(block: ContentBlock) -> str:
    kind = block.source.type if block.source else None
    if block.source is None or kind != "base64":
        raise InvalidRequest(
            f"invalid image source type: {kind}. Only base64 images are supported."
        )
    return block.source.data
