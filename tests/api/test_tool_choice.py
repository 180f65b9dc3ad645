"""tool_choice honoured through every API family, in-process: "none" offers no tools,
"required" and a named function force one call in the template's format, even from a model
that would never make one (the tiny model's weights are random)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pollama.engine.scheduler import Scheduler
from tests.api.generate_helpers import WEATHER_TOOL, create
from tests.api.inprocess import app_client
from tests.fixtures.tiny_gguf import TOOLS_TEMPLATE

TIME_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {}}}
# Short ASCII names: a random model's call is then short, whatever it draws.
CITY = {**WEATHER_TOOL["function"]["parameters"]["properties"]["city"], "pattern": "^[a-z]{1,6}$"}
WEATHER = {
    "type": "function",
    "function": {
        **WEATHER_TOOL["function"],
        "parameters": {**WEATHER_TOOL["function"]["parameters"], "properties": {"city": CITY}},
    },
}
OPTIONS = {"num_predict": 120, "seed": 7, "num_ctx": 512}
MESSAGES = [{"role": "user", "content": "Tell me a joke"}]


@pytest.fixture
async def client(isolated_store: Path, tiny_gguf: Path) -> AsyncIterator[httpx.AsyncClient]:
    create(isolated_store, "tools", f'FROM {tiny_gguf}\nTEMPLATE """{TOOLS_TEMPLATE}"""\n')
    create(isolated_store, "plain", f"FROM {tiny_gguf}\n")
    async with app_client(isolated_store, Scheduler(max_loaded=2)) as http:
        yield http


async def _chat(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {"model": "tools", "messages": MESSAGES, "stream": False, "options": OPTIONS}
    return await client.post("/api/chat", json={**body, **fields})


@pytest.mark.parametrize(
    "choice", [{"type": "function", "function": {"name": "get_weather"}}, "required"]
)
async def test_native_chat_forces_one_call(client: httpx.AsyncClient, choice: Any) -> None:
    reply = (await _chat(client, tools=[WEATHER, TIME_TOOL], tool_choice=choice)).json()
    (call,) = reply["message"]["tool_calls"]
    assert reply["message"]["content"] == "" and reply["done_reason"] == "stop"
    name = call["function"]["name"]
    assert (
        name == "get_weather" if isinstance(choice, dict) else name in ("get_weather", "get_time")
    )
    if name == "get_weather":
        assert isinstance(call["function"]["arguments"]["city"], str)


async def test_none_offers_no_tools(client: httpx.AsyncClient) -> None:
    """The plain model cannot take tools, so a request offering them fails, unless "none"
    keeps them out of the prompt."""
    refused = await _chat(client, model="plain", tools=[WEATHER])
    assert refused.status_code == 400 and "does not support tools" in refused.json()["error"]
    reply = await _chat(client, model="plain", tools=[WEATHER], tool_choice="none")
    assert reply.status_code == 200 and "tool_calls" not in reply.json()["message"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            'tool_choice names "nope", which is not among the tools',
        ),
        ({"tool_choice": "required"}, "needs at least one tool"),
        ({"tools": [WEATHER], "tool_choice": "required", "format": "json"}, "cannot be combined"),
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
    ],
)
async def test_impossible_choices_are_refused(
    client: httpx.AsyncClient, fields: dict[str, Any], message: str
) -> None:
    reply = await _chat(client, **fields)
    assert reply.status_code == 400 and message in reply.json()["error"]


async def test_openai_named_function(client: httpx.AsyncClient) -> None:
    body = {
        "model": "tools",
        "messages": MESSAGES,
        "tools": [WEATHER, TIME_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "get_time"}},
        "max_tokens": 120,
        "seed": 7,
    }
    choice = (await client.post("/v1/chat/completions", json=body)).json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert [c["function"]["name"] for c in choice["message"]["tool_calls"]] == ["get_time"]


@pytest.mark.parametrize(
    ("choice", "calls"),
    [({"type": "tool", "name": "get_weather"}, 1), ({"type": "any"}, 1), ({"type": "none"}, 0)],
)
async def test_anthropic_tool_choice(client: httpx.AsyncClient, choice: Any, calls: int) -> None:
    tool = {"name": "get_weather", "input_schema": WEATHER["function"]["parameters"]}
    body = {
        "model": "tools",
        "max_tokens": 120,
        "messages": MESSAGES,
        "tools": [tool],
        "tool_choice": choice,
    }
    reply = (await client.post("/v1/messages", json=body)).json()
    uses = [b for b in reply["content"] if b["type"] == "tool_use"]
    assert len(uses) == calls
    assert reply["stop_reason"] == ("tool_use" if calls else reply["stop_reason"])
    if calls:
        assert uses[0]["name"] == "get_weather" and isinstance(uses[0]["input"]["city"], str)


@pytest.mark.starter
async def test_qwen_asked_for_a_joke_still_calls_the_forced_tool(
    isolated_store: Path, qwen_models: dict[str, str]
) -> None:
    """A 0.5B model asked for a joke answers with prose when free to; forced, it calls, in
    its own `<tool_call>` format, and "none" (tools offered in the request) keeps it to prose."""
    ((name, modelfile),) = qwen_models.items()
    create(isolated_store, name, modelfile)
    options = {"num_predict": 48, "num_ctx": 1024, "temperature": 0, "seed": 7}
    body = {"model": name, "messages": MESSAGES, "tools": [WEATHER], "stream": False}
    async with app_client(isolated_store, Scheduler(max_loaded=1)) as http:
        free = (await http.post("/api/chat", json={**body, "options": options})).json()
        forced = await http.post(
            "/api/chat", json={**body, "options": options, "tool_choice": "required"}
        )
        refused = await http.post(
            "/api/chat", json={**body, "options": options, "tool_choice": "none"}
        )
    assert "tool_calls" not in free["message"] and free["message"]["content"]
    (call,) = forced.json()["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert call["function"]["arguments"]["city"]
    assert "tool_calls" not in refused.json()["message"]
