"""Progress of pull, push and create: Ollama's bars on a terminal, plain lines through a pipe."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pollama.cli.progress import PlainView, bar_line, show_progress
from pollama.cli.transfer import NOT_AUTHORIZED, model_page
from pollama.store import ModelName
from tests.fixtures.app_server import app_server
from tests.fixtures.server import run_cli, run_in_terminal
from tests.registry.registries import docker_registry, htpasswd_line, needs_registry


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("progress-models")) as base:
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
    done = run_cli(url, "create", "piped", "-f", str(modelfile))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "gathering model components"
    assert f"copying file {digest[:12]}: 100% 437 KB" in lines
    assert lines[-1] == "success"
    assert "\x1b" not in done.stderr and done.stdout == ""


def test_create_on_a_terminal_draws_bars_and_spinners(url: str, modelfile: Path) -> None:
    status, screen = run_in_terminal(url, "create", "on-a-tty", "-f", str(modelfile))
    assert status == 0
    assert "\x1b[" in screen  # rows redrawn in place
    bar = re.search(r"copying file [0-9a-f]{12}: 100% ▕(█+)▏ 437 KB", screen)
    assert bar is not None and len(bar.group(1)) > 20
    assert re.search(r"writing manifest [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", screen)  # a spinner while it ran
    assert re.search(r"\nsuccess *\r\n(\x1b\[\?25h)?$", screen)  # the last row drawn


@needs_registry
def test_push_through_a_pipe_prints_plain_lines(
    url: str, modelfile: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with docker_registry(tmp_path_factory.mktemp("push-registry")) as registry:
        name = f"{registry}/library/pushed"
        assert run_cli(url, "create", name, "-f", str(modelfile)).returncode == 0
        done = run_cli(url, "push", name, "--insecure")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "retrieving manifest"
    assert any(re.fullmatch(r"pushing [0-9a-f]{12}: 100% 437 KB", line) for line in lines)
    assert lines[-2:] == ["pushing manifest", "success"]
    # Ollama prints where the model is: the full name (only Ollama's hosts give a page).
    assert done.stdout == f"\nYou can find your model at:\n\n\t{name}:latest\n"


@pytest.mark.parametrize(
    ("name", "page"),
    [
        ("alice/tiny", "https://ollama.com/alice/tiny"),
        ("alice/tiny:v2", "https://ollama.com/alice/tiny:v2"),
        ("registry.ollama.ai/alice/tiny:latest", "https://ollama.com/alice/tiny"),
        ("example.com:5000/team/tiny", "example.com:5000/team/tiny:latest"),
    ],
)
def test_a_pushed_model_is_found_where_ollama_says(name: str, page: str) -> None:
    assert model_page(ModelName.parse(name)) == page


@needs_registry
def test_a_push_the_registry_refuses_says_so_in_ollamas_words(
    url: str, modelfile: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("locked-registry")
    (root / "htpasswd").write_text(htpasswd_line("alice", "wonderland"))
    auth = {"htpasswd": {"realm": "pollama-tests", "path": str(root / "htpasswd")}}
    with docker_registry(root, auth) as registry:
        name = f"{registry}/team/refused"
        assert run_cli(url, "create", name, "-f", str(modelfile)).returncode == 0
        done = run_cli(url, "push", name, "--insecure")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"Error: {NOT_AUTHORIZED}"
    assert NOT_AUTHORIZED == (
        "you are not authorized to push to this namespace, create the model under a "
        "namespace you own"
    )
    assert done.stdout == ""
