"""Helpers for the compatibility tests: native reply streams as data, models in a store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any


async def native_stream(
    texts: list[str],
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    done_reason: str = "stop",
    generate: bool = False,
    thinking: str = "",
    stop_sequence: str | None = None,
    prompt_tokens: int | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """A native chat (or generate) stream in Ollama's JSON shape: one chunk per text, tool
    calls on the last of them (given `call_` ids, as the service gives them), then the final
    metrics chunk (5 prompt tokens evaluated, one per text). `stop_sequence` and
    `prompt_tokens` are the notes the service adds off Ollama's wire."""
    for i, text in enumerate(texts):
        if generate:
            yield {"model": "m", "response": text, "done": False}
            continue
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if thinking and i == 0:
            message["thinking"] = thinking
        if tool_calls and i == len(texts) - 1:
            message["tool_calls"] = [{"id": f"call_{n:08d}", **c} for n, c in enumerate(tool_calls)]
        yield {"model": "m", "message": message, "done": False}
    final: dict[str, Any] = {
        "model": "m",
        "done": True,
        "done_reason": done_reason,
        "prompt_eval_count": 5,
        "eval_count": len(texts),
    }
    if stop_sequence is not None:
        final["stop_sequence"] = stop_sequence
    if prompt_tokens is not None:
        final["prompt_tokens"] = prompt_tokens
    if generate:
        final["response"] = ""
    else:
        final["message"] = {"role": "assistant", "content": ""}
    yield final


def create_model(root: Path, name: str, gguf: Path) -> None:
    """Create model `name` from `gguf` in the store at `root` (as `pollama create` would)."""
    from pollama.create import create_from_modelfile
    from pollama.store import Store

    for _ in create_from_modelfile(Store(root), name, f"FROM {gguf}"):
        pass
