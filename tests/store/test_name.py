"""Model names parse, validate and print as Ollama's `types/model/name.go`."""

from __future__ import annotations

import pytest

from pollama.errors import InvalidModelName
from pollama.store import ModelName


@pytest.mark.parametrize(
    ("text", "full", "shortest"),
    [
        ("llama3", "registry.ollama.ai/library/llama3:latest", "llama3:latest"),
        ("qwen2.5-coder:0.5b", "registry.ollama.ai/library/qwen2.5-coder:0.5b", "qwen2.5-coder:0.5b"),
        ("me/m", "registry.ollama.ai/me/m:latest", "me/m:latest"),
        ("host:5000/ns/m:t", "host:5000/ns/m:t", "host:5000/ns/m:t"),
        ("https://example.com/ns/m:t", "example.com/ns/m:t", "example.com/ns/m:t"),
        ("REGISTRY.OLLAMA.AI/Library/M:T", "REGISTRY.OLLAMA.AI/Library/M:T", "M:T"),
        ("host:https/namespace/model:tag", "host:https/namespace/model:tag", None),
    ],
)
def test_parse_fills_defaults_and_prints_shortest(
    text: str, full: str, shortest: str | None
) -> None:
    name = ModelName.parse(text)
    assert str(name) == full
    if shortest is not None:
        assert name.display_shortest() == shortest


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-x",
        ":tag",
        "m:",
        "/m",
        "host/name:space/model:tag",
        "ns.dot/m",
        "m@sha256:abc",
        "../../etc/passwd",
        "a/../b",
        "x" * 81,
        "m:" + "t" * 81,
        "ünicode",
        "a b",
    ],
)
def test_invalid_names_are_rejected(text: str) -> None:
    with pytest.raises(InvalidModelName, match="invalid model name"):
        ModelName.parse(text)


def test_lookup_is_case_insensitive() -> None:
    assert ModelName.parse("Llama3:Latest").matches(ModelName.parse("llama3"))
    assert not ModelName.parse("llama3:8b").matches(ModelName.parse("llama3"))


def test_manifest_path_has_four_safe_parts() -> None:
    assert ModelName.parse("me/m:t").path.parts == ("registry.ollama.ai", "me", "m", "t")
