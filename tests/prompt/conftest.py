"""Shared data for the prompt tests: Ollama's own templates and the starter Modelfile's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pollama.starters

OLLAMA_DATA = Path(__file__).parent / "data" / "ollama"


def starter_template(filename: str) -> str:
    """The TEMPLATE of a starter Modelfile shipped with pollama."""
    text = (Path(pollama.starters.__file__).parent / filename).read_text()
    match = re.search(r'^TEMPLATE """(.*?)"""', text, re.S | re.M)
    assert match, f"{filename} has no triple-quoted TEMPLATE"
    return match.group(1)


@pytest.fixture(scope="session")
def qwen_template() -> str:
    return starter_template("qwen2.5-coder-0.5b.Modelfile")
