"""Hypothesis fuzz of what reads untrusted text and bytes: the Modelfile parser, the Go
template engine and the GGUF reader. Each input is either accepted or refused with the
reader's own 400, never another exception, never a hang."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollama.errors import InvalidRequest
from pollama.gguf import read_gguf
from pollama.modelfile import parse as parse_modelfile
from pollama.prompt import PromptTemplate, TemplateError
from tests.fixtures.tiny_gguf import write_tiny_gguf

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

MODELFILE_WORDS = ["FROM", "from", "PARAMETER", "TEMPLATE", "SYSTEM", "ADAPTER", "LICENSE",
                   "MESSAGE", "REQUIRES", "#", '"""', '"', " ", "\n", "\r\n", "\t", "user",
                   "num_ctx", "stop", "llama3", "x", "4096", "\\", "\x00", "é"]  # fmt: skip
GO_WORDS = ["{{", "}}", "{{-", "-}}", " ", "if", "else", "end", "range", "with", "define",
            "template", "block", "break", "continue", ".", ".Messages", ".Prompt", ".System",
            "$", "$x", ":=", "=", "|", "(", ")", '"a"', "`b`", "1", "-2", "0x1F", "'c'", "nil",
            "and", "or", "not", "eq", "len", "index", "slice", "printf", "json", "/*", "*/",
            "text", "\n", ","]  # fmt: skip


def _joined(words: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(words) | st.text(max_size=3), max_size=40).map("".join)


@FUZZ
@given(text=_joined(MODELFILE_WORDS) | st.text(max_size=200))
def test_the_modelfile_parser_accepts_or_refuses(text: str) -> None:
    try:
        parsed = parse_modelfile(text)
    except InvalidRequest as exc:
        assert exc.status_code == 400
        return
    # What parses prints back to a Modelfile that parses to the same commands.
    assert parse_modelfile(str(parsed)).commands == parsed.commands


_MESSAGES = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
             {"role": "assistant", "content": "a"}]  # fmt: skip


@FUZZ
@given(source=_joined(GO_WORDS))
def test_the_go_template_engine_accepts_or_refuses(source: str) -> None:
    try:
        template = PromptTemplate.from_model(source, None)
        template.render(list(_MESSAGES), prompt="p")
    except TemplateError as exc:
        assert exc.status_code == 400


@pytest.fixture(scope="module")
def gguf_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")
    return path.read_bytes()


_names = itertools.count()


@FUZZ
@given(data=st.data())
def test_the_gguf_reader_accepts_or_refuses(
    tmp_path_factory: pytest.TempPathFactory, gguf_bytes: bytes, data: st.DataObject
) -> None:
    raw = bytearray(gguf_bytes)
    header = 8192  # counts, keys, the vocabulary and tensor infos all live in the first pages
    edits = data.draw(st.lists(st.tuples(st.integers(0, header), st.integers(0, 255)), max_size=8))
    for at, value in edits:
        raw[at] = value
    cut = data.draw(st.none() | st.integers(0, len(raw)))
    path = tmp_path_factory.getbasetemp() / f"fuzz-{next(_names)}.gguf"
    path.write_bytes(bytes(raw[:cut]))
    try:
        info = read_gguf(path, full_arrays=True)
    except InvalidRequest as exc:
        assert exc.status_code == 400
    else:
        assert isinstance(info.metadata, dict)
    finally:
        path.unlink()
