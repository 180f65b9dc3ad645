"""Helpers for the compatibility tests: pipeline event streams as data, models in a store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pollama.api.pipeline import Event, Metrics, Piece, Result, Started, ToolCall
from pollama.engine.types import DoneReason
from tests.api.generate_helpers import create


async def native_stream(
    texts: list[str],
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    done_reason: DoneReason = "stop",
    generate: bool = False,
    thinking: str = "",
    stop_sequence: str | None = None,
    prompt_tokens: int | None = None,
) -> AsyncIterator[Event]:
    """A reply's pipeline events: one piece per text, tool calls on the last of them (given
    `call_` ids, as the pipeline gives them), then the result (5 prompt tokens evaluated, one
    token per text; `prompt_tokens` the whole prompt's length, 5 unless given). `generate`
    is kept for the callers: generate and chat replies are the same events."""
    del generate
    yield Started(prompt_tokens=prompt_tokens or 5)
    for i, text in enumerate(texts):
        calls = tuple(
            ToolCall(f"call_{n:08d}", n, c["function"]["name"], c["function"]["arguments"])
            for n, c in enumerate(tool_calls or [])
            if i == len(texts) - 1
        )
        yield Piece(text, thinking if i == 0 else "", calls)
    metrics = Metrics(prompt_eval_count=5, eval_count=len(texts), prompt_tokens=prompt_tokens or 5)
    yield Result(done_reason=done_reason, metrics=metrics, stop_sequence=stop_sequence)


def create_model(root: Path, name: str, gguf: Path) -> None:
    """Create model `name` from `gguf` in the store at `root` (as `pollama create` would)."""
    create(root, name, f"FROM {gguf}")
