"""Helpers for the generate/chat/run tests: a live server over a store holding test models."""

from __future__ import annotations

import json
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
    """Create `name` in the store at `root` from a Modelfile text."""
    from pollama.create import create_from_modelfile
    from pollama.store import Store

    for _ in create_from_modelfile(Store(root), name, modelfile):
        pass


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
