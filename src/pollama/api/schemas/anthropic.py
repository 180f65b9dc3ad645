"""Anthropic Messages API wire types, as far as Ollama's `anthropic/anthropic.go` speaks them.

Content blocks stay plain dicts keyed by `type` (text, image, tool_use, tool_result,
thinking): their shapes vary by type and the translation reads them by key anyway.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from pollama.api.schemas.base import RequestModel, messages_field

Block = dict[str, Any]


class MessageParam(RequestModel):
    role: str
    content: str | list[Block]


class Tool(RequestModel):
    """A client tool; `type` is absent or "custom" for those, a server tool's name otherwise."""

    type: str | None = None
    name: str
    description: str | None = None
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ThinkingConfig(RequestModel):
    type: str = "disabled"
    budget_tokens: int | None = None


class MessagesRequest(RequestModel):
    """`POST /v1/messages`."""

    model: str = ""
    max_tokens: int = 0
    messages: list[MessageParam] = messages_field()
    system: str | list[Block] | None = None
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] | None = None
    tools: list[Tool] | None = None
    tool_choice: Any = None
    thinking: ThinkingConfig | None = None
    metadata: Any = None


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"]


class MessagesResponse(BaseModel):
    """A whole reply; also the `message` of a stream's `message_start` (empty content)."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[Block]
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: Usage

    def wire(self) -> dict[str, Any]:
        """The JSON body; `stop_reason` and `stop_sequence` are written even when null."""
        return self.model_dump(mode="json")
