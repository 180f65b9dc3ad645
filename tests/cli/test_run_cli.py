"""`pollama run`: one-shot, piped stdin, `--verbose`, and the REPL, against a live server."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pollama.cli.answer import THINKING_CLOSES, THINKING_OPENS, WordWrap, go_duration, stream_answer
from pollama.cli.main import cli
from pollama.cli.repl import repl
from pollama.cli.session import Session
from pollama.client import Client
from tests.api.generate_helpers import server_with
from tests.fixtures.tiny_gguf import THINKING_TEMPLATE


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, tiny_gguf: Path) -> Iterator[str]:
    root = tmp_path_factory.mktemp("run-models")
    # Seeded, so every answer is the same six tokens (random weights can draw EOS sooner).
    modelfile = (
        f"FROM {tiny_gguf}\nPARAMETER num_predict 6\nPARAMETER num_ctx 256\nPARAMETER seed 42\n"
    )
    thinker = f'{modelfile}TEMPLATE """{THINKING_TEMPLATE}"""\n'
    with server_with(root, {"tiny": modelfile, "thinker": thinker}) as base:
        yield base


def _run(url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["run", *args], input=stdin, env={"OLLAMA_HOST": url})
    return result.exit_code, result.stdout, result.stderr


def test_one_shot_prints_the_answer(url: str) -> None:
    code, out, _ = _run(url, "tiny", "hello", "there")
    assert code == 0
    assert out.endswith("\n") and len(out) > 1


def test_piped_stdin_is_the_prompt(url: str) -> None:
    code, out, _ = _run(url, "tiny", stdin="from a pipe\n")
    assert code == 0 and len(out.strip()) > 0


def test_verbose_prints_timings_to_stderr(url: str) -> None:
    code, _, err = _run(url, "tiny", "hi", "--verbose", "--keepalive", "1m", "--nowordwrap")
    assert code == 0
    for label in (
        "total duration:",
        "load duration:",
        "prompt eval count:",
        "prompt eval rate:",
        "eval count:",
        "eval duration:",
        "eval rate:",
    ):
        assert label in err
    assert re.search(r"^eval count: +6 token\(s\)$", err, re.MULTILINE), err


def test_format_json_is_sent(url: str) -> None:
    code, _, _ = _run(url, "tiny", "x", "--format", "json")
    assert code == 0


def test_a_model_it_cannot_pull_is_an_error(url: str) -> None:
    # As Ollama's run, a model the server lacks is pulled first; nothing listens on port 1.
    code, _, err = _run(url, "127.0.0.1:1/library/nope", "hi", "--insecure")
    assert code == 1
    assert err.splitlines()[0] == "pulling manifest"
    assert err.splitlines()[-1].startswith("Error: pull model manifest: could not connect")


def test_repl_keeps_history_and_runs_commands(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    lines = iter(["/set verbose", "hello", '"""two', 'lines"""', "/unknown", "/?", "/bye", "never"])
    session = Session("tiny")
    client = Client(url)
    try:
        repl(client, session, lambda prompt: next(lines))
    finally:
        client.close()
    assert [m["role"] for m in session.messages] == ["user", "assistant"] * 2
    assert session.messages[2]["content"] == "two\nlines"
    out = capsys.readouterr()
    assert "Unknown command '/unknown'. Type /? for help" in out.out
    assert "/bye" in out.out  # the help text
    assert "eval rate:" in out.err  # verbose after /set verbose
    assert next(lines) == "never"  # /bye ended the session


def test_repl_clear_and_eof(url: str) -> None:
    session = Session("tiny")
    session.messages = [{"role": "user", "content": "old"}]
    lines = iter(["/clear", "/set parameter temperature 0.5", "/set system Be terse."])

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    repl(Client(url), session, read)
    assert session.messages == []
    assert session.options == {"temperature": 0.5}
    assert session.system == "Be terse."


@pytest.mark.parametrize(
    ("ns", "text"),
    [(1_500_000_000, "1.5s"), (12_345_000, "12.345ms"), (2_000, "2µs"), (999, "999ns")],
)
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def test_word_wrap_breaks_between_words_only() -> None:
    text = "The quick brown fox jumps over the lazy dog.\nA new line here"
    wrap = WordWrap(10)
    out = "".join(wrap.feed(text[i : i + 3]) for i in range(0, len(text), 3)) + wrap.flush()
    assert out == "The quick \nbrown fox \njumps over \nthe lazy \ndog.\nA new line \nhere"
    assert all(len(line.rstrip()) <= 10 for line in out.splitlines())


def _script(*lines: str) -> Callable[[str], str]:
    """A `read` that answers `lines` in turn, then ends the input."""
    pending = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(pending)
        except StopIteration:
            raise EOFError from None

    return read


def test_repl_show_list_and_parameters(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    session = Session("tiny")
    lines = ["/set parameter temperature 0.5", "/set parameter num_ctx abc", "/show parameters"]
    lines += ["/show info", "/show modelfile", "/show system", "/show", "/list", "/? show"]
    repl(Client(url), session, _script(*lines))
    out = capsys.readouterr().out
    assert session.options == {"temperature": 0.5}
    assert "Couldn't set parameter: invalid int value [abc]" in out
    assert "User defined parameters:\ntemperature" in out
    assert "Model defined parameters:\nnum_" in out and "num_predict                    6" in out
    assert "  Model\n" in out and "architecture" in out  # /show info
    assert "# Modelfile generated by" in out
    assert "No system message was specified." in out
    assert out.count("/show template     Show prompt template") == 2  # bare /show and /? show
    assert "NAME" in out and "tiny:latest" in out  # /list


def test_repl_save_then_load(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    session = Session("tiny")
    lines = ["/set system Be terse.", "/set parameter num_predict 3", "hello", "/save tiny-saved"]
    lines += ["/load tiny-saved", "/show system"]
    repl(Client(url), session, _script(*lines))
    out = capsys.readouterr().out
    assert "Created new model 'tiny-saved'" in out
    assert "Loading model 'tiny-saved'" in out
    assert session.model == "tiny-saved" and session.messages == []
    shown = Client(url).request("POST", "/api/show", {"model": "tiny-saved"})
    assert shown["system"] == "Be terse."
    assert "num_predict                    3" in shown["parameters"]
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant"]


def test_a_failed_turn_leaves_the_chat_open(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    session = Session("no-such-model")
    repl(Client(url), session, _script("hello", "/load tiny", "hello again"))
    captured = capsys.readouterr()
    assert "Error: model 'no-such-model' not found" in captured.err
    assert [m["role"] for m in session.messages] == ["user", "assistant"]


def test_thinking_is_shown_between_markers_then_the_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    chunks = [{"t": "Let me ", "c": ""}, {"t": "see.", "c": ""}, {"t": "", "c": "Four."}]
    final = stream_answer(chunks, lambda c: (c["t"], c["c"]), wordwrap=False)
    out = capsys.readouterr().out
    assert out == f"{THINKING_OPENS}Let me see.\n{THINKING_CLOSES}Four.\n"
    assert (final["thinking"], final["text"]) == ("Let me see.", "Four.")
    stream_answer(chunks, lambda c: (c["t"], c["c"]), wordwrap=False, show_thinking=False)
    assert capsys.readouterr().out == "Four.\n"


def test_run_shows_a_thinking_models_thoughts(url: str) -> None:
    """The thinker's prompt ends inside `<think>`, and six random tokens never close it."""
    code, out, _ = _run(url, "thinker", "hi", "--think")
    assert code == 0 and out.startswith(THINKING_OPENS) and out.endswith(THINKING_CLOSES + "\n")
    code, out, _ = _run(url, "thinker", "hi", "--think", "--hidethinking")
    assert code == 0 and THINKING_OPENS not in out
    code, out, _ = _run(url, "thinker", "hi", "--think=false")
    assert code == 0 and THINKING_OPENS not in out
    code, _, err = _run(url, "tiny", "hi", "--think=high")
    assert code == 1 and '"tiny" does not support thinking' in err


def test_repl_think_commands_and_history(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    session = Session("thinker")
    repl(Client(url), session, _script("/set think", "hello", "/set think low", "/set nothink"))
    out = capsys.readouterr().out
    assert "Set 'think' mode." in out and "Set 'think' mode to 'low'." in out
    assert "Set 'nothink' mode." in out and session.think is False
    assert out.count(THINKING_OPENS) == 1
    assert session.messages[-1]["thinking"] and session.messages[-1]["content"] == ""
