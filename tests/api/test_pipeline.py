"""The generation pipeline's stages, driven in-process: no server, and no model process
except where a real runner is the point (the last tests, through `create_app`)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pollama.api import create_app, native
from pollama.api.pipeline import (
    ChatInput,
    Event,
    GenerationRequest,
    Metrics,
    Piece,
    Pipeline,
    Result,
    Started,
    TextInput,
    ToolCall,
    Truncation,
)
from pollama.api.pipeline.parse import OutputParser
from pollama.api.pipeline.plan import plan
from pollama.api.pipeline.render import Rendered, reply_spans
from pollama.api.pipeline.resolve import resolve
from pollama.api.schemas.generate import Message, Tool, ToolFunction
from pollama.engine.scheduler import Scheduler
from pollama.errors import InvalidRequest, MissingCapability, ModelNotFound, PollamaError
from pollama.prompt import PromptTemplate
from pollama.store import Store
from tests.api.generate_helpers import TINY_OPTIONS, create
from tests.fixtures.tiny_gguf import TOOLS_TEMPLATE

THINKING = PromptTemplate.from_model(
    "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}"
    "{{ .Content }}{{ end }}",
    None,
)
WEATHER = Tool(function=ToolFunction(name="get_weather"))


@pytest.fixture
def store(isolated_store: Path, tiny_gguf: Path) -> Store:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\nPARAMETER num_ctx 512\n")
    return Store(isolated_store)


def _chat(model: str = "tiny", **fields: object) -> GenerationRequest:
    messages = (Message(role="user", content="hi"),)
    return GenerationRequest(model=model, input=ChatInput(messages), **fields)  # type: ignore[arg-type]


def _text(model: str = "tiny", **fields: object) -> GenerationRequest:
    return GenerationRequest(model=model, input=TextInput("hi", **fields))  # type: ignore[arg-type]


# --- resolve and plan ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "error", "message"),
    [
        (_chat(""), InvalidRequest, "model is required"),
        (_text(""), ModelNotFound, "model '' not found"),
        (_chat("nope"), ModelNotFound, "not found"),
        (_text(raw=True, system="s"), InvalidRequest, "raw mode does not support"),
        (_text(suffix="x"), MissingCapability, "does not support insert"),
        (_chat(think=True), MissingCapability, '"tiny" does not support thinking'),
        (_chat(think="loud"), InvalidRequest, "invalid think value"),
        (_chat(top_logprobs=21), InvalidRequest, "top_logprobs must be between 0 and 20"),
    ],
)
def test_resolve_refuses_what_the_model_cannot_serve(
    store: Store, request_: GenerationRequest, error: type[PollamaError], message: str
) -> None:
    with pytest.raises(error, match=message):
        resolve(store, request_)


def test_resolve_drops_optional_thinking_on_a_model_that_cannot_think(store: Store) -> None:
    assert resolve(store, _chat(think=True, optional_think=True)).think is None
    assert resolve(store, _chat(think=False)).think is False


def test_plan_layers_request_options_over_the_modelfile(store: Store) -> None:
    model = store.get_model("tiny")
    assert plan(model, _chat()).num_ctx == 512
    planned = plan(model, _chat(options={"num_ctx": 256, "temperature": 0}, keep_alive="1m"))
    assert (planned.num_ctx, planned.sampling.temperature, planned.keep_alive) == (256, 0.0, 60)
    assert plan(model, _chat(format="json")).grammar
    strings = {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}
    assert plan(model, _chat(format=strings)).json_keys == ("b",)  # drafted by the runner
    with pytest.raises(InvalidRequest, match='option "num_ctx" must be of type integer'):
        plan(model, _chat(options={"num_ctx": "big"}))


# --- parse ---------------------------------------------------------------------------------


def _feed(parser: OutputParser, texts: list[str]) -> list[Piece]:
    pieces = [parser.feed(t, i == len(texts) - 1) for i, t in enumerate(texts)]
    return [p for p in pieces if p is not None]


def test_thinking_is_split_off_and_held_back_tags_come_out_at_the_end() -> None:
    parser = OutputParser(Rendered("", THINKING, []), think=None, raw=False)
    pieces = _feed(parser, ["<think>hm", "m</thi", "nk>Yes", ""])
    assert "".join(p.thinking for p in pieces) == "hmm"
    assert "".join(p.text for p in pieces) == "Yes"
    off = OutputParser(Rendered("", THINKING, []), think=False, raw=False)
    assert _feed(off, ["<think>x</think>y"])[0].text == "<think>x</think>y"


def test_a_bare_json_call_becomes_a_numbered_tool_call_with_an_id() -> None:
    tools = [WEATHER.model_dump(exclude_none=True)]
    parser = OutputParser(Rendered("", THINKING, tools), think=False, raw=False)
    (piece,) = _feed(parser, ['{"name": "get_weather", ', '"arguments": {"city": "Paris"}}'])
    (call,) = piece.tool_calls
    assert (call.index, call.name, call.arguments) == (0, "get_weather", {"city": "Paris"})
    assert call.id.startswith("call_") and len(call.id) == 13 and piece.final


# --- the native end ------------------------------------------------------------------------


async def _events(*events: Event) -> AsyncIterator[Event]:
    for event in events:
        yield event


CALL = ToolCall("call_abcdefgh", 0, "get_weather", {"city": "Paris"})
RESULT = Result(
    done_reason="length",
    metrics=Metrics(total_duration=9, prompt_eval_count=3, eval_count=2),
    truncation=Truncation(dropped_tokens=4),
    context=(1, 2, 3),
)


async def test_native_generate_writes_the_last_piece_into_the_done_chunk() -> None:
    stream = _events(Started(3), Piece("a"), Piece("b", final=True), RESULT)
    chunks = [c async for c in native.GenerateReplies("m").chunks(stream)]
    assert [(c.response, c.done) for c in chunks] == [("a", False), ("b", True)]
    final = chunks[-1]
    assert (final.done_reason, final.context, final.eval_count) == ("length", [1, 2, 3], 2)
    assert final.load_duration is None  # zeros are left out, as Go's omitempty does


async def test_native_chat_sends_tool_calls_in_a_chunk_before_the_done_chunk() -> None:
    stream = _events(Started(3), Piece("", tool_calls=(CALL,), final=True), RESULT)
    chunks = [c async for c in native.ChatReplies("m").chunks(stream)]
    assert [c.done for c in chunks] == [False, True]
    (call,) = chunks[0].message.tool_calls or []
    assert (call.id, call.function.index, call.function.arguments) == (
        CALL.id,
        0,
        {"city": "Paris"},
    )
    assert chunks[1].message.tool_calls is None and chunks[1].message.content == ""


# --- the whole pipeline, in-process --------------------------------------------------------


async def test_pipeline_reports_truncation_and_metrics_as_data(store: Store) -> None:
    scheduler = Scheduler(max_loaded=1)
    try:
        long = GenerationRequest(
            model="tiny",
            input=TextInput("word " * 400),
            options={**TINY_OPTIONS, "num_ctx": 128},
        )
        events = [e async for e in Pipeline(store, scheduler).run(long)]
        started, result = events[0], events[-1]
        assert isinstance(started, Started) and isinstance(result, Result)
        assert started.truncation.dropped_tokens > 100
        assert result.truncation == started.truncation
        assert result.metrics.eval_count == TINY_OPTIONS["num_predict"]
        assert result.metrics.prompt_tokens <= 128 and result.context
        assert all(isinstance(e, Piece) for e in events[1:-1])
        load = dataclasses.replace(long, input=TextInput(""))
        assert [type(e) for e in [e async for e in Pipeline(store, scheduler).run(load)]] == [
            Started,
            Result,
        ]
    finally:
        await scheduler.shutdown()


async def test_app_streams_the_pipeline_with_its_headers_in_process(store: Store) -> None:
    scheduler = Scheduler(max_loaded=1)
    app = create_app(store, scheduler, listen_host="127.0.0.1")
    body = {"model": "tiny", "prompt": "word " * 400, "options": {**TINY_OPTIONS, "num_ctx": 128}}
    try:
        transport = httpx.ASGITransport(app=app)
        base = "http://127.0.0.1:11434"
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            reply = await client.post("/api/generate", json=body)
            chat = await client.post(
                "/v1/chat/completions",
                json={"model": "tiny", "messages": [{"role": "user", "content": "x"}], "n": 2},
            )
    finally:
        await scheduler.shutdown()
    assert reply.status_code == 200, reply.text
    lines = [json.loads(line) for line in reply.text.splitlines()]
    assert int(reply.headers["X-Pollama-Truncated-Tokens"]) > 100
    assert lines[-1]["done"] is True and lines[-1]["eval_count"] == TINY_OPTIONS["num_predict"]
    assert chat.status_code == 400 and "n > 1" in chat.json()["error"]["message"]


def test_with_parallel_calls_forbidden_only_the_first_call_is_kept() -> None:
    tools = [WEATHER.model_dump(exclude_none=True)]
    template = PromptTemplate.from_model(TOOLS_TEMPLATE, None)
    call = '<tool_call>{"name": "get_weather", "arguments": {"city": "%s"}}</tool_call>'
    texts = [call % "Paris", call % "Rome", ""]
    free = OutputParser(Rendered("", template, tools), think=False, raw=False)
    assert [c.arguments["city"] for p in _feed(free, texts) for c in p.tool_calls] == [
        "Paris",
        "Rome",
    ]
    one = OutputParser(Rendered("", template, tools), think=False, raw=False, max_calls=1)
    (kept,) = [c for p in _feed(one, texts) for c in p.tool_calls]
    assert (kept.index, kept.arguments) == (0, {"city": "Paris"})


def test_a_chat_prompt_says_where_its_replies_lie() -> None:
    """In UTF-8 bytes, each assistant content found after the message before it: a user
    quoting a reply does not move it, and a content the template dropped is left out."""
    messages = [
        {"role": "user", "content": "say “ok”"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "ok? say it again"},
        {"role": "assistant", "content": "ok"},
        {"role": "assistant", "content": "not rendered"},
    ]
    text = "<u>say “ok”</u><a>ok</a><u>ok? say it again</u><a>ok</a>"
    data = text.encode()
    spans = reply_spans(text, messages)
    assert [data[a:b] for a, b in spans] == [b"ok", b"ok"]
    assert spans[0][0] == data.index(b"<a>ok") + 3 and spans[1][0] == data.rindex(b"ok")
