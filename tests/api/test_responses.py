"""`/v1/responses` through the official `openai` client, in-process: text and message input,
instructions, max_output_tokens, tools and their outputs, text.format, streaming, and
previous_response_id from the bounded store."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openai
import pytest
from openai.types.responses import ResponseIncludable

from pollama.api import create_app
from pollama.engine.scheduler import Scheduler
from pollama.store import Store
from tests.api.generate_helpers import create
from tests.api.inprocess import BASE_URL
from tests.fixtures.tiny_gguf import TOOLS_TEMPLATE

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "pattern": "^[a-z]{1,6}$"}},
        "required": ["city"],
    },
}


@pytest.fixture
async def client(isolated_store: Path, tiny_gguf: Path) -> AsyncIterator[openai.AsyncOpenAI]:
    modelfile = f"FROM {tiny_gguf}\nPARAMETER num_ctx 512\nPARAMETER seed 42\n"
    modelfile += f'TEMPLATE """{TOOLS_TEMPLATE}"""\n'
    create(isolated_store, "tiny", modelfile)
    scheduler = Scheduler(max_loaded=1)
    app = create_app(Store(isolated_store), scheduler, listen_host="127.0.0.1")
    transport = httpx.ASGITransport(app=app)
    base_url = BASE_URL + "/v1"
    http = httpx.AsyncClient(transport=transport, base_url=base_url)
    try:
        yield openai.AsyncOpenAI(base_url=base_url, api_key="x", http_client=http)
    finally:
        await http.aclose()
        await scheduler.shutdown()


async def test_text_input_with_instructions_and_a_token_limit(
    client: openai.AsyncOpenAI,
) -> None:
    response = await client.responses.create(
        model="tiny", input="Say hi", instructions="Be brief.", max_output_tokens=5
    )
    assert response.object == "response" and response.id.startswith("resp_")
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None and response.usage.output_tokens == 5
    assert response.usage.input_tokens > 5
    (message,) = response.output
    assert message.type == "message" and message.role == "assistant"
    assert response.output_text == message.content[0].text
    assert response.instructions == "Be brief."


async def test_json_schema_format(client: openai.AsyncOpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": False,
    }
    response = await client.responses.create(
        model="tiny",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "ok?"}]}],
        text={"format": {"type": "json_schema", "name": "answer", "schema": schema}},
        max_output_tokens=40,
    )
    assert isinstance(json.loads(response.output_text)["ok"], bool)


async def test_forced_function_call_and_its_output(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="tiny",
        input="Weather in Paris?",
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
        max_output_tokens=120,
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert response.parallel_tool_calls is False
    assert isinstance(json.loads(calls[0].arguments)["city"], str)
    follow = await client.responses.create(
        model="tiny",
        previous_response_id=response.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"}],
        tools=[WEATHER],
        tool_choice="none",
        max_output_tokens=4,
    )
    assert follow.previous_response_id == response.id
    assert [item.type for item in follow.output] == ["message"]


async def test_streamed_events_in_order(client: openai.AsyncOpenAI) -> None:
    stream = await client.responses.create(
        model="tiny", input="hi", max_output_tokens=6, stream=True
    )
    events = [event async for event in stream]
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.incomplete",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    final = events[-1].response
    assert final.output_text == deltas and final.status == "incomplete"


async def test_previous_response_id_continues_and_unknown_ids_are_refused(
    client: openai.AsyncOpenAI,
) -> None:
    first = await client.responses.create(model="tiny", input="one", max_output_tokens=3)
    second = await client.responses.create(
        model="tiny", input="two", previous_response_id=first.id, max_output_tokens=3
    )
    assert second.usage is not None and first.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens + 3  # the first turn came along
    with pytest.raises(openai.BadRequestError, match="'resp_nope' not found"):
        await client.responses.create(model="tiny", input="x", previous_response_id="resp_nope")
    unstored = await client.responses.create(
        model="tiny", input="x", store=False, max_output_tokens=2
    )
    with pytest.raises(openai.BadRequestError, match="not found"):
        await client.responses.create(model="tiny", input="y", previous_response_id=unstored.id)


async def test_logprobs_come_on_the_text_when_included(client: openai.AsyncOpenAI) -> None:
    include: list[ResponseIncludable] = ["message.output_text.logprobs"]
    response = await client.responses.create(
        model="tiny", input="hi", max_output_tokens=6, include=include, top_logprobs=2
    )
    (part,) = response.output[0].content  # type: ignore[union-attr]
    assert part.logprobs and "".join(lp.token for lp in part.logprobs) == part.text
    assert all(len(lp.top_logprobs) == 2 and lp.logprob <= 0 for lp in part.logprobs)
    assert response.top_logprobs == 2
    plain = await client.responses.create(model="tiny", input="hi", max_output_tokens=3)
    assert plain.output[0].content[0].logprobs == []  # type: ignore[union-attr]
    stream = await client.responses.create(
        model="tiny", input="hi", max_output_tokens=6, include=include, stream=True
    )
    events = [event async for event in stream]
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert "".join(lp.token for d in deltas for lp in d.logprobs) == "".join(
        d.delta for d in deltas
    )
    (done,) = [e for e in events if e.type == "response.output_text.done"]
    assert [lp.token for lp in done.logprobs] == [lp.token for d in deltas for lp in d.logprobs]


async def test_truncation_disabled_refuses_an_overlong_input_and_auto_cuts_it(
    client: openai.AsyncOpenAI,
) -> None:
    overlong = "tell me more " * 400
    refusal = 'larger than num_ctx 512; raise num_ctx or set truncation to "auto"'
    with pytest.raises(openai.BadRequestError, match=re.escape(refusal)):
        await client.responses.create(model="tiny", input=overlong, max_output_tokens=2)
    cut = await client.responses.create(
        model="tiny", input=overlong, truncation="auto", max_output_tokens=2
    )
    assert cut.truncation == "auto" and cut.status == "incomplete"


async def test_harmless_fields_are_accepted(client: openai.AsyncOpenAI) -> None:
    response = await client.responses.create(
        model="tiny",
        input="hi",
        max_output_tokens=2,
        user="u1",
        safety_identifier="s1",
        prompt_cache_key="k1",
        prompt_cache_retention="24h",
        service_tier="auto",
        max_tool_calls=3,
        background=False,
        metadata={"run": "7"},
        reasoning={"summary": "auto"},
    )
    assert response.metadata == {"run": "7"}
    assert response.reasoning is not None and response.reasoning.summary == "auto"


@pytest.mark.parametrize(
    ("field", "value", "param", "why"),
    [
        ("background", True, "background", "foreground only"),
        ("conversation", "conv_1", "conversation", "previous_response_id"),
        ("prompt", {"id": "pmpt_1"}, "prompt", "stored prompt"),
        ("include", ["reasoning.encrypted_content"], "include.0", "can include only"),
        ("reasoning", {"summary": "concise"}, "reasoning.summary", "cannot summarise"),
        ("text", {"verbosity": "low"}, "text.verbosity", "verbose"),
        ("context_management", [{"type": "compaction"}], "context_management", "compact"),
    ],
)
async def test_fields_it_cannot_honour_are_refused_by_name(
    client: openai.AsyncOpenAI, field: str, value: object, param: str, why: str
) -> None:
    with pytest.raises(openai.BadRequestError, match=why) as refused:
        await client.responses.create(model="tiny", input="hi", **{field: value})
    assert refused.value.param == param and refused.value.code == "unsupported_parameter"
    assert refused.value.message.startswith(f"Error code: 400 - {param}: ")
