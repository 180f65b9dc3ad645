"""A pull between two pollama servers, no registry in between: the second pulls from the
first's `/v2/`, through the API, `pollama pull` (bars on a terminal, lines in a pipe),
`pollama run` of a model it lacks, and `create` FROM a model it lacks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from pollama.store import ModelName
from tests.api.models_helpers import create_tiny
from tests.fixtures.app_server import app_server
from tests.fixtures.server import run_cli, run_in_terminal

MODELS = ("shared", "for-the-cli", "for-run", "for-create", "for-a-pipe")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, tiny_gguf: Path) -> Iterator[str]:
    """The first server, holding the tiny model under several names: `host:port`."""
    with app_server(tmp_path_factory.mktemp("peer-source")) as url:
        client = ollama.Client(host=url)
        for model in MODELS:
            create_tiny(client, model, tiny_gguf, system=f"You are {model}.")
        yield url.removeprefix("http://")


@pytest.fixture(scope="module")
def target_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("peer-target")


@pytest.fixture(scope="module")
def target(target_root: Path) -> Iterator[str]:
    """The second server, empty at first."""
    with app_server(target_root) as url:
        yield url


def _manifest(root: Path, name: str) -> bytes:
    return root.joinpath("manifests", *ModelName.parse(name).path.parts).read_bytes()


def test_a_model_pulled_from_a_peer_is_the_same_and_answers(
    source: str, target: str, target_root: Path
) -> None:
    name = f"{source}/library/shared:latest"
    client = ollama.Client(host=target)
    statuses = [p.status for p in client.pull(name, insecure=True, stream=True)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert "verifying sha256 digest" in statuses and "writing manifest" in statuses

    shown = httpx.post(f"{target}/api/show", json={"model": name}).json()
    assert shown["system"] == "You are shared."
    raw = _manifest(target_root, name)
    listed = {m.model: m.digest for m in client.list().models}
    assert listed[name] == hashlib.sha256(raw).hexdigest()  # the peer's bytes, verbatim

    answer = client.generate(model=name, prompt="hi", options={"num_predict": 3})
    assert answer.done and answer.eval_count


def test_pull_on_a_terminal_draws_a_bar_per_layer(source: str, target: str) -> None:
    status, screen = run_in_terminal(target, "pull", f"{source}/library/for-the-cli", "--insecure")
    assert status == 0, screen
    bars = set(re.findall(r"pulling ([0-9a-f]{12}): 100% ▕█+▏", screen))
    assert len(bars) >= 3  # the model, the system prompt, the config
    assert re.search(r"pulling manifest [⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", screen)
    assert re.search(r"\nsuccess *\r\n(\x1b\[\?25h)?$", screen)


def test_pull_through_a_pipe_prints_plain_lines(source: str, target: str) -> None:
    done = run_cli(target, "pull", f"{source}/library/for-a-pipe", "--insecure")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "pulling manifest"
    assert lines[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    assert any(re.fullmatch(r"pulling [0-9a-f]{12}: 100% 437 KB", line) for line in lines)
    assert "\x1b" not in done.stderr


def test_run_pulls_a_model_it_lacks_first(source: str, target: str) -> None:
    done = run_cli(target, "run", f"{source}/library/for-run", "hi", "--insecure")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == "pulling manifest"
    assert "success" in done.stderr.splitlines()
    assert done.stdout.strip()  # and then it answered


def test_run_of_a_model_no_peer_has_fails_with_the_pull_error(source: str, target: str) -> None:
    done = run_cli(target, "run", f"{source}/library/nowhere", "hi", "--insecure")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == "Error: pull model manifest: file does not exist"


def test_create_from_a_model_it_lacks_pulls_it_first(
    source: str, target: str, tmp_path: Path
) -> None:
    base = f"{source}/library/for-create"
    modelfile = tmp_path / "Modelfile"
    modelfile.write_text(f"FROM {base}\nSYSTEM derived\n")
    done = run_cli(target, "create", "derived", "-f", str(modelfile), "--insecure")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "pulling manifest"  # the server pulled the base, inside the create
    assert lines.count("success") == 2 and lines[-1] == "success"
    shown = httpx.post(f"{target}/api/show", json={"model": "derived"}).json()
    assert shown["system"] == "derived"
    assert httpx.post(f"{target}/api/show", json={"model": base}).status_code == 200


def test_create_from_a_model_no_peer_has_fails_with_the_pull_error(
    source: str, target: str
) -> None:
    reply = httpx.post(
        f"{target}/api/create",
        json={"model": "orphan", "from": f"{source}/library/nowhere", "insecure": True},
    )
    assert reply.status_code == 200  # the stream began: the error is its last line
    assert reply.text.splitlines()[-1] == '{"error":"pull model manifest: file does not exist"}'
