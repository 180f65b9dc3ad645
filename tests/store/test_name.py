"""Model names parse, validate and print as Ollama's `types/model/name.go`."""

from __future__ import annotations

import pytest

from pollama.errors import InvalidModelName
from pollama.store import ModelName

# The long parts of Ollama's `name_test.go`: the longest valid host and other parts.
P80 = "8" * 80
P350 = "3" * 350


@pytest.mark.parametrize(
    ("text", "full", "shortest"),
    [
        ("llama3", "registry.ollama.ai/library/llama3:latest", "llama3:latest"),
        (
            "qwen2.5-coder:0.5b",
            "registry.ollama.ai/library/qwen2.5-coder:0.5b",
            "qwen2.5-coder:0.5b",
        ),
        (
            "registry.ollama.ai/library/dolphin-mistral:7b-v2.6-dpo-laser-q6_K",
            "registry.ollama.ai/library/dolphin-mistral:7b-v2.6-dpo-laser-q6_K",
            "dolphin-mistral:7b-v2.6-dpo-laser-q6_K",
        ),
        ("scheme://host:port/namespace/model:tag", "host:port/namespace/model:tag", None),
        ("h/nn/mm:t", "h/nn/mm:t", "h/nn/mm:t"),
        ("host/library/model:tag", "host/library/model:tag", "host/library/model:tag"),
        ("_why/_the/_lucky:_stiff", "_why/_the/_lucky:_stiff", None),
        (f"{P350}/{P80}/{P80}:{P80}", f"{P350}/{P80}/{P80}:{P80}", None),
        ("me/m", "registry.ollama.ai/me/m:latest", "me/m:latest"),
        ("host:5000/ns/m:t", "host:5000/ns/m:t", "host:5000/ns/m:t"),
        ("https://example.com/ns/m:t", "example.com/ns/m:t", "example.com/ns/m:t"),
        ("registry.ollama.ai/namespace/model:tag", None, "namespace/model:tag"),
        ("REGISTRY.OLLAMA.AI/Library/M:T", "REGISTRY.OLLAMA.AI/Library/M:T", "M:T"),
        ("host:https/namespace/model:tag", "host:https/namespace/model:tag", None),
    ],
)
def test_parse_fills_defaults_and_prints_shortest(
    text: str, full: str | None, shortest: str | None
) -> None:
    name = ModelName.parse(text)
    if full is not None:
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
        " llama3",
        "/nn/mm",
        "//",
        "//mm",
        "hh//",
        "mm:",
        "^",
        "a://b",
        "hh/-nn/mm:tt",
        "hh/nn/mm:-tt",
        f"{P350}3/{P80}/{P80}:{P80}",
        f"{P80}/{P80}8/{P80}:{P80}",
        "host/namespace/model:tag/x",
        "h/n/m/x:t",
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
