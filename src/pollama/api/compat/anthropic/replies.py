"""The pipeline's events → Anthropic's replies: one `MessagesResponse`, or the named stream
events (`message_start`, `content_block_*`, `message_delta`, `message_stop`) in the order
the Anthropic SDKs accumulate."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator

from pollama.api.pipeline import events as ev
from pollama.api.schemas.anthropic import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    InputJsonDelta,
    MessageDelta,
    MessagesResponse,
    MessageStart,
    MessageStop,
    Ping,
    ReplyBlock,
    StopDetails,
    StopReason,
    StreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)
from pollama.api.sse import NAMED_FRAMING


def message_id() -> str:
    """`msg_` and 24 hex digits, as Ollama makes them."""
    return "msg_" + secrets.token_hex(12)


def stop_reason(reply: ev.Reply) -> StopReason:
    """Anthropic's `stop_reason` for a finished reply."""
    if reply.tool_calls:
        return "tool_use"
    if reply.result.stop_sequence:
        return "stop_sequence"
    return "max_tokens" if reply.result.done_reason == "length" else "end_turn"


def _usage(reply: ev.Reply) -> Usage:
    metrics = reply.result.metrics
    return Usage(input_tokens=metrics.prompt_tokens, output_tokens=metrics.eval_count)


def _tool_use(call: ev.ToolCall) -> ToolUseBlock:
    return ToolUseBlock(id=call.id, name=call.name, input=call.arguments)


def _wants_empty_text(reply: ev.Reply) -> bool:
    """An answer of no text and no calls still has its (empty) text block, streamed or not:
    clients read `content[0]`, and two byte tokens can be half a character, which is no text."""
    return not reply.text and not reply.tool_calls


class Messages:
    """`/v1/messages` at the pipeline's end."""

    framing = NAMED_FRAMING

    def __init__(self, model: str) -> None:
        self.model = model

    def chunks(self, events: AsyncIterator[ev.Event]) -> AsyncIterator[StreamEvent]:
        return stream_events(events, self.model)

    def whole(self, reply: ev.Reply) -> MessagesResponse:
        content: list[ReplyBlock] = []
        if reply.thinking:
            content.append(ThinkingBlock(thinking=reply.thinking))
        if reply.text or _wants_empty_text(reply):
            content.append(TextBlock(text=reply.text))
        content.extend(_tool_use(c) for c in reply.tool_calls)
        return MessagesResponse(
            id=message_id(),
            model=self.model,
            content=content,
            stop_reason=stop_reason(reply),
            stop_sequence=reply.result.stop_sequence,
            usage=_usage(reply),
        )

    @staticmethod
    def document(whole: MessagesResponse) -> dict[str, object]:
        return whole.wire()


async def messages_response(events: AsyncIterator[ev.Event], model: str) -> MessagesResponse:
    """A whole Messages reply (`stream: false`)."""
    return Messages(model).whole(await ev.collect(events))


class _Blocks:
    """The stream's open content block: starting one closes the one before."""

    def __init__(self) -> None:
        self.index = -1
        self.open: str | None = None

    def start(self, block: ReplyBlock) -> list[StreamEvent]:
        events = self.stop()
        self.index += 1
        self.open = block.type
        events.append(ContentBlockStart(index=self.index, content_block=block))
        return events

    def delta(self, delta: TextDelta | ThinkingDelta | InputJsonDelta) -> StreamEvent:
        return ContentBlockDelta(index=self.index, delta=delta)

    def stop(self) -> list[StreamEvent]:
        if self.open is None:
            return []
        self.open = None
        return [ContentBlockStop(index=self.index)]


def _piece_events(blocks: _Blocks, piece: ev.Piece) -> list[StreamEvent]:
    """The block events for one piece: thinking, then text, then whole tool calls."""
    events: list[StreamEvent] = []
    if piece.thinking:
        if blocks.open != "thinking":
            events += blocks.start(ThinkingBlock())
        events.append(blocks.delta(ThinkingDelta(thinking=piece.thinking)))
    if piece.text:
        if blocks.open != "text":
            events += blocks.start(TextBlock())
        events.append(blocks.delta(TextDelta(text=piece.text)))
    for call in piece.tool_calls:
        events += blocks.start(ToolUseBlock(id=call.id, name=call.name))
        partial = json.dumps(call.arguments, ensure_ascii=False)
        events.append(blocks.delta(InputJsonDelta(partial_json=partial)))
        events += blocks.stop()
    return events


async def stream_events(events: AsyncIterator[ev.Event], model: str) -> AsyncIterator[StreamEvent]:
    """Named stream events; `message_start` comes with `Started`, once the prompt is in."""
    reply, blocks = ev.Reply(), _Blocks()
    async for event in events:
        reply.add(event)
        if isinstance(event, ev.Started):
            usage = Usage(input_tokens=event.prompt_tokens)
            yield MessageStart(
                message=MessagesResponse(id=message_id(), model=model, content=[], usage=usage)
            )
            yield Ping()
        elif isinstance(event, ev.Piece):
            for block_event in _piece_events(blocks, event):
                yield block_event
    if _wants_empty_text(reply):
        for block_event in blocks.start(TextBlock()):
            yield block_event
    for block_event in blocks.stop():
        yield block_event
    details = StopDetails(stop_reason=stop_reason(reply), stop_sequence=reply.result.stop_sequence)
    yield MessageDelta(delta=details, usage=_usage(reply))
    yield MessageStop()
