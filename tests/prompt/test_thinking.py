"""Thinking split off streamed text, at every split position."""

from __future__ import annotations

import pytest

from pollama.prompt import PromptTemplate, ThinkingParser


def run(parser: ThinkingParser, chunks: list[str]) -> tuple[str, str]:
    thinking = content = ""
    for chunk in chunks:
        t, c = parser.feed(chunk)
        thinking, content = thinking + t, content + c
    t, c = parser.flush()
    return thinking + t, content + c


@pytest.mark.parametrize(
    ("text", "thinking", "content"),
    [
        ("<think>\nLet me see.\n</think>\n\nThe answer is 4.", "Let me see.\n", "The answer is 4."),
        ("  <think>a</think>b", "a", "b"),
        ("No thinking here.", "", "No thinking here."),
        (" \n Hello", "", " \n Hello"),
        ("<think>unfinished </thi", "unfinished </thi", ""),
        ("<think>x</think>", "x", ""),
    ],
)
def test_split_everywhere(text: str, thinking: str, content: str) -> None:
    for cut in range(len(text) + 1):
        assert run(ThinkingParser(), [text[:cut], text[cut:]]) == (thinking, content), cut
    assert run(ThinkingParser(), list(text)) == (thinking, content)


def test_from_template_and_prompt_ending_in_the_tag() -> None:
    tmpl = PromptTemplate.from_model(
        "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}"
        "{{ .Content }}{{ end }}<think>",
        None,
    )
    parser = ThinkingParser.from_template(tmpl, prompt="...<think>\n")
    assert parser is not None
    assert run(parser, ["hmm</think>ok"]) == ("hmm", "ok")
    assert ThinkingParser.from_template(PromptTemplate.from_model(None, None)) is None
