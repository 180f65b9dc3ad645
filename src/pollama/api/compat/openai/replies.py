"""The pipeline's events → OpenAI's replies: `ChatCompletionChunk`s or one `ChatCompletion`,
`Completion` deltas or one `Completion`."""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Sequence

from pollama.api.compat.openai.logprobs import chat_logprobs, completion_logprobs
from pollama.api.pipeline import events as ev
from pollama.api.schemas.openai import (
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Completion,
    CompletionChoice,
    Delta,
    FunctionCall,
    ResponseMessage,
    ToolCall,
    Usage,
    dump_openai,
)
from pollama.api.schemas.openai_logprobs import ChoiceLogprobs
from pollama.api.sse import OPENAI_FRAMING
from pollama.engine.types import Logprob


def new_id(prefix: str) -> str:
    """`chatcmpl-NNN` / `cmpl-NNN`: Ollama's short random ids."""
    return f"{prefix}-{random.randrange(999)}"


def openai_tool_calls(calls: Sequence[ev.ToolCall]) -> list[ToolCall]:
    """Tool calls in OpenAI's shape: `arguments` as a JSON string, `type: function`."""
    return [
        ToolCall(
            id=c.id,
            index=c.index,
            function=FunctionCall(
                name=c.name, arguments=json.dumps(c.arguments, ensure_ascii=False)
            ),
        )
        for c in calls
    ]


def usage(result: ev.Result) -> Usage:
    """Usage counts the whole prompt, the part taken from the cache included."""
    prompt, completion = result.metrics.prompt_tokens, result.metrics.eval_count
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def finish_reason(done_reason: str | None, tool_calls: bool) -> str | None:
    """OpenAI's `finish_reason`: "tool_calls" whenever the model called a tool."""
    if tool_calls:
        return "tool_calls"
    return done_reason or None


class _Family:
    """An OpenAI endpoint at the pipeline's end: SSE `data:` chunks, bodies as SDKs read them."""

    framing = OPENAI_FRAMING
    document = staticmethod(dump_openai)

    def __init__(self, model: str, include_usage: bool = False) -> None:
        self.model = model
        self.include_usage = include_usage


class ChatCompletions(_Family):
    """`/v1/chat/completions`."""

    def chunks(self, events: AsyncIterator[ev.Event]) -> AsyncIterator[ChatCompletionChunk]:
        return chat_chunks(events, self.model, self.include_usage)

    def whole(self, reply: ev.Reply) -> ChatCompletion:
        message = ResponseMessage(
            content=reply.text,
            reasoning=reply.thinking or None,
            tool_calls=openai_tool_calls(reply.tool_calls) or None,
        )
        finish = finish_reason(reply.result.done_reason, bool(reply.tool_calls))
        return ChatCompletion(
            id=new_id("chatcmpl"),
            created=int(time.time()),
            model=self.model,
            choices=[
                Choice(
                    message=message, finish_reason=finish, logprobs=chat_logprobs(reply.logprobs)
                )
            ],
            usage=usage(reply.result),
        )


async def chat_completion(events: AsyncIterator[ev.Event], model: str) -> ChatCompletion:
    """A whole `ChatCompletion` (`stream: false`)."""
    return ChatCompletions(model).whole(await ev.collect(events))


async def chat_chunks(
    events: AsyncIterator[ev.Event], model: str, include_usage: bool
) -> AsyncIterator[ChatCompletionChunk]:
    """`ChatCompletionChunk`s (Ollama's `ToChunk` and the middleware).

    The role goes in the first delta; thinking and content travel in separate deltas; the
    end is a finish chunk with an empty delta, then, if asked, a usage chunk with no choices.
    """
    cid, created = new_id("chatcmpl"), int(time.time())

    def chunk(
        delta: Delta, finish: str | None = None, logprobs: ChoiceLogprobs | None = None
    ) -> ChatCompletionChunk:
        choice = ChunkChoice(delta=delta, finish_reason=finish, logprobs=logprobs)
        return ChatCompletionChunk(id=cid, created=created, model=model, choices=[choice])

    role: str | None = "assistant"
    called, result = False, ev.Result()
    async for event in events:
        if isinstance(event, ev.Result):
            result = event
        if not isinstance(event, ev.Piece):
            continue
        calls = openai_tool_calls(event.tool_calls)
        called = called or bool(calls)
        if event.thinking:
            yield chunk(Delta(role=role, reasoning=event.thinking))
            role = None
        if event.text or calls or role or event.logprobs:
            delta = Delta(role=role, content=event.text, tool_calls=calls or None)
            yield chunk(delta, logprobs=chat_logprobs(event.logprobs))
        role = None
    if role:  # no piece at all: the role still comes first
        yield chunk(Delta(role=role, content=""))
    yield chunk(Delta(), finish_reason(result.done_reason, called))
    if include_usage:
        yield ChatCompletionChunk(
            id=cid, created=created, model=model, choices=[], usage=usage(result)
        )


class Completions(_Family):
    """`/v1/completions`."""

    def chunks(self, events: AsyncIterator[ev.Event]) -> AsyncIterator[Completion]:
        return completion_chunks(events, self.model, self.include_usage)

    def whole(self, reply: ev.Reply) -> Completion:
        choice = CompletionChoice(
            text=reply.text,
            finish_reason=reply.result.done_reason or None,
            logprobs=completion_logprobs(reply.logprobs),
        )
        return Completion(
            id=new_id("cmpl"),
            created=int(time.time()),
            model=self.model,
            choices=[choice],
            usage=usage(reply.result),
        )


async def completion(events: AsyncIterator[ev.Event], model: str) -> Completion:
    """A whole `Completion` (`stream: false`)."""
    return Completions(model).whole(await ev.collect(events))


async def completion_chunks(
    events: AsyncIterator[ev.Event], model: str, include_usage: bool
) -> AsyncIterator[Completion]:
    """Streamed `text_completion` objects carrying text deltas; the last piece's text goes
    with the finish, then the usage if asked."""
    cid, created = new_id("cmpl"), int(time.time())

    offset = 0  # where the next chunk's text starts, for the logprobs' `text_offset`

    def chunk(text: str, finish: str | None = None, logprobs: Sequence[Logprob] = ()) -> Completion:
        nonlocal offset
        choice = CompletionChoice(
            text=text, finish_reason=finish, logprobs=completion_logprobs(logprobs, offset)
        )
        offset += len(text)
        return Completion(id=cid, created=created, model=model, choices=[choice])

    last, result = ev.Piece(), ev.Result()
    async for event in events:
        if isinstance(event, ev.Piece) and event.final:
            last = event
        elif isinstance(event, ev.Piece) and (event.text or event.logprobs):
            yield chunk(event.text, logprobs=event.logprobs)
        elif isinstance(event, ev.Result):
            result = event
            yield chunk(last.text, result.done_reason, last.logprobs)
    if include_usage:
        yield Completion(id=cid, created=created, model=model, choices=[], usage=usage(result))
