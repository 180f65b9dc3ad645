"""What both dialects need from the native replies: chunks as dicts, a collected reply, ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from pollama.api.streaming import dump


async def as_dicts(chunks: AsyncIterator[BaseModel]) -> AsyncIterator[dict[str, Any]]:
    """Native reply chunks in their wire shape, so translation reads Ollama's JSON keys."""
    try:
        async for chunk in chunks:
            yield dump(chunk)
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
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: str | None = None

    def add(self, chunk: dict[str, Any]) -> None:
        self.text += text_of(chunk)
        self.thinking += thinking_of(chunk)
        self.tool_calls.extend(tool_calls_of(chunk))
        if chunk.get("done"):
            self.done_reason = chunk.get("done_reason")
            self.prompt_tokens = int(chunk.get("prompt_eval_count") or 0)
            self.completion_tokens = int(chunk.get("eval_count") or 0)


async def collect(chunks: AsyncIterator[dict[str, Any]]) -> Reply:
    """Gather a streamed native reply into one `Reply` (for `stream: false` requests)."""
    reply = Reply()
    async for chunk in chunks:
        reply.add(chunk)
    return reply
