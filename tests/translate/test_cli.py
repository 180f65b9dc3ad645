"""`pollama translate` as a user runs it: stdin to stdout, the summary on stderr, its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pollama.cli.main import cli
from tests.api.generate_helpers import create
from tests.fixtures.app_server import app_server
from tests.fixtures.server import free_port

SRT = "1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n2\n00:00:03,000 --> 00:00:04,000\n♪ ♪\n"


def test_help_names_the_verb_and_its_options() -> None:
    result = CliRunner().invoke(cli, ["translate", "--help"])
    assert result.exit_code == 0
    assert "Translate subtitles or a document" in result.output
    for option in (
        "--to",
        "--from",
        "--model",
        "--parallel",
        "--bilingual",
        "--glossary",
        "--resume",
        "pollama translate movie.srt --to zh",
    ):
        assert option in result.output


def test_without_a_server_it_says_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    result = CliRunner().invoke(cli, ["translate", "-", "--to", "zh"], input=SRT)
    assert result.exit_code == 1
    assert "Error: could not connect to pollama server, run 'pollama serve'" in result.output


def test_a_missing_glossary_line_is_an_error_before_anything_is_sent(tmp_path: Path) -> None:
    glossary = tmp_path / "terms.txt"
    glossary.write_text("Anna\n")
    result = CliRunner().invoke(
        cli, ["translate", "-", "--to", "zh", "--glossary", str(glossary)], input=SRT
    )
    assert result.exit_code == 1
    assert "terms.txt, line 1: expected 'term = translation'" in result.output


def test_stdin_to_stdout_with_the_summary_on_stderr(isolated_store: Path, tiny_gguf: Path) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    with app_server(isolated_store) as url:
        done = subprocess.run(
            [sys.executable, "-m", "pollama", "translate", "-", "--to", "zh", "--model", "tiny"],
            input=SRT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "OLLAMA_HOST": url},
            check=False,
        )
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[:2] == ["1", "00:00:01,000 --> 00:00:02,000"]
    assert out[3:] == ["", "2", "00:00:03,000 --> 00:00:04,000", "♪ ♪"]
    assert "translated 1 cues" in done.stderr and "1 without words kept" in done.stderr
    # The tiny model's gibberish never passes: the cue is kept, and the summary says why.
    if out[2] == "Hello.":
        assert "1 parts left in the source language (en):\n  cue 1: " in done.stderr
