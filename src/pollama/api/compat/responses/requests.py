"""Responses API requests → native chat requests, with the conversation they continue.

Input items become native messages: a message item is a message (`developer` a system one);
consecutive `function_call` items become one assistant message with its calls (and the
thinking of a `reasoning` item just before); a `function_call_output` is a tool message,
named after its call. `instructions` are the system message, of this request only (as in
OpenAI's API, a follow-up does not inherit them). `truncation` "disabled", OpenAI's default,
refuses a conversation longer than the context (the native `truncate: false`).
"""

from __future__ import annotations

import json

from pollama.api.compat.openai.requests import effort_think, image_data
from pollama.api.pipeline import events as ev
from pollama.api.schemas import generate as native
from pollama.api.schemas.responses import (
    ContentPart,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputImage,
    InputText,
    MessageItem,
    NamedFunction,
    ReasoningItem,
    ResponsesRequest,
    TextConfig,
)
from pollama.errors import InvalidRequest

Conversation = tuple[native.Message, ...]


def conversation(req: ResponsesRequest, earlier: Conversation) -> Conversation:
    """The conversation so far: what `previous_response_id` ended, then this input."""
    items = (
        [MessageItem(role="user", content=req.input)] if isinstance(req.input, str) else req.input
    )
    out = list(earlier)
    thinking = ""
    for item in items:
        if isinstance(item, ReasoningItem):
            thinking += "".join(s.text for s in item.summary)
        elif isinstance(item, FunctionCallItem):
            _add_call(out, item, thinking)
            thinking = ""
        elif isinstance(item, FunctionCallOutputItem):
            out.append(_tool_result(item, out))
        else:
            out.append(_message(item, thinking))
            thinking = ""
    return tuple(out)


def chat_request(req: ResponsesRequest, messages: Conversation) -> native.ChatRequest:
    """The native chat request for `req` over `messages` (always streamed internally)."""
    if not req.model:
        raise InvalidRequest("model is required")
    system = [native.Message(role="system", content=req.instructions)] if req.instructions else []
    options = native.Options(
        temperature=1.0 if req.temperature is None else req.temperature,
        top_p=1.0 if req.top_p is None else req.top_p,
        num_predict=req.max_output_tokens,
    )
    tools = [
        native.Tool(
            function=native.ToolFunction(
                name=t.name, description=t.description, parameters=t.parameters or {}
            )
        )
        for t in req.tools or ()
    ]
    return native.ChatRequest(
        model=req.model,
        messages=[*system, *messages],
        stream=True,
        options=options.as_map(),
        tools=tools or None,
        tool_choice=_tool_choice(req),
        format=_format(req.text),
        think=effort_think(req.reasoning.effort if req.reasoning else None),
        logprobs=req.wants_logprobs or None,
        top_logprobs=req.top_logprobs,
        parallel_tool_calls=req.parallel_tool_calls,
        truncate=req.truncation == "auto",
    )


def _tool_choice(req: ResponsesRequest) -> native.ToolChoiceParam | None:
    choice = req.tool_choice
    if isinstance(choice, NamedFunction):
        return native.NamedTool(function=native.NamedToolFunction(name=choice.name))
    return choice


def _format(text: TextConfig | None) -> str | dict[str, object] | None:
    fmt = text.format if text else None
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return "json"
    if fmt.schema_ is None:
        raise InvalidRequest("text.format of type json_schema needs a schema")
    return fmt.schema_


def _text(content: str | list[ContentPart]) -> tuple[str, list[str]]:
    if isinstance(content, str):
        return content, []
    texts = [p.text for p in content if isinstance(p, InputText)]
    images = [image_data(p.image_url) for p in content if isinstance(p, InputImage)]
    return "\n".join(texts), images


def _message(item: MessageItem, thinking: str) -> native.Message:
    text, images = _text(item.content)
    role = "system" if item.role == "developer" else item.role
    return native.Message(
        role=role,
        content=text,
        images=images or None,
        thinking=(thinking or None) if role == "assistant" else None,
    )


def _add_call(out: list[native.Message], item: FunctionCallItem, thinking: str) -> None:
    """The call joins the assistant message of the calls just before it, or starts one."""
    try:
        arguments = json.loads(item.arguments or "{}")
    except json.JSONDecodeError:
        raise InvalidRequest("invalid tool call arguments") from None
    if not isinstance(arguments, dict):
        raise InvalidRequest("invalid tool call arguments")
    function = native.ToolCallFunction(name=item.name, arguments=arguments)
    call = native.ToolCall(id=item.call_id, function=function)
    last = out[-1] if out else None
    if last is not None and last.role == "assistant" and last.tool_calls and not thinking:
        last.tool_calls.append(call)
        return
    out.append(native.Message(role="assistant", thinking=thinking or None, tool_calls=[call]))


def _tool_result(item: FunctionCallOutputItem, out: list[native.Message]) -> native.Message:
    names = {c.id: c.function.name for m in out for c in m.tool_calls or () if c.id}
    text = item.output if isinstance(item.output, str) else "\n".join(p.text for p in item.output)
    return native.Message(
        role="tool", content=text, tool_call_id=item.call_id, tool_name=names.get(item.call_id)
    )


def reply_message(reply: ev.Reply) -> native.Message:
    """The reply as the conversation's next message."""
    calls = [
        native.ToolCall(
            id=c.id,
            function=native.ToolCallFunction(index=c.index, name=c.name, arguments=c.arguments),
        )
        for c in reply.tool_calls
    ]
    return native.Message(
        role="assistant",
        content=reply.text,
        thinking=reply.thinking or None,
        tool_calls=calls or None,
    )
