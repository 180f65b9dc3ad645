"""Capabilities, from the model's files and the template it renders with, and their checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from pollama.capabilities import capabilities, require
from pollama.create import create_from_modelfile
from pollama.errors import MissingCapability
from pollama.store import Store
from tests.fixtures.tiny_gguf import THINKING_TEMPLATE, write_tiny_gguf

TOOLS_TEMPLATE = "{{ if .Tools }}{{ json .Tools }}{{ end }}{{ .Prompt }}"


@pytest.fixture
def store(isolated_store: Path) -> Store:
    return Store(isolated_store)


def _create(store: Store, name: str, modelfile: str) -> list[str]:
    list(create_from_modelfile(store, name, modelfile))
    return capabilities(store.get_model(name))


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (None, ["completion"]),
        (TOOLS_TEMPLATE, ["completion", "tools"]),
        ("{{ .Prompt }}<fim>{{ .Suffix }}", ["completion", "insert"]),
        (THINKING_TEMPLATE, ["completion", "thinking"]),
    ],
)
def test_the_template_decides_tools_insert_thinking(
    store: Store, tiny_gguf: Path, template: str | None, expected: list[str]
) -> None:
    modelfile = f"FROM {tiny_gguf}"
    if template is not None:
        modelfile += f'\nTEMPLATE """{template}"""'
    assert _create(store, "m", modelfile) == expected


def test_a_gguf_chat_template_with_think_tags_means_thinking(store: Store, tmp_path: Path) -> None:
    jinja = "{% for m in messages %}{{ m['content'] }}{% endfor %}<think>\n</think>"
    path = write_tiny_gguf(tmp_path / "thinker.gguf", chat_template=jinja)
    assert _create(store, "thinker", f"FROM {path}") == ["completion", "thinking"]


def test_check_refuses_with_ollamas_messages(store: Store, tiny_gguf: Path) -> None:
    list(create_from_modelfile(store, "plain", f"FROM {tiny_gguf}"))
    model = store.get_model("plain")
    have = capabilities(model)
    require(model, have, "plain", ["completion"], verb="chat")
    with pytest.raises(MissingCapability, match=r'^"plain" does not support thinking$'):
        require(model, have, "plain", ["completion", "thinking"], verb="chat")
    full_name = r"^registry\.ollama\.ai/library/plain:latest"
    with pytest.raises(MissingCapability, match=full_name + " does not support tools$"):
        require(model, have, "plain", ["tools"], verb="chat")
    with pytest.raises(MissingCapability, match=r"does not support insert$"):
        require(model, have, "plain", ["insert"], verb="generate")
    with pytest.raises(MissingCapability, match=r"does not support vision$"):
        require(model, have, "plain", ["vision"], verb="generate")
