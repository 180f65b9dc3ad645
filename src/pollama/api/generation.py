"""The generation service: every `/api/generate`, `/api/chat` and `/v1/*` reply is made here.

A request goes: model lookup → capability checks → options (`api.options`) → a runner from
the scheduler → prompt (`pollama.prompt`) → `runner.completion` → reply chunks. Checks run
before the first chunk, so their errors get real HTTP statuses; anything after goes out
in-band (see `api.streaming`). Closing a reply's iterator closes the runner's stream, which
frees the slot.

Context overflow is never silent: messages that chat truncation dropped are logged and
reported in the `X-Pollama-Truncated` response header (Ollama has no field for it), and a
prompt the runner itself had to cut is logged and reported in `X-Pollama-Truncated-Tokens`.
`"truncate": false` refuses an overlong prompt with a 400 instead.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import string
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, Generic, TypeVar

from pollama import prompt
from pollama.api.options import from_map
from pollama.api.schemas.generate import (
    ChatRequest,
    ChatResponse,
    Format,
    GenerateRequest,
    GenerateResponse,
    Message,
    ToolCall,
    ToolCallFunction,
)
from pollama.durations import parse_keep_alive
from pollama.engine.types import (
    CompletionChunk,
    CompletionRequest,
    LoadSpec,
    SamplingOptions,
)
from pollama.errors import InvalidRequest, MissingCapability, ModelNotFound

log = logging.getLogger(__name__)

T = TypeVar("T")

TRUNCATED_HEADER = "X-Pollama-Truncated"
TRUNCATED_TOKENS_HEADER = "X-Pollama-Truncated-Tokens"
_THINK_LEVELS = ("high", "medium", "low", "max")
_ID_ALPHABET = string.ascii_lowercase + string.digits


class Generation(Generic[T]):
    """The chunks of one reply, plus what a route may report beside them.

    `dropped_messages` (chat history left out) and `truncated_tokens` (prompt tokens the
    runner cut) are set before the first chunk is produced, so a route can put them in
    headers once it has awaited that chunk.
    """

    def __init__(self, make: Callable[[Generation[T]], AsyncGenerator[T, None]]) -> None:
        self.dropped_messages = 0
        self.truncated_tokens = 0
        self._chunks = make(self)

    def __aiter__(self) -> Generation[T]:
        return self

    async def __anext__(self) -> T:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        await self._chunks.aclose()


def grammar_for(fmt: Format) -> str | None:
    """The GBNF grammar enforcing `format`: "json" → any JSON object; an object → its schema."""
    if fmt is None or fmt == "":
        return None
    from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf  # loads libllama

    if fmt == "json":
        return str(JSON_GBNF)
    if isinstance(fmt, dict):
        try:
            return str(json_schema_to_gbnf(json.dumps(fmt)))
        except Exception as exc:  # the converter raises bare Exceptions on schemas it cannot do
            raise InvalidRequest(f"invalid JSON schema in format: {exc}") from None
    raise InvalidRequest(f'invalid format: "{fmt}"; expected "json" or a valid JSON Schema object')


@functools.lru_cache(maxsize=32)
def _template(go_template: str | None, jinja_template: str | None) -> prompt.PromptTemplate:
    """Parsed templates are reused: parsing costs more than rendering."""
    return prompt.PromptTemplate.from_model(go_template, jinja_template)


def _think(value: bool | str | None, caps: list[str], name: str) -> bool | None:
    """The request's `think` as a bool (levels mean on), checked against the model."""
    if isinstance(value, str):
        if value not in _THINK_LEVELS:
            raise InvalidRequest(
                f'invalid think value: "{value}" '
                '(must be "high", "medium", "low", "max", true, or false)'
            )
        value = True
    if value and "thinking" not in caps:
        raise MissingCapability(f'"{name}" does not support thinking')
    return value


def _check_images(count: int, caps: list[str], model: Any) -> None:
    """Images need a vision model; pollama's runner cannot feed them to one yet either."""
    if not count:
        return
    if "vision" not in caps:
        raise MissingCapability(f"{model.name} does not support vision")
    raise InvalidRequest("images are not supported by pollama yet")


def _metrics(chunk: CompletionChunk, start_ns: int, load_ns: int) -> dict[str, Any]:
    """The final chunk's metrics (and notes); zeros are left out, as Go's omitempty does."""
    return {
        "total_duration": time.monotonic_ns() - start_ns,
        "load_duration": load_ns or None,
        "prompt_eval_count": chunk.prompt_eval_count or None,
        "prompt_eval_duration": chunk.prompt_eval_duration or None,
        "eval_count": chunk.eval_count or None,
        "eval_duration": chunk.eval_duration or None,
        "prompt_tokens": chunk.prompt_tokens or None,
        "stop_sequence": chunk.stop_sequence,
    }


def _tool_calls(calls: list[dict[str, Any]], first_index: int) -> list[ToolCall]:
    return [
        ToolCall(
            id=_call_id(),
            function=ToolCallFunction(
                index=first_index + i,
                name=c["function"]["name"],
                arguments=c["function"].get("arguments") or {},
            ),
        )
        for i, c in enumerate(calls)
    ]


def _call_id() -> str:
    """A fresh `call_` id with 8 `[a-z0-9]`, as Ollama makes them."""
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


class GenerationService:
    """Generates replies with the models in `store`, on runners from `scheduler`."""

    def __init__(self, store: Any, scheduler: Any) -> None:
        self._store = store
        self._scheduler = scheduler

    def generate(self, req: GenerateRequest) -> Generation[GenerateResponse]:
        """`/api/generate`: chunks of the reply, the last one with metrics and `context`."""
        return Generation(lambda gen: self._generate(req, gen))

    def chat(self, req: ChatRequest) -> Generation[ChatResponse]:
        """`/api/chat`: chunks of the assistant's message, the last one with metrics."""
        return Generation(lambda gen: self._chat(req, gen))

    # --- the shared steps ---------------------------------------------------------------

    def _plan(self, model: Any, options: dict[str, Any] | None) -> tuple[LoadSpec, SamplingOptions]:
        """What to load and how to sample, from Modelfile parameters and request options."""
        if model.model_path is None:
            raise InvalidRequest(f"{model.name} has no model weights")
        runner_opts, sampling = from_map(model.parameters, options)
        spec = LoadSpec(
            name=str(model.name),
            digest=model.digest,
            model_path=model.model_path,
            adapters=tuple(model.adapters),
            projectors=tuple(model.projectors),
            options=runner_opts,
        )
        return spec, sampling

    async def _load_only(self, spec: LoadSpec, keep_alive: float | None) -> str:
        """Load (or, with keep_alive 0, unload) the model: the reply's done_reason."""
        if keep_alive == 0:
            await self._scheduler.unload(spec)
            return "unload"
        async with self._scheduler.runner(spec, keep_alive=keep_alive):
            return "load"

    # --- /api/generate ------------------------------------------------------------------

    def _check_generate(self, req: GenerateRequest) -> tuple[Any, bool | None]:
        """The model `req` names and the `think` to render with, once `req` is servable."""
        if not req.model:
            raise ModelNotFound("model '' not found")
        model = self._store.get_model(req.model)
        caps = model.capabilities()
        if "completion" not in caps:
            raise MissingCapability(f'"{req.model}" does not support generate')
        if req.raw and (req.template or req.system or req.context):
            raise InvalidRequest("raw mode does not support template, system, or context")
        if req.suffix and "insert" not in caps:
            raise MissingCapability(f"{model.name} does not support insert")
        if req.top_logprobs is not None and not 0 <= req.top_logprobs <= 20:
            raise InvalidRequest("top_logprobs must be between 0 and 20")
        _check_images(len(req.images or ()), caps, model)
        return model, _think(req.think, caps, req.model)

    async def _generate(
        self, req: GenerateRequest, gen: Generation[GenerateResponse]
    ) -> AsyncGenerator[GenerateResponse, None]:
        start = time.monotonic_ns()
        model, think = self._check_generate(req)
        grammar = grammar_for(req.format)
        spec, sampling = self._plan(model, req.options)
        keep_alive = parse_keep_alive(req.keep_alive)
        if not req.prompt and not req.suffix:
            reason = await self._load_only(spec, keep_alive)
            yield GenerateResponse(model=req.model, done=True, done_reason=reason)
            return
        async with self._scheduler.runner(spec, keep_alive=keep_alive) as runner:
            load_ns = time.monotonic_ns() - start
            tmpl = _template(req.template or model.template, runner.metadata.chat_template)
            text = req.prompt if req.raw else _generate_prompt(req, model, tmpl, think)
            request = CompletionRequest(
                prompt=text,
                sampling=sampling,
                context=tuple(req.context or ()),
                grammar=grammar,
                truncate=req.truncate is not False,
                shift=req.shift is not False,
                num_ctx=spec.options.num_ctx,
            )
            output = _Output(None if req.raw else _thinking_parser(tmpl, text, think), None)
            async with aclosing(runner.completion(request)) as chunks:
                async for chunk in chunks:
                    gen.truncated_tokens = chunk.truncated
                    thinking, content, _ = output.feed(chunk.text, chunk.done)
                    if not chunk.done:
                        if content or thinking:
                            yield GenerateResponse(
                                model=req.model,
                                response=content,
                                thinking=thinking or None,
                                prompt_tokens=chunk.prompt_tokens or None,
                            )
                        continue
                    _log_truncation(chunk, spec)
                    yield GenerateResponse(
                        model=req.model,
                        response=content,
                        thinking=thinking or None,
                        done=True,
                        done_reason=chunk.done_reason or "stop",
                        context=None if req.raw else chunk.tokens,
                        **_metrics(chunk, start, load_ns),
                    )

    # --- /api/chat ----------------------------------------------------------------------

    def _check_chat(self, req: ChatRequest) -> tuple[Any, bool | None]:
        """The model `req` names and the `think` to render with, once `req` is servable."""
        if not req.model:
            raise InvalidRequest("model is required")
        model = self._store.get_model(req.model)
        caps = model.capabilities()
        if "completion" not in caps:
            raise MissingCapability(f'"{req.model}" does not support chat')
        if req.tools and "tools" not in caps:
            raise MissingCapability(f"{model.name} does not support tools")
        if req.top_logprobs is not None and not 0 <= req.top_logprobs <= 20:
            raise InvalidRequest("top_logprobs must be between 0 and 20")
        _check_images(sum(len(m.images or ()) for m in req.messages), caps, model)
        return model, _think(req.think, caps, req.model)

    async def _chat(
        self, req: ChatRequest, gen: Generation[ChatResponse]
    ) -> AsyncGenerator[ChatResponse, None]:
        start = time.monotonic_ns()
        model, think = self._check_chat(req)
        grammar = grammar_for(req.format)
        spec, sampling = self._plan(model, req.options)
        keep_alive = parse_keep_alive(req.keep_alive)
        if not req.messages:
            reason = await self._load_only(spec, keep_alive)
            yield ChatResponse(model=req.model, message=assistant(), done=True, done_reason=reason)
            return
        async with self._scheduler.runner(spec, keep_alive=keep_alive) as runner:
            load_ns = time.monotonic_ns() - start
            tmpl = _template(req.template or model.template, runner.metadata.chat_template)
            tools = [t.model_dump(exclude_none=True) for t in req.tools or ()]
            rendered = await prompt.chat_prompt(
                tmpl,
                _chat_messages(model, req.messages),
                tools=tools or None,
                num_ctx=spec.options.num_ctx,
                tokenize=runner.tokenize,
                truncate=req.truncate is not False,
                think=think,
            )
            gen.dropped_messages = rendered.dropped_messages
            if rendered.dropped_messages:
                log.warning(
                    "%s: dropped %d oldest messages to fit num_ctx=%d",
                    spec.name,
                    rendered.dropped_messages,
                    spec.options.num_ctx,
                )
            request = CompletionRequest(
                prompt=rendered.text,
                sampling=sampling,
                grammar=grammar,
                truncate=req.truncate is not False,
                shift=req.shift is not False,
                num_ctx=spec.options.num_ctx,
            )
            output = _Output(
                _thinking_parser(tmpl, rendered.text, think),
                prompt.ToolCallParser(tmpl, tools) if tools else None,
            )
            async with aclosing(runner.completion(request)) as chunks:
                replies = _chat_chunks(req.model, chunks, output, start, load_ns, spec, gen)
                async for reply in replies:
                    yield reply


def assistant(
    content: str = "", tool_calls: list[ToolCall] | None = None, thinking: str = ""
) -> Message:
    """An assistant message as replies carry it (empty thinking and tool calls left out)."""
    return Message(
        role="assistant", content=content, thinking=thinking or None, tool_calls=tool_calls or None
    )


def _generate_prompt(req: GenerateRequest, model: Any, tmpl: Any, think: bool | None) -> str:
    """Fill-in-the-middle, or system + Modelfile MESSAGEs + prompt through the template.

    The MESSAGEs are left out when `context` continues a conversation, as Ollama does.
    """
    return prompt.render_generate(
        tmpl,
        prompt=req.prompt,
        system=None if req.suffix else (req.system or model.system or None),
        suffix=req.suffix,
        messages=None if req.context else list(model.messages),
        think=think,
    )


def _thinking_parser(tmpl: Any, text: str, think: bool | None) -> prompt.ThinkingParser | None:
    """A parser for the template's thinking tags, unless thinking was turned off."""
    if think is False or not tmpl.supports_thinking:
        return None
    return prompt.ThinkingParser.from_template(tmpl, text)


class _Output:
    """Model text → (thinking, content, tool calls), through the parsers a request needs."""

    def __init__(
        self, thinking: prompt.ThinkingParser | None, tools: prompt.ToolCallParser | None
    ) -> None:
        self._thinking = thinking
        self._tools = tools

    def feed(self, text: str, done: bool) -> tuple[str, str, list[dict[str, Any]]]:
        """Split `text`; on the final chunk (`done`) also what the parsers held back."""
        thinking, calls = "", []
        if self._thinking is not None:
            thinking, text = self._thinking.feed(text)
            if done:
                more_thinking, more_text = self._thinking.flush()
                thinking, text = thinking + more_thinking, text + more_text
        if self._tools is not None:
            text, calls = self._tools.feed(text)
            if done:
                more_text, more_calls = self._tools.flush()
                text, calls = text + more_text, calls + more_calls
        return thinking, text, calls


def _chat_messages(model: Any, messages: list[Message]) -> list[dict[str, Any]]:
    """Modelfile MESSAGEs, then the request's; the Modelfile SYSTEM first unless the request
    starts with its own system message."""
    out = [*model.messages, *(m.model_dump(exclude_none=True) for m in messages)]
    if model.system and messages[0].role != "system":
        out.insert(0, {"role": "system", "content": model.system})
    return out


async def _chat_chunks(
    name: str,
    chunks: AsyncIterator[CompletionChunk],
    output: _Output,
    start_ns: int,
    load_ns: int,
    spec: LoadSpec,
    gen: Generation[ChatResponse],
) -> AsyncIterator[ChatResponse]:
    """Runner chunks as chat chunks: thinking split off, tool calls released whole."""
    n_calls = 0
    async for chunk in chunks:
        gen.truncated_tokens = chunk.truncated
        thinking, text, calls = output.feed(chunk.text, chunk.done)
        tool_calls = _tool_calls(calls, n_calls)
        n_calls += len(tool_calls)
        message = assistant(text, tool_calls, thinking)
        prompt_tokens = chunk.prompt_tokens or None
        if not chunk.done:
            if text or thinking or tool_calls:
                yield ChatResponse(model=name, message=message, prompt_tokens=prompt_tokens)
            continue
        if tool_calls:  # calls go out in their own chunk, before the final one (as Ollama's)
            yield ChatResponse(model=name, message=message, prompt_tokens=prompt_tokens)
            message = assistant()
        _log_truncation(chunk, spec)
        yield ChatResponse(
            model=name,
            message=message,
            done=True,
            done_reason=chunk.done_reason or "stop",
            **_metrics(chunk, start_ns, load_ns),
        )


def _log_truncation(chunk: CompletionChunk, spec: LoadSpec) -> None:
    if chunk.truncated:
        log.warning(
            "%s: prompt truncated, %d tokens dropped to fit num_ctx=%d",
            spec.name,
            chunk.truncated,
            spec.options.num_ctx,
        )
