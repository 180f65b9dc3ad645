"""Generate and chat prompt building: `render_generate` and `chat_prompt`'s truncation."""

from __future__ import annotations

from typing import Any

import pytest

from pollama.errors import InvalidRequest
from pollama.prompt import PromptTemplate, chat_prompt, render_generate

ROLES = "{{ range .Messages }}{{ .Role }}: {{ .Content }}\n{{ end }}"


async def count_words(text: str) -> list[int]:
    """A stand-in tokenizer: one token per word."""
    return list(range(len(text.split())))


HISTORY = [
    {"role": "system", "content": "be nice"},  # 3 tokens rendered ("system:", "be", "nice")
    {"role": "user", "content": "one two three"},  # 4
    {"role": "assistant", "content": "four five"},  # 3
    {"role": "user", "content": "six"},  # 2
]


@pytest.mark.parametrize(
    ("num_ctx", "expected", "dropped", "tokens"),
    [
        (12, "system: be nice\nuser: one two three\nassistant: four five\nuser: six\n", 0, 12),
        (11, "system: be nice\nassistant: four five\nuser: six\n", 1, 8),
        (8, "system: be nice\nassistant: four five\nuser: six\n", 1, 8),
        (7, "system: be nice\nuser: six\n", 2, 5),
        # Even when it does not fit, the system messages and the last message stay.
        (2, "system: be nice\nuser: six\n", 2, 5),
    ],
)
async def test_truncation(num_ctx: int, expected: str, dropped: int, tokens: int) -> None:
    tmpl = PromptTemplate.from_model(ROLES, None)
    out = await chat_prompt(tmpl, HISTORY, tools=None, num_ctx=num_ctx, tokenize=count_words)
    assert (out.text, out.dropped_messages, out.prompt_tokens) == (expected, dropped, tokens)
    assert tmpl.render(out.messages, tools=None) == expected  # the messages it rendered


async def test_no_truncate_reports_overflow() -> None:
    tmpl = PromptTemplate.from_model(ROLES, None)
    with pytest.raises(InvalidRequest, match="prompt is 12 tokens, larger than num_ctx 11"):
        await chat_prompt(
            tmpl, HISTORY, tools=None, num_ctx=11, tokenize=count_words, truncate=False
        )


async def test_images_count_768_tokens_and_are_tagged() -> None:
    tmpl = PromptTemplate.from_model(ROLES, None)
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "look", "images": ["aGk="]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "and [img] this", "images": ["aGk="]},
    ]
    out = await chat_prompt(tmpl, messages, tools=None, num_ctx=4096, tokenize=count_words)
    assert out.text == "user: [img-0]look\nassistant: ok\nuser: and [img-1] this\n"
    assert out.prompt_tokens == 8 + 2 * 768
    out = await chat_prompt(tmpl, messages, tools=None, num_ctx=1000, tokenize=count_words)
    assert out.dropped_messages == 1
    assert out.text == "assistant: ok\nuser: and [img-0] this\n"


async def test_tools_reach_the_template(qwen_template: str) -> None:
    tmpl = PromptTemplate.from_model(qwen_template, None)
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    out = await chat_prompt(
        tmpl, [{"role": "user", "content": "x"}], tools=[tool], num_ctx=4096, tokenize=count_words
    )
    assert '{"type": "function", "function": {"name":"f","description":"","parameters":' in out.text


SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


@pytest.mark.parametrize(
    ("source", "kwargs", "expected"),
    [
        ("{{ .Prompt }}", {"system": "ignored"}, "Why?"),
        ("{{ .System }}|{{ .Prompt }}", {"system": "S"}, "S|Why?"),
        (
            "qwen",
            {"system": SYSTEM},
            f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n"
            "<|im_start|>assistant\n",
        ),
        (
            "qwen",
            {"system": None, "suffix": "end"},
            "<|fim_prefix|>Why?<|fim_suffix|>end<|fim_middle|>",
        ),
        # A template without .Suffix ignores the suffix.
        ("{{ .Prompt }}", {"system": None, "suffix": "end"}, "Why?"),
        (
            "{{ range .Messages }}[{{ .Role }}] {{ .Content }} {{ end }}",
            {
                "system": "S",
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": "b"},
                ],
            },
            "[system] S [user] a [assistant] b [user] Why? ",
        ),
    ],
)
def test_render_generate(
    qwen_template: str, source: str, kwargs: dict[str, Any], expected: str
) -> None:
    tmpl = PromptTemplate.from_model(qwen_template if source == "qwen" else source, None)
    assert render_generate(tmpl, prompt="Why?", **kwargs) == expected
