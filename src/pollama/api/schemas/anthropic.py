"""Anthropic Messages API wire types, as far as Ollama's `anthropic/anthropic.go` speaks them.

Request content blocks are one tolerant model keyed by `type` (text, image, tool_use,
tool_result, thinking), so an unknown block is skipped rather than refused, as Ollama does.
Reply blocks and stream events are one model each; every event is written whole (nulls
included), which is what the SDKs accumulate.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from pollama.api.schemas.base import RequestModel, messages_field, refused


class ImageSource(RequestModel):
    type: str | None = None
    media_type: str | None = None
    data: str = ""


class ContentBlock(RequestModel):
    """A block of a request's turn or system prompt; which fields it has depends on `type`."""

    type: str | None = None
    text: str = ""
    source: ImageSource | None = None
    thinking: str = ""
    # tool_use
    id: str | None = None
    name: str | None = None
    input: dict[str, Any] | None = None
    # tool_result
    tool_use_id: str | None = None
    content: str | list[ContentBlock] | None = None


class MessageParam(RequestModel):
    role: str
    content: str | list[ContentBlock]


class Tool(RequestModel):
    """A client tool; `type` is absent or "custom" for those, a server tool's name otherwise."""

    type: str | None = None
    name: str
    description: str | None = None
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ThinkingConfig(RequestModel):
    type: str = "disabled"
    budget_tokens: int | None = None


class ToolChoice(RequestModel):
    """Whether the model may (`auto`), must (`any`, or `tool` and its `name`) or must not
    (`none`) call a tool."""

    type: Literal["auto", "any", "tool", "none"] = "auto"
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class JsonOutputFormat(RequestModel):
    type: Literal["json_schema"] = "json_schema"
    schema_: dict[str, Any] = Field(alias="schema")


class OutputConfig(RequestModel):
    """`effort` is the thinking level of a model that thinks (it does not bound the answer);
    `format` holds the answer to a JSON schema."""

    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = None
    format: JsonOutputFormat | None = None


class MessagesRequest(RequestModel):
    """`POST /v1/messages`. Fields that are harmless here (labels, prompt-cache and routing
    hints, a service tier) are accepted and unused; a code-execution `container` is refused."""

    model: str = ""
    max_tokens: int = 0
    messages: list[MessageParam] = messages_field()
    system: str | list[ContentBlock] | None = None
    stream: bool = False
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: list[str] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfig | None = None
    # Harmless, accepted and unused: pollama caches every prompt's prefix itself
    # (`cache_control`), runs where it runs, at one speed and tier.
    metadata: Any = None
    cache_control: dict[str, Any] | None = None
    diagnostics: dict[str, Any] | None = None
    inference_geo: str | None = None
    service_tier: str | None = None
    speed: str | None = None
    user_profile_id: str | None = None
    workspace_id: str | None = None
    container: Annotated[object, refused("pollama has no code-execution containers")] = None


# --- replies --------------------------------------------------------------------------------


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class TextBlock(BaseModel):
    type: Literal["text"] = "text"
    text: str = ""


class ThinkingBlock(BaseModel):
    type: Literal["thinking"] = "thinking"
    thinking: str = ""
    signature: str = ""


class ToolUseBlock(BaseModel):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


ReplyBlock = TextBlock | ThinkingBlock | ToolUseBlock

StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"]


class MessagesResponse(BaseModel):
    """A whole reply; also the `message` of a stream's `message_start` (empty content)."""

    id: str
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[ReplyBlock]
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: Usage

    def wire(self) -> dict[str, Any]:
        """The JSON body; `stop_reason` and `stop_sequence` are written even when null."""
        return self.model_dump(mode="json")


# --- stream events, in the order a stream sends them ---------------------------------------


class _Event(BaseModel):
    type: str

    def wire(self) -> dict[str, Any]:
        """The event's `data:`, written whole."""
        return self.model_dump(mode="json")


class MessageStart(_Event):
    type: Literal["message_start"] = "message_start"
    message: MessagesResponse


class Ping(_Event):
    type: Literal["ping"] = "ping"


class ContentBlockStart(_Event):
    type: Literal["content_block_start"] = "content_block_start"
    index: int
    content_block: ReplyBlock


class TextDelta(BaseModel):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ThinkingDelta(BaseModel):
    type: Literal["thinking_delta"] = "thinking_delta"
    thinking: str


class InputJsonDelta(BaseModel):
    type: Literal["input_json_delta"] = "input_json_delta"
    partial_json: str


class ContentBlockDelta(_Event):
    type: Literal["content_block_delta"] = "content_block_delta"
    index: int
    delta: TextDelta | ThinkingDelta | InputJsonDelta


class ContentBlockStop(_Event):
    type: Literal["content_block_stop"] = "content_block_stop"
    index: int


class StopDetails(BaseModel):
    stop_reason: StopReason
    stop_sequence: str | None = None


class MessageDelta(_Event):
    type: Literal["message_delta"] = "message_delta"
    delta: StopDetails
    usage: Usage


class MessageStop(_Event):
    type: Literal["message_stop"] = "message_stop"


StreamEvent = (
    MessageStart
    | Ping
    | ContentBlockStart
    | ContentBlockDelta
    | ContentBlockStop
    | MessageDelta
    | MessageStop
)
