"""tool_choice: which modes force a call, and the grammar that forces it, run on a real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from pollama.engine.types import CompletionRequest, SamplingOptions
from pollama.errors import InvalidRequest
from pollama.prompt import ToolCallParser
from pollama.prompt.tool_choice import ToolChoice
from tests.fixtures.tiny_runner import tiny_runner

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 12}},
            "required": ["city"],
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {}}}


def test_auto_and_none_leave_the_model_free() -> None:
    assert ToolChoice().grammar("<tool_call>", [WEATHER]) is None
    assert ToolChoice("none").grammar("<tool_call>", [WEATHER]) is None
    assert ToolChoice().offers_tools and not ToolChoice("none").offers_tools


def test_a_named_function_must_be_offered() -> None:
    with pytest.raises(InvalidRequest, match='"get_tide", which is not among the tools'):
        ToolChoice("required", "get_tide").grammar("<tool_call>", [WEATHER])
    with pytest.raises(InvalidRequest, match="at least one tool"):
        ToolChoice("required").grammar("{", [])


@pytest.mark.parametrize(
    ("tag", "opening"),
    [("<tool_call>", "<tool_call>"), ("{", "{"), ("[TOOL_CALLS]", "[TOOL_CALLS]")],
)
def test_the_grammar_writes_the_templates_format(tag: str, opening: str) -> None:
    grammar = ToolChoice("required").grammar(tag, [WEATHER, TIME])
    assert grammar is not None
    root = grammar.splitlines()[0]
    assert root.startswith(f"root ::= {opening!r}".replace("'", '"')) or tag == "{"
    assert '"\\"get_weather\\""' in grammar and '"\\"get_time\\""' in grammar


@pytest.mark.parametrize("choice", [ToolChoice("required", "get_weather"), ToolChoice("required")])
async def test_a_random_model_under_the_grammar_makes_a_call(
    tiny_gguf: Path, choice: ToolChoice
) -> None:
    """The tiny model's weights are random, so any call it makes is the grammar's doing."""
    grammar = choice.grammar("<tool_call>", [WEATHER, TIME])
    async with tiny_runner(tiny_gguf, num_ctx=512, num_parallel=1) as runner:
        sampling = SamplingOptions(num_predict=200, seed=3, temperature=1.0)
        request = CompletionRequest(prompt="weather?", sampling=sampling, grammar=grammar)
        chunks = [c async for c in runner.completion(request)]
    assert chunks[-1].done_reason == "stop"
    text = "".join(c.text for c in chunks)
    assert text.startswith("<tool_call>") and text.endswith("</tool_call>")
    parser = ToolCallParser("<tool_call>", [WEATHER, TIME])
    content, calls = parser.feed(text)
    rest, more = parser.flush()
    (call,) = calls + more
    assert content.strip() == rest.strip() == ""
    name = call["function"]["name"]
    assert name == choice.name or (choice.name is None and name in ("get_weather", "get_time"))
    if name == "get_weather":
        assert isinstance(call["function"]["arguments"]["city"], str)
