"""What both dialects need from the native replies: chunks as dicts, a collected reply, ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from pollama.api.schemas.generate import Metrics
from pollama.api.streaming import dump


async def as_dicts(chunks: AsyncIterator[BaseModel]) -> AsyncIterator[dict[str, Any]]:
    """Native reply chunks in their wire shape, so translation reads Ollama's JSON keys, plus
    the notes kept off that wire (`prompt_tokens`, `stop_sequence`)."""
    try:
        async for chunk in chunks:
            data = dump(chunk)
            if isinstance(chunk, Metrics):
                data.update(chunk.notes())
            yield data
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


def text_of(chunk: dict[str, Any]) -> str:
    """The generated text in a chat (`message.content`) or generate (`response`) chunk."""
    if "message" in chunk:
        return str(chunk["message"].get("content") or "")
    return str(chunk.get("response") or "")


def thinking_of(chunk: dict[str, Any]) -> str:
    source = chunk.get("message", chunk)
    return str(source.get("thinking") or "")


def prompt_tokens_of(chunk: dict[str, Any]) -> int:
    """The prompt's whole length (usage counts it all, cached or not), else what was evaluated."""
    return int(chunk.get("prompt_tokens") or chunk.get("prompt_eval_count") or 0)


def tool_calls_of(chunk: dict[str, Any]) -> list[dict[str, Any]]:
    """Native tool calls (the generation service gives each its `call_` id)."""
    source = chunk.get("message", chunk)
    return list(source.get("tool_calls") or [])


@dataclass
class Reply:
    """A whole native reply: text, thinking and tool calls gathered, the final chunk's metrics."""

    text: str = ""
    thinking: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    done_reason: str | None = None
    stop_sequence: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: str | None = None

    def add(self, chunk: dict[str, Any]) -> None:
        self.text += text_of(chunk)
        self.thinking += thinking_of(chunk)
        self.tool_calls.extend(tool_calls_of(chunk))
        self.prompt_tokens = prompt_tokens_of(chunk) or self.prompt_tokens
        if chunk.get("done"):
            self.done_reason = chunk.get("done_reason")
            self.stop_sequence = chunk.get("stop_sequence")
            self.completion_tokens = int(chunk.get("eval_count") or 0)


async def collect(chunks: AsyncIterator[dict[str, Any]]) -> Reply:
    """Gather a streamed native reply into one `Reply` (for `stream: false` requests)."""
    reply = Reply()
    async for chunk in chunks:
        reply.add(chunk)
    return reply
