"""Tool calls parsed out of streamed text, split at every possible position."""

from __future__ import annotations

from typing import Any

import pytest

from pollama.prompt import PromptTemplate, ToolCallParser

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
GET = {"type": "function", "function": {"name": "get", "parameters": {}}}


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"function": {"name": name, "arguments": arguments}}


def run(parser: ToolCallParser, chunks: list[str]) -> tuple[str, list[dict[str, Any]]]:
    content, calls = "", []
    for chunk in chunks:
        text, new = parser.feed(chunk)
        content, calls = content + text, calls + new
    text, new = parser.flush()
    return content + text, calls + new


CASES = [
    (
        "<tool_call>",
        "Sure.<tool_call>\n"
        '{"name": "get_weather", "arguments": {"location": "Paris"}}\n</tool_call>',
        "Sure.",
        [call("get_weather", location="Paris")],
    ),
    (
        "<tool_call>",
        '<tool_call>\n{"name": "get_weather", "arguments": {"location": "A"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get", "parameters": {"id": 2}}\n</tool_call>',
        "",
        [call("get_weather", location="A"), call("get", id=2)],
    ),
    (
        "<tool_call>",
        '<tool_call>{"name": "get_weather", "arguments": "{\\"q\\": \\"}\\"}"}</tool_call>',
        "",
        [call("get_weather", q="}")],
    ),
    (
        "<tool_call>",
        "No tools needed, <b>bold</b> {json}.",
        "No tools needed, <b>bold</b> {json}.",
        [],
    ),
    # Whitespace before the JSON still streams as content, as in Ollama.
    (
        "{",
        '  {"name": "get_weather", "arguments": {"location": "Oslo"}}',
        "  ",
        [call("get_weather", location="Oslo")],
    ),
    (
        "{",
        'Here: {"name": "get_weather", "arguments": {}}',
        'Here: {"name": "get_weather", "arguments": {}}',
        [],
    ),
    (
        "[TOOL_CALLS]",
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Rome"}}]',
        "",
        [call("get_weather", city="Rome")],
    ),
]


@pytest.mark.parametrize("with_tools", [True, False], ids=["tools", "no-tools"])
@pytest.mark.parametrize(("tag", "text", "content", "calls"), CASES)
def test_split_everywhere(
    tag: str, text: str, content: str, calls: list[dict[str, Any]], with_tools: bool
) -> None:
    tools = [WEATHER, GET] if with_tools else None
    for cut in range(len(text) + 1):
        got = run(ToolCallParser(tag, tools), [text[:cut], text[cut:]])
        assert got == (content, calls), f"split at {cut}: {text[:cut]!r} | {text[cut:]!r}"
    assert run(ToolCallParser(tag, tools), list(text)) == (content, calls)


def test_partial_tag_is_held_back() -> None:
    parser = ToolCallParser("<tool_call>")
    assert parser.feed("Hi <tool") == ("Hi ", [])
    assert parser.feed("box") == ("<toolbox", [])
    assert parser.feed(" <tool_c") == (" ", [])
    assert parser.flush() == ("<tool_c", [])


def test_tag_comes_from_the_template(qwen_template: str) -> None:
    parser = ToolCallParser(PromptTemplate.from_model(qwen_template, None), [WEATHER])
    text = (
        "I will check.\n<tool_call>\n"
        '{"name": "get_weather", "arguments": {"location": "Paris"}}\n</tool_call>'
    )
    assert run(parser, [text]) == ("I will check.\n", [call("get_weather", location="Paris")])


def test_tool_name_prefix_waits_for_more() -> None:
    # "get" is a prefix of "get_weather": the parser must not settle on "get" too early.
    parser = ToolCallParser("<tool_call>", [GET, WEATHER])
    assert parser.feed('<tool_call>{"name": "get') == ("", [])
    _, calls = parser.feed('_weather", "arguments": {"a": 1}}')
    assert calls == [call("get_weather", a=1)]


UNTAGGED = '{"name": "get_weather", "arguments": {"location": "Paris"}}'


@pytest.mark.parametrize(
    ("text", "tools", "content", "calls"),
    [
        # A model that forgot its `<tool_call>` tag but answered with the call itself.
        (UNTAGGED, [WEATHER], "", [call("get_weather", location="Paris")]),
        ("\n" + UNTAGGED, [WEATHER], "\n", [call("get_weather", location="Paris")]),
        # JSON that names no known tool is content, and so is any reply without tools.
        ('{"answer": 42}', [WEATHER], '{"answer": 42}', []),
        (UNTAGGED, None, UNTAGGED, []),
        # In a ```json fence, as the model writes it when its cached prefix differs slightly.
        (
            "```json\n" + UNTAGGED + "\n```",
            [WEATHER],
            "",
            [call("get_weather", location="Paris")],
        ),
        ("```\n" + UNTAGGED + "\n```", [WEATHER], "", [call("get_weather", location="Paris")]),
        # A fenced object that is no call, and fenced code, stay content, fence and all.
        ('```json\n{"answer": 42}\n```', [WEATHER], '```json\n{"answer": 42}\n```', []),
        ("```python\nprint(1)\n```", [WEATHER], "```python\nprint(1)\n```", []),
        ("`x` is a name", [WEATHER], "`x` is a name", []),
        # Text first: the reply is content, as with the tag missing in Ollama.
        ("Sure: " + UNTAGGED, [WEATHER], "Sure: " + UNTAGGED, []),
    ],
)
def test_a_bare_json_call_without_the_tag_is_still_a_call(
    text: str, tools: list[dict[str, Any]] | None, content: str, calls: list[dict[str, Any]]
) -> None:
    for cut in range(len(text) + 1):
        parser = ToolCallParser("<tool_call>", tools)
        assert run(parser, [text[:cut], text[cut:]]) == (content, calls), cut
