"""Progress of pull, push and create: Ollama's bars on a terminal, plain lines through a pipe."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from click.testing import CliRunner

from pollama.cli.main import cli
from pollama.cli.progress import PlainView, bar_line, show_progress
from tests.fixtures.server import live_server

POLLAMA = [sys.executable, "-m", "pollama"]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("progress-models")) as base:
        yield base


@pytest.fixture(scope="module")
def modelfile(tmp_path_factory: pytest.TempPathFactory, tiny_gguf: Path) -> Path:
    path = tmp_path_factory.mktemp("progress-mf") / "Modelfile"
    path.write_text(f"FROM {tiny_gguf}\n")
    return path


@pytest.mark.parametrize(
    ("completed", "speed", "expected"),
    [
        (
            221_000_000,
            52_000_000,
            "pulling 1d9614638d18:  45% ▕█████████           ▏ 221 MB/491 MB   52 MB/s      5s",
        ),
        (
            221_000_000,
            None,
            "pulling 1d9614638d18:  45% ▕█████████           ▏ 221 MB/491 MB" + " " * 18,
        ),
        (
            491_000_000,
            None,
            "pulling 1d9614638d18: 100% ▕████████████████████▏ 491 MB" + " " * 25,
        ),
        (
            1_000_000,
            1_000,
            "pulling 1d9614638d18:   0% ▕                 ▏   1 MB/491 MB    1 KB/s  136h6m40s",
        ),
    ],
)
def test_a_bar_is_laid_out_as_ollamas(completed: int, speed: float | None, expected: str) -> None:
    width = len("pulling 1d9614638d18: 100% ") + 4 + 20 + 31
    line = bar_line("pulling 1d9614638d18:", completed, 491_000_000, width=width, speed=speed)
    assert line == expected


def test_plain_lines_show_each_status_once_and_each_layer_by_tenths() -> None:
    digest = "sha256:" + "ab" * 32
    chunks = [
        {"status": "pulling manifest"},
        {"status": "pulling manifest"},
        {"status": "pulling abababababab", "digest": digest, "total": 1000},  # nothing yet
        *(
            {"status": "pulling abababababab", "digest": digest, "total": 1000, "completed": n}
            for n in range(50, 1001, 50)
        ),
        {"status": "verifying sha256 digest"},
        {"status": "success"},
    ]
    out = io.StringIO()
    show_progress(chunks, PlainView(out))
    lines = out.getvalue().splitlines()
    assert lines[0] == "pulling manifest"
    assert lines[1] == "pulling abababababab:   5% 50 B/1 KB"
    assert lines[2] == "pulling abababababab:  10% 100 B/1 KB"
    assert lines[-3] == "pulling abababababab: 100% 1 KB"
    assert lines[-2:] == ["verifying sha256 digest", "success"]
    assert len(lines) == 1 + 11 + 2


def test_create_through_a_pipe_prints_plain_lines(
    url: str, modelfile: Path, tiny_gguf: Path
) -> None:
    digest = hashlib.sha256(tiny_gguf.read_bytes()).hexdigest()
    done = subprocess.run(
        [*POLLAMA, "create", "piped", "-f", str(modelfile)],
        env={**os.environ, "OLLAMA_HOST": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "gathering model components"
    assert f"copying file {digest[:12]}: 100% 437 KB" in lines
    assert lines[-1] == "success"
    assert "\x1b" not in done.stderr and done.stdout == ""


def test_create_on_a_terminal_draws_bars_and_spinners(url: str, modelfile: Path) -> None:
    child = pexpect.spawn(
        POLLAMA[0],
        [*POLLAMA[1:], "create", "on-a-tty", "-f", str(modelfile)],
        env={**os.environ, "OLLAMA_HOST": url, "TERM": "xterm"},
        dimensions=(24, 100),
        timeout=120,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    screen = child.before.decode()
    assert "\x1b[" in screen  # rows redrawn in place
    bar = re.search(r"copying file [0-9a-f]{12}: 100% ▕(█+)▏ 437 KB", screen)
    assert bar is not None and len(bar.group(1)) > 20
    assert re.search(r"writing manifest [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", screen)  # a spinner while it ran
    assert re.search(r"\nsuccess *\r\n(\x1b\[\?25h)?$", screen)  # the last row drawn


@pytest.mark.parametrize(
    ("command", "help_line"),
    [
        ("pull", "Pull a model from a registry"),
        ("push", "Push a model to a registry"),
        ("pull", "--insecure  Use an insecure registry"),
        ("push", "--insecure  Use an insecure registry"),
        ("run", "--insecure"),
    ],
)
def test_help(command: str, help_line: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert help_line in result.output
