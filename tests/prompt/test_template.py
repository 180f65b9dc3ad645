"""Ollama's templates rendered as Ollama renders them (`template/template_test.go`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pollama.prompt import PromptTemplate, TemplateError
from tests.prompt.conftest import OLLAMA_DATA

USER = [{"role": "user", "content": "Hello, how are you?"}]
USER_ASSISTANT_USER = [
    *USER,
    {"role": "assistant", "content": "I'm doing great. How can I help you today?"},
    {"role": "user", "content": "I'd like to show off how chat templating works!"},
]
CASES = {
    "user": USER,
    "user-assistant-user": USER_ASSISTANT_USER,
    "system-user-assistant-user": [
        {"role": "system", "content": "You are a helpful assistant."},
        *USER_ASSISTANT_USER,
    ],
}
# Ollama's test strips one trailing space from these templates' outputs before comparing.
TRAILING_SPACE = {"chatqa", "llama2-chat", "mistral-instruct", "openchat", "vicuna"}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("path", sorted(OLLAMA_DATA.glob("*.gotmpl")), ids=lambda p: p.stem)
def test_ollama_library_templates(path: Path, case: str) -> None:
    tmpl = PromptTemplate.from_model(path.read_text(), None)
    out = tmpl.render(CASES[case])
    if path.stem in TRAILING_SPACE and out.endswith(" "):
        out = out[:-1]
    assert out == (OLLAMA_DATA / "testdata" / path.name / case).read_text()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
            "{{ .Content }}<|eot_id|>\n{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
            "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
        ),
        (
            (OLLAMA_DATA / "gemma3-instruct.gotmpl").read_text(),
            "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n\n",
        ),
        (
            (OLLAMA_DATA / "gemma-instruct.gotmpl").read_text(),
            "<start_of_turn>user\nBe brief.\nHi<end_of_turn>\n<start_of_turn>model\n",
        ),
        (
            (OLLAMA_DATA / "mistral-instruct.gotmpl").read_text(),
            "[INST] Be brief.\n\nHi[/INST]",
        ),
    ],
    ids=["llama3", "gemma3", "gemma2", "mistral"],
)
def test_system_and_user(source: str, expected: str) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert PromptTemplate.from_model(source, None).render(messages) == expected


@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ("{{ .Prompt }}", ["prompt", "response"]),
        ("{{ .System }} {{ .Prompt }}", ["prompt", "response", "system"]),
        ("{{ .System }} {{ .Prompt }} {{ .Response }}", ["prompt", "response", "system"]),
        (
            "{{ with .Tools }}{{ . }}{{ end }} {{ .System }} {{ .Prompt }}",
            ["prompt", "response", "system", "tools"],
        ),
        (
            "{{ range .Messages }}{{ .Role }} {{ .Content }}{{ end }}",
            ["content", "messages", "role"],
        ),
        (
            '{{ range .Messages }}{{ if eq .Role "tool" }}Tool Result: {{ .ToolName }} '
            "{{ .Content }}{{ end }}{{ end }}",
            ["content", "messages", "role", "toolname"],
        ),
    ],
)
def test_vars(source: str, variables: list[str]) -> None:
    tmpl = PromptTemplate.from_model(source, None)
    assert tmpl.vars == variables  # type: ignore[attr-defined]


MISTRAL_TURNS = [
    {"role": "user", "content": "Hello friend!"},
    {"role": "assistant", "content": "Hello human!"},
    {"role": "user", "content": "What is your name?"},
]


@pytest.mark.parametrize(
    ("source", "messages", "expected"),
    [
        # Legacy (no .Messages) templates run once per turn; the last turn stops at .Response.
        (
            "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] ",
            MISTRAL_TURNS,
            "[INST] Hello friend![/INST] Hello human![INST] What is your name?[/INST] ",
        ),
        (
            "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] {{ .Response }}",
            [{"role": "system", "content": "You are a helpful assistant!"}, *MISTRAL_TURNS],
            "[INST] You are a helpful assistant!\n\nHello friend![/INST] Hello human![INST] "
            "What is your name?[/INST] ",
        ),
        (
            "[INST] {{ .Prompt }}[/INST] {{ .Response }}",
            [*MISTRAL_TURNS, {"role": "assistant", "content": "My name is Ollama and I"}],
            "[INST] Hello friend![/INST] Hello human![INST] What is your name?[/INST] "
            "My name is Ollama and I",
        ),
        (
            "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
            "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}"
            "<|im_start|>assistant\n{{ .Response }}<|im_end|>\n",
            [{"role": "system", "content": "You are a helpful assistant!"}, *MISTRAL_TURNS],
            "<|im_start|>system\nYou are a helpful assistant!<|im_end|>\n"
            "<|im_start|>user\nHello friend!<|im_end|>\n<|im_start|>assistant\nHello human!"
            "<|im_end|>\n<|im_start|>user\nWhat is your name?<|im_end|>\n<|im_start|>assistant\n",
        ),
        # Consecutive same-role messages merge with a blank line.
        (
            "{{ range .Messages }}[{{ .Role }}:{{ .Content }}]{{ end }}",
            [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
            "[user:a\n\nb]",
        ),
        # ... but tool results never do, and all system messages make .System.
        (
            "{{ .System }}|{{ range .Messages }}[{{ .Role }}:{{ .Content }}]{{ end }}",
            [
                {"role": "system", "content": "s1"},
                {"role": "tool", "content": "1", "tool_name": "a"},
                {"role": "tool", "content": "2", "tool_name": "b"},
                {"role": "system", "content": "s2"},
            ],
            "s1\n\ns2|[system:s1][tool:1][tool:2][system:s2]",
        ),
    ],
    ids=[
        "mistral-no-response",
        "mistral-system",
        "mistral-assistant-prefill",
        "chatml",
        "merge",
        "tools",
    ],
)
def test_execute_with_messages(source: str, messages: list[dict[str, Any]], expected: str) -> None:
    assert PromptTemplate.from_model(source, None).render(messages) == expected


SUFFIX_TEMPLATE = (
    "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>\n"
    "{{- else }}{{ .Prompt }}\n{{- end }}"
)


def test_suffix() -> None:
    tmpl = PromptTemplate.from_model(SUFFIX_TEMPLATE, None)
    assert tmpl.supports_insert
    assert (
        tmpl.render([], prompt="def add(", suffix="return x")
        == "<PRE> def add( <SUF>return x <MID>"
    )
    assert tmpl.render([{"role": "user", "content": "hello"}]) == "hello"


TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the <weather> & more",
        "parameters": {
            "type": "object",
            "properties": {
                "unit": {"type": "string", "enum": ["c", "f"]},
                "location": {"type": "string", "description": "City"},
            },
            "required": ["location"],
        },
    },
}
TOOL_JSON = (
    '{"name":"get_weather","description":"Get the \\u003cweather\\u003e \\u0026 more",'
    '"parameters":{"type":"object","required":["location"],"properties":{"location":'
    '{"type":"string","description":"City"},"unit":{"type":"string","enum":["c","f"]}}}}'
)


def test_tools_and_arguments_print_as_go_json() -> None:
    source = (
        "{{ range .Tools }}{{ .Function }}|{{ json .Function.Parameters.Required }}{{ end }}|"
        "{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Name }}"
        "{{ .Function.Arguments }}{{ .Function.Arguments.city }}{{ end }}{{ end }}"
    )
    call = {"function": {"name": "get_weather", "arguments": {"z": 1.0, "city": "<Paris>"}}}
    out = PromptTemplate.from_model(source, None).render(
        [{"role": "assistant", "content": "", "tool_calls": [call]}], tools=[TOOL]
    )
    assert (
        out == f'{TOOL_JSON}|["location"]|get_weather{{"city":"\\u003cParis\\u003e","z":1}}<Paris>'
    )


def test_to_typescript_type() -> None:
    source = (
        "{{ range .Messages }}{{ end }}{{ range .Tools }}{{ range $k, $v := "
        ".Function.Parameters.Properties }}{{ $k }}: {{ toTypeScriptType $v }}; {{ end }}{{ end }}"
    )
    tool = {
        "type": "function",
        "function": {
            "name": "f",
            "parameters": {
                "type": "object",
                "properties": {
                    "a": {"type": "integer"},
                    "b": {"type": ["string", "null"]},
                    "c": {"anyOf": [{"type": "array"}, {"type": "object"}]},
                },
            },
        },
    }
    out = PromptTemplate.from_model(source, None).render([], tools=[tool])
    assert out == "a: number; b: string | null; c: any[] | Record<string, any>; "


def test_think_values() -> None:
    source = "{{ range .Messages }}{{ end }}{{ .Think }} {{ .ThinkLevel }} {{ .IsThinkSet }}"
    tmpl = PromptTemplate.from_model(source, None)
    assert tmpl.render([], think=None) == "false  false"
    assert tmpl.render([], think=True) == "true medium true"
    assert tmpl.render([], think=False) == "false  true"
    assert tmpl.render([], think="high") == "true high true"


def test_current_date() -> None:
    import datetime

    tmpl = PromptTemplate.from_model(
        "{{ range .Messages }}{{ end }}Today is {{ currentDate }}", None
    )
    assert tmpl.render([]) == f"Today is {datetime.date.today().isoformat()}"


def test_capabilities_and_tags(qwen_template: str) -> None:
    qwen = PromptTemplate.from_model(qwen_template, None)
    assert (qwen.supports_tools, qwen.supports_insert, qwen.supports_thinking) == (
        True,
        True,
        False,
    )
    assert qwen.tool_call_tag == "<tool_call>"
    plain = PromptTemplate.from_model(None, None)
    assert plain.source == "{{ .Prompt }}"
    assert (plain.supports_tools, plain.supports_insert) == (False, False)
    assert plain.tool_call_tag == "{"
    thinker = PromptTemplate.from_model(
        "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}"
        "{{ .Content }}{{ end }}",
        None,
    )
    assert thinker.thinking_tags == ("<think>", "</think>")
    assert thinker.supports_thinking


def test_bad_template_is_a_400() -> None:
    with pytest.raises(TemplateError) as err:
        PromptTemplate.from_model("{{ .Prompt ", None)
    assert err.value.status_code == 400
    assert "unclosed action" in str(err.value)
    with pytest.raises(TemplateError, match="undefined template specified"):
        PromptTemplate.from_model('{{define "x"}}{{template "x"}}{{end}}{{template "x"}}', None)


QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
QWEN_TOOLS_SYSTEM = (
    "<|im_start|>system\n" + QWEN_SYSTEM + "\n\n# Tools\n\n"
    "You may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools>:\n<tools>\n"
    '{"type": "function", "function": ' + TOOL_JSON + "}\n</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> with NO other text. Do not include any backticks or ```json.\n"
    '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
    "<|im_end|>\n"
)


@pytest.mark.parametrize(
    ("messages", "tools", "expected"),
    [
        (
            [{"role": "system", "content": QWEN_SYSTEM}, {"role": "user", "content": "hi"}],
            None,
            f"<|im_start|>system\n{QWEN_SYSTEM}<|im_end|>\n"
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
        ),
        (
            [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "bye"},
            ],
            None,
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
            "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n",
        ),
        (
            [
                {"role": "system", "content": QWEN_SYSTEM},
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"function": {"name": "get_weather", "arguments": {"location": "Paris"}}}
                    ],
                },
                {"role": "tool", "content": "22C", "tool_name": "get_weather"},
            ],
            [TOOL],
            QWEN_TOOLS_SYSTEM + "<|im_start|>user\nweather?<|im_end|>\n"
            '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": '
            '{"location":"Paris"}}\n</tool_call><|im_end|>\n'
            "<|im_start|>user\n<tool_response>\n22C\n</tool_response><|im_end|>\n"
            "<|im_start|>assistant\n",
        ),
        (  # an assistant message last is continued, not closed
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hel"}],
            None,
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nHel",
        ),
    ],
    ids=["system-user", "multi-turn", "tools", "prefill"],
)
def test_qwen_starter_template(
    qwen_template: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    expected: str,
) -> None:
    tmpl = PromptTemplate.from_model(qwen_template, None)
    assert tmpl.render(messages, tools=tools) == expected


def test_qwen_fill_in_the_middle(qwen_template: str) -> None:
    tmpl = PromptTemplate.from_model(qwen_template, None)
    out = tmpl.render([], prompt="def add(a, b):", suffix="    return c")
    assert out == "<|fim_prefix|>def add(a, b):<|fim_suffix|>    return c<|fim_middle|>"
