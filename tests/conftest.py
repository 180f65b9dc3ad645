"""Shared fixtures: a plain environment and an isolated store for every test, a tiny real GGUF,
the starter GGUFs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pollama.starters import STARTERS, gguf_path
from tests.fixtures.tiny_gguf import write_tiny_gguf


@pytest.fixture(scope="session", autouse=True)
def plain_environment() -> Iterator[None]:
    """No test, nor any server a test starts, sees the user's `OLLAMA_*` settings, and clients
    reach 127.0.0.1 directly whatever proxy the machine sets."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("OLLAMA_")]:
            patch.delenv(name)
        for name in ("NO_PROXY", "no_proxy"):
            patch.setenv(name, "127.0.0.1,localhost")
        yield


@pytest.fixture(autouse=True)
def isolated_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own `OLLAMA_MODELS`, so no test sees another's models."""
    root = tmp_path_factory.mktemp("models")
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    return root


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 437 KB llama-architecture GGUF with random weights: loads and generates in ms."""
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="session")
def deep_tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with 6 idle blocks after its 2: the same numbers, 4x the layers (a
    target for which the tiny model is a perfect, cheaper draft)."""
    path = tmp_path_factory.mktemp("gguf") / "deep-tiny.gguf"
    return write_tiny_gguf(path, name="deep-tiny", idle_layers=6)


@pytest.fixture(scope="session")
def other_vocab_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model whose vocabulary has 200 more tokens: no draft model for the tiny one."""
    path = tmp_path_factory.mktemp("gguf") / "other-vocab.gguf"
    return write_tiny_gguf(path, name="other-vocab", extra_tokens=200)


@pytest.fixture(scope="session")
def starter_ggufs() -> dict[str, Path]:
    """The real starter models' GGUF files, by model name (assembled by `make test`)."""
    return {s.name: gguf_path(s) for s in STARTERS}


@pytest.fixture(scope="session")
def qwen_models(starter_ggufs: dict[str, Path]) -> dict[str, str]:
    """The qwen starter as `server_with` takes models: its name and its real Modelfile."""
    starter = next(s for s in STARTERS if s.name == "qwen2.5-coder:0.5b")
    return {starter.name: starter.modelfile_text(starter_ggufs[starter.name])}
