"""Helpers for the generate/chat/run tests: a live server over a store holding test models."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.app_server import app_server

# Greedy-ish, short and seeded: the tiny model's gibberish, the same every time.
TINY_OPTIONS: dict[str, Any] = {"num_predict": 8, "seed": 42, "num_ctx": 256}


# A tool the starter model is asked to call (in the native and the OpenAI tests).
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city"}},
            "required": ["city"],
        },
    },
}


def create(root: Path, name: str, modelfile: str) -> None:
    """Create `name` in the store at `root` from a Modelfile text. A model built on a
    starter GGUF is made once per session and linked into each store that asks for it:
    making it copies and hashes a 250-490 MB file, seconds no test needs to spend again."""
    if _on_a_starter(modelfile):
        made = _MADE.get((name, modelfile))
        if made is None:
            made = _MADE[(name, modelfile)] = Path(_MADE_ROOT.name) / str(len(_MADE))
            _create(made, name, modelfile)
        _link_store(made, root)
    else:
        _create(root, name, modelfile)


# The stores the starter models were first made in, by (name, Modelfile).
_MADE: dict[tuple[str, str], Path] = {}
_MADE_ROOT = tempfile.TemporaryDirectory(prefix="pollama-starters-made-")


def _create(root: Path, name: str, modelfile: str) -> None:
    from pollama.create import create_from_modelfile
    from pollama.store import Store

    for _ in create_from_modelfile(Store(root), name, modelfile):
        pass


def _on_a_starter(modelfile: str) -> bool:
    from pollama.starters import cache_dir

    first = modelfile.strip().splitlines()[0] if modelfile.strip() else ""
    return first.upper().startswith("FROM ") and Path(first[5:].strip()).parent == cache_dir()


def _link_store(source: Path, target: Path) -> None:
    """`source`'s files in `target`: blobs as hard links (a store never writes a blob in
    place), the rest (manifests) as new files."""
    for path in source.rglob("*"):
        copy = target / path.relative_to(source)
        if not path.is_file() or copy.exists():
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.name == "blobs":
            os.link(path, copy)
        else:
            shutil.copyfile(path, copy)


@contextmanager
def server_with(root: Path, models: dict[str, str], **env: str) -> Iterator[str]:
    """A live server over `root` after creating `models` (name -> Modelfile text) there."""
    for name, modelfile in models.items():
        create(root, name, modelfile)
    with app_server(root, OLLAMA_NUM_PARALLEL="1", **env) as url:
        yield url


def ndjson(url: str, path: str, body: dict[str, Any]) -> tuple[httpx.Response, list[dict]]:
    """POST `body` and read the NDJSON stream: the response and its decoded lines."""
    with httpx.stream("POST", url + path, json=body, timeout=120) as response:
        raw = b"".join(response.iter_bytes())
    lines = raw.split(b"\n")
    assert lines[-1] == b"", "the stream ends with a newline"
    return response, [json.loads(line.decode("utf-8")) for line in lines[:-1]]


def post(url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=120)
