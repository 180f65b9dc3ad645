"""Ollama's own API at the pipeline's two ends: `/api/generate` and `/api/chat`.

Requests become the pipeline's `GenerationRequest`; events become NDJSON chunks in Ollama's
shape (the final chunk carries the last text and the metrics, tool calls go out in a chunk
of their own before it), or one whole reply for `"stream": false`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from pollama.api.pipeline.events import Event, Metrics, Piece, Reply, Result, ToolCall
from pollama.api.pipeline.request import ChatInput, GenerationRequest, TextInput
from pollama.api.schemas import generate as wire
from pollama.api.streaming import NDJSON_FRAMING, Framing, dump
from pollama.engine.types import Logprob
from pollama.prompt import ToolChoice

C = TypeVar("C", wire.GenerateResponse, wire.ChatResponse)


def generate_request(body: wire.GenerateRequest) -> GenerationRequest:
    """The pipeline request for a `/api/generate` body."""
    text = TextInput(
        prompt=body.prompt,
        suffix=body.suffix,
        system=body.system,
        context=tuple(body.context or ()),
        raw=bool(body.raw),
        images=tuple(body.images or ()),
    )
    return _request(body, text, body.template)


def chat_request(body: wire.ChatRequest) -> GenerationRequest:
    """The pipeline request for a `/api/chat` body."""
    chat = ChatInput(
        messages=tuple(body.messages),
        tools=tuple(body.tools or ()),
        tool_choice=_tool_choice(body.tool_choice),
        parallel_tool_calls=body.parallel_tool_calls is not False,
    )
    return _request(body, chat, body.template)


def _tool_choice(wire_choice: wire.ToolChoice | None) -> ToolChoice:
    if isinstance(wire_choice, wire.NamedTool):
        return ToolChoice("required", wire_choice.function.name)
    return ToolChoice(wire_choice or "auto")


def _request(
    body: wire.GenerateRequest | wire.ChatRequest,
    input_: TextInput | ChatInput,
    template: str | None,
) -> GenerationRequest:
    return GenerationRequest(
        model=body.model,
        input=input_,
        template=template,
        options=body.options,
        format=body.format,
        keep_alive=body.keep_alive,
        think=body.think,
        truncate=body.truncate is not False,
        shift=body.shift is not False,
        logprobs=bool(body.logprobs),
        top_logprobs=body.top_logprobs,
    )


def assistant(
    content: str = "", tool_calls: list[ToolCall] | tuple[ToolCall, ...] = (), thinking: str = ""
) -> wire.Message:
    """An assistant message as replies carry it (empty thinking and tool calls left out)."""
    return wire.Message(
        role="assistant",
        content=content,
        thinking=thinking or None,
        tool_calls=[_tool_call(c) for c in tool_calls] or None,
    )


def _tool_call(call: ToolCall) -> wire.ToolCall:
    function = wire.ToolCallFunction(index=call.index, name=call.name, arguments=call.arguments)
    return wire.ToolCall(id=call.id, function=function)


def logprobs(values: Sequence[Logprob]) -> list[wire.Logprob] | None:
    """Logprobs in Ollama's shape (none at all when the request did not ask)."""
    return [
        wire.Logprob(
            token=lp.token,
            logprob=lp.logprob,
            bytes=list(lp.bytes),
            top_logprobs=[
                wire.TokenLogprob(token=t.token, logprob=t.logprob, bytes=list(t.bytes))
                for t in lp.top_logprobs
            ]
            or None,
        )
        for lp in values
    ] or None


def _metrics(metrics: Metrics) -> wire.Metrics:
    """The final chunk's metrics; zeros are left out, as Go's omitempty does."""
    return wire.Metrics(
        total_duration=metrics.total_duration or None,
        load_duration=metrics.load_duration or None,
        prompt_eval_count=metrics.prompt_eval_count or None,
        prompt_eval_duration=metrics.prompt_eval_duration or None,
        eval_count=metrics.eval_count or None,
        eval_duration=metrics.eval_duration or None,
    )


class _Replies(ABC, Generic[C]):
    """The NDJSON chunks of one reply: a chunk per piece, the last piece's text in the final
    chunk (which follows it at once), and the whole reply for `"stream": false`."""

    framing: Framing[BaseModel] = NDJSON_FRAMING

    @staticmethod
    def document(whole: BaseModel) -> dict[str, Any]:
        return dump(whole)

    def __init__(self, model: str) -> None:
        self.model = model

    async def chunks(self, events: AsyncIterator[Event]) -> AsyncIterator[C]:
        last = Piece()
        async for event in events:
            if isinstance(event, Piece) and not event.final:
                yield self._chunk(event)
            elif isinstance(event, Piece):
                last = event
            elif isinstance(event, Result):
                for chunk in self._final(last, event):
                    yield chunk

    def whole(self, reply: Reply) -> C:
        calls, logprobs_ = tuple(reply.tool_calls), tuple(reply.logprobs)
        piece = Piece(reply.text, reply.thinking, calls, True, logprobs_)
        return self._done(piece, reply.result)

    def _final(self, last: Piece, result: Result) -> list[C]:
        return [self._done(last, result)]

    @abstractmethod
    def _chunk(self, piece: Piece) -> C: ...

    @abstractmethod
    def _done(self, piece: Piece, result: Result) -> C: ...


class GenerateReplies(_Replies[wire.GenerateResponse]):
    """`/api/generate` replies: `response` text chunks, the last with metrics and `context`."""

    def _chunk(self, piece: Piece) -> wire.GenerateResponse:
        return wire.GenerateResponse(
            model=self.model,
            response=piece.text,
            thinking=piece.thinking or None,
            logprobs=logprobs(piece.logprobs),
        )

    def _done(self, piece: Piece, result: Result) -> wire.GenerateResponse:
        return wire.GenerateResponse(
            model=self.model,
            response=piece.text,
            thinking=piece.thinking or None,
            done=True,
            done_reason=result.done_reason,
            context=None if result.context is None else list(result.context),
            logprobs=logprobs(piece.logprobs),
            **dict(_metrics(result.metrics)),
        )


class ChatReplies(_Replies[wire.ChatResponse]):
    """`/api/chat` replies: assistant message chunks, the last with metrics."""

    def _final(self, last: Piece, result: Result) -> list[wire.ChatResponse]:
        if last.tool_calls:  # calls go out in their own chunk, before the final one (as Ollama's)
            return [self._chunk(last), self._done(Piece(), result)]
        return [self._done(last, result)]

    def _chunk(self, piece: Piece) -> wire.ChatResponse:
        return wire.ChatResponse(
            model=self.model, message=_message(piece), logprobs=logprobs(piece.logprobs)
        )

    def _done(self, piece: Piece, result: Result) -> wire.ChatResponse:
        return wire.ChatResponse(
            model=self.model,
            message=_message(piece),
            logprobs=logprobs(piece.logprobs),
            done=True,
            done_reason=result.done_reason,
            **dict(_metrics(result.metrics)),
        )


def _message(piece: Piece) -> wire.Message:
    return assistant(piece.text, piece.tool_calls, piece.thinking)
