"""GGUF Jinja chat templates, rendered in the sandbox as transformers renders them."""

from __future__ import annotations

from typing import Any

import pytest

from pollama.prompt import JinjaTemplate, PromptTemplate, TemplateError
from tests.fixtures.tiny_gguf import CHAT_TEMPLATE

QWEN_JINJA = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {{- '<|im_start|>user\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response><|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

TOOL = {"type": "function", "function": {"name": "now", "parameters": {"type": "object"}}}


def test_tiny_gguf_template() -> None:
    tmpl = PromptTemplate.from_model(None, CHAT_TEMPLATE)
    assert isinstance(tmpl, JinjaTemplate)
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]
    assert tmpl.render(messages) == "<|system|>s\n<|user|>hi\n<|assistant|>"
    assert not tmpl.supports_tools and not tmpl.supports_insert


def test_modelfile_template_wins_over_jinja() -> None:
    tmpl = PromptTemplate.from_model("{{ .Prompt }}!", CHAT_TEMPLATE)
    assert tmpl.render([{"role": "user", "content": "hi"}]) == "hi!"


@pytest.mark.parametrize(
    ("messages", "tools", "expected"),
    [
        (
            [{"role": "user", "content": "hi"}],
            None,
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
        ),
        (
            [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": "time?"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"function": {"name": "now", "arguments": {"tz": "UTC"}}}],
                },
                {"role": "tool", "content": "12:00", "tool_name": "now"},
            ],
            [TOOL],
            "<|im_start|>system\nBe terse.\n\n# Tools\n\n<tools>\n"
            '{"type": "function", "function": {"name": "now", "parameters": {"type": "object"}}}'
            "\n</tools><|im_end|>\n<|im_start|>user\ntime?<|im_end|>\n<|im_start|>assistant\n"
            '<tool_call>\n{"name": "now", "arguments": {"tz": "UTC"}}\n</tool_call><|im_end|>\n'
            "<|im_start|>user\n<tool_response>\n12:00\n</tool_response><|im_end|>\n"
            "<|im_start|>assistant\n",
        ),
    ],
    ids=["user", "tools"],
)
def test_qwen_jinja(messages: list[dict[str, Any]], tools: Any, expected: str) -> None:
    tmpl = PromptTemplate.from_model(None, QWEN_JINJA)
    assert tmpl.supports_tools
    assert tmpl.tool_call_tag == "<tool_call>"
    assert tmpl.render(messages, tools=tools) == expected


def test_bos_eos_and_helpers() -> None:
    source = (
        "{{ bos_token }}{{ strftime_now('%Y') | length }}{{ messages | length }}{{ eos_token }}"
    )
    tmpl = PromptTemplate.from_model(None, source, bos_token="<s>", eos_token="</s>")
    assert tmpl.render([{"role": "user", "content": "x"}]) == "<s>41</s>"


def test_raise_exception_is_a_400() -> None:
    tmpl = PromptTemplate.from_model(None, "{{ raise_exception('roles must alternate') }}")
    with pytest.raises(TemplateError, match="roles must alternate") as err:
        tmpl.render([])
    assert err.value.status_code == 400


def test_sandbox_blocks_python_internals() -> None:
    tmpl = PromptTemplate.from_model(None, "{{ messages.__class__.__mro__ }}")
    with pytest.raises(TemplateError):
        tmpl.render([])


def test_syntax_error() -> None:
    with pytest.raises(TemplateError, match="chat template"):
        PromptTemplate.from_model(None, "{% for %}")


@pytest.mark.parametrize(
    ("think", "expected"),
    [(None, "unset"), (False, "off"), (True, "on:none"), ("high", "on:high")],
)
def test_think_reaches_the_template_with_its_level(think: Any, expected: str) -> None:
    source = (
        "{% if enable_thinking is not defined %}unset{% elif enable_thinking %}"
        "on:{{ reasoning_effort | default('none') }}{% else %}off{% endif %}"
    )
    assert PromptTemplate.from_model(None, source).render([], think=think) == expected
