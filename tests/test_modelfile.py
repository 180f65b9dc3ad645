"""The Modelfile parser and printer follow Ollama's grammar and error messages."""

from __future__ import annotations

import re

import pytest

from pollama.errors import InvalidRequest
from pollama.modelfile import Command, ModelfileError, parse


def test_every_instruction_parses() -> None:
    text = """# a comment
FROM llama3:8b
from ./model.gguf
ADAPTER ./lora.gguf
TEMPLATE \"\"\"{{ .System }}
{{ .Prompt }}\"\"\"
SYSTEM You are "helpful".
PARAMETER temperature 0.7
PARAMETER stop <|end|>
PARAMETER stop "<|user|>"
LICENSE \"\"\"MIT
licence\"\"\"
MESSAGE user Is it blue?
MESSAGE assistant Yes.
"""
    modelfile = parse(text)
    assert [c.name for c in modelfile.commands] == [
        "model",
        "model",
        "adapter",
        "template",
        "system",
        "temperature",
        "stop",
        "stop",
        "license",
        "message",
        "message",
    ]
    assert modelfile.commands[3].args == "{{ .System }}\n{{ .Prompt }}"
    assert modelfile.commands[4].args == 'You are "helpful".'
    assert modelfile.commands[9].args == "user: Is it blue?"
    assert modelfile.parameters == {"temperature": 0.7, "stop": ["<|end|>", "<|user|>"]}


def test_print_back_round_trips() -> None:
    text = 'FROM m\nTEMPLATE """a "quoted"\nline"""\nSYSTEM " padded "\nPARAMETER stop <x>\n'
    modelfile = parse(text)
    assert str(modelfile) == text
    assert parse(str(modelfile)).commands == modelfile.commands


def test_commands_print_as_ollama_writes_them() -> None:
    assert str(Command("model", "/blobs/x")) == "FROM /blobs/x"
    assert str(Command("message", "user: hi\nthere")) == 'MESSAGE user "hi\nthere"'
    assert str(Command("num_ctx", "4096")) == "PARAMETER num_ctx 4096"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no FROM line"),
        ("SYSTEM hi", "no FROM line"),
        (
            "FROM m\nBOGUS x",
            '(line 2): command must be one of "from", "license", "template", "system", '
            '"adapter", "draft", "renderer", "parser", "parameter", "message", or "requires"',
        ),
        ("FROM m\nMESSAGE tool hi", '(line 2): message role must be one of "system", "user"'),
        ('FROM m\nSYSTEM """open', "unexpected EOF"),
        ("FROM m\nPARAMETER p", "unexpected EOF"),
        ("FROM m\nPARAMETER temperature hot", "invalid float value [hot]"),
        ("FROM m\nPARAMETER num_ctx 1.5", "invalid int value [1.5]"),
        ("FROM m\nPARAMETER use_mmap maybe", "invalid bool value [maybe]"),
        ("FROM m\nPARAMETER shiny 1", "unknown parameter 'shiny'"),
    ],
)
def test_errors_use_ollama_messages(text: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse(text).parameters  # noqa: B018 - typing the parameters raises too
    assert message in str(info.value)


def test_instructions_are_case_insensitive_and_parameters_case_sensitive() -> None:
    modelfile = parse("from m\nParameter seed 1")
    assert modelfile.commands == [Command("model", "m"), Command("seed", "1")]
    assert isinstance(parse("FROM m").commands[0], Command)
    with pytest.raises(ModelfileError):
        parse("FROM\nm")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM m\nSYSTEM\nhi", "(line 3): command must be one of"),  # the newline counts
        ("FROM m\r\nBOGUS x", "(line 3): command must be one of"),  # CR and LF both count
        ("FROM m\nPARAMETER p", "unexpected EOF"),
        ("FROM m\nPARAMETER tëmp 1", "unexpected EOF: t"),
        ("FROM m\nMESSAGE usér hi", "unexpected EOF: us"),
        ("FROM m\nMESSAGE User hi", "(line 2): message role must be one of"),
    ],
)
def test_error_positions_follow_ollamas_state_machine(text: str, message: str) -> None:
    with pytest.raises(ModelfileError) as info:
        parse(text)
    assert str(info.value).startswith(message)
    if message == "unexpected EOF":
        assert str(info.value) == message


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("PARAMETER temperature 0.123456789", 0.12345679),  # float32, as Ollama's CLI sends
        ("PARAMETER seed +5", 5),
        ("PARAMETER use_mmap TRUE", True),
        ("PARAMETER use_mmap f", False),
    ],
)
def test_parameter_values_parse_as_go_does(line: str, value: object) -> None:
    (typed,) = parse(f"FROM m\n{line}").parameters.values()
    assert typed == value


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("PARAMETER seed 5_000", "invalid int value [5_000]"),
        ("PARAMETER seed 99999999999999999999", "invalid int value [99999999999999999999]"),
        ("PARAMETER temperature 1_0", "invalid float value [1_0]"),
        ("PARAMETER temperature inf", "invalid float value [inf]"),
        ("PARAMETER temperature nan", "invalid float value [nan]"),
        ("PARAMETER temperature 1e40", "invalid float value [1e40]"),
        ("PARAMETER use_mmap tRuE", "invalid bool value [tRuE]"),
    ],
)
def test_values_go_rejects_are_rejected(line: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        parse(f"FROM m\n{line}").parameters  # noqa: B018 - typing raises


def test_deprecated_parameters_are_dropped() -> None:
    assert parse("FROM m\nPARAMETER low_vram true\nPARAMETER top_k 3").parameters == {"top_k": 3}


def test_quote_only_for_newlines_and_edge_spaces() -> None:
    assert str(Command("system", "\ttabbed")) == "SYSTEM \ttabbed"
    assert str(Command("system", " spaced")) == 'SYSTEM " spaced"'
    assert str(Command("message", "user: two\nlines")) == 'MESSAGE user "two\nlines"'
    assert str(Command("renderer", "qwen3-coder")) == "RENDERER qwen3-coder"
