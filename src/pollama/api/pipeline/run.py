"""The pipeline: a `GenerationRequest` in, its events out, through the stages in order.

    resolve (model, capabilities) → plan (options, grammar) → a runner from the scheduler
    → render (prompt) → runner.completion → parse (thinking, tool calls) → account (metrics)

Every check runs before `Started`, so its error gets a real HTTP status; anything after goes
out in-band (see `api.streaming`). Closing the event stream closes the runner's stream,
which frees the slot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import anyio

from pollama.api.pipeline.events import Event, Result, Started, Truncation
from pollama.api.pipeline.metrics import Clock, account, log_truncation
from pollama.api.pipeline.parse import OutputParser
from pollama.api.pipeline.plan import Plan, plan
from pollama.api.pipeline.render import Rendered, render
from pollama.api.pipeline.request import ChatInput, GenerationRequest, TextInput
from pollama.api.pipeline.resolve import resolve
from pollama.api.pipeline.seams import Models, Runners
from pollama.engine.scheduler import queue_wait
from pollama.engine.types import CompletionChunk, CompletionRequest


class Pipeline:
    """Generates replies with the models in `models`, on runners from `runners`."""

    def __init__(self, models: Models, runners: Runners) -> None:
        self._models = models
        self._runners = runners

    async def run(self, req: GenerationRequest) -> AsyncIterator[Event]:
        """The events of `req`'s reply: `Started`, `Piece`s, `Result` (see `events`)."""
        clock = Clock()
        resolved = await anyio.to_thread.run_sync(resolve, self._models, req)
        planned = plan(resolved.model, req)
        if req.input.empty:
            yield Started()
            yield Result(done_reason=await self._load_only(planned))
            return
        async with self._runners.runner(planned.spec, keep_alive=planned.keep_alive) as runner:
            clock.loaded()
            waited = queue_wait.get()  # set as the scheduler granted the runner
            rendered = await render(req, resolved, runner, planned.num_ctx)
            parser = OutputParser(
                rendered, think=resolved.think, raw=_raw(req), max_calls=_max_calls(req)
            )
            chunks = runner.completion(_completion(req, planned, rendered))
            events = _events(chunks, parser, rendered, planned, clock, req, waited)
            async with aclosing(events):  # leaving early frees the slot at once
                async for event in events:
                    yield event

    async def _load_only(self, planned: Plan) -> str:
        """Load (or, with keep_alive 0, unload) the model: the reply's done_reason."""
        if planned.keep_alive == 0:
            await self._runners.unload(planned.spec)
            return "unload"
        async with self._runners.runner(planned.spec, keep_alive=planned.keep_alive):
            return "load"


def _max_calls(req: GenerationRequest) -> int | None:
    """At most one tool call when the request forbids parallel calls; else no limit."""
    parallel = not isinstance(req.input, ChatInput) or req.input.parallel_tool_calls
    return None if parallel else 1


def _raw(req: GenerationRequest) -> bool:
    return isinstance(req.input, TextInput) and req.input.raw


def _completion(req: GenerationRequest, planned: Plan, rendered: Rendered) -> CompletionRequest:
    context = req.input.context if isinstance(req.input, TextInput) else ()
    return CompletionRequest(
        prompt=rendered.text,
        sampling=planned.sampling,
        context=context,
        grammar=rendered.forced_call or planned.grammar,
        json_keys=() if rendered.forced_call else planned.json_keys,
        truncate=req.truncate,
        shift=req.shift,
        num_ctx=planned.num_ctx,
        logprobs=req.logprobs,
        top_logprobs=req.top_logprobs or 0,
        replies=rendered.replies,
    )


async def _events(
    chunks: AsyncIterator[CompletionChunk],
    parser: OutputParser,
    rendered: Rendered,
    planned: Plan,
    clock: Clock,
    req: GenerationRequest,
    waited: float,
) -> AsyncIterator[Event]:
    """Runner chunks as events: `Started` with the first, a `Result` after the last."""
    started: Started | None = None
    try:
        async for chunk in chunks:
            if started is None:
                started = _started(chunk, rendered, waited)
                yield started
            piece = parser.feed(chunk.text, chunk.done, chunk.logprobs)
            if piece is not None:
                yield piece
            if chunk.done:
                log_truncation(planned.spec.name, started.truncation, planned.num_ctx)
                yield _result(chunk, started, clock, req)
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


def _started(first: CompletionChunk, rendered: Rendered, waited: float) -> Started:
    truncation = Truncation(rendered.dropped_messages, first.truncated)
    return Started(first.prompt_tokens or first.prompt_eval_count, truncation, waited)


def _result(
    final: CompletionChunk, started: Started, clock: Clock, req: GenerationRequest
) -> Result:
    context = None if _raw(req) or final.tokens is None else tuple(final.tokens)
    return Result(
        done_reason=final.done_reason or "stop",
        metrics=account(final, clock, started.prompt_tokens),
        truncation=started.truncation,
        stop_sequence=final.stop_sequence,
        context=context,
    )
