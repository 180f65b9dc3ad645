"""Wire types of `/api/generate` and `/api/chat`, mirroring Ollama's `api/types.go`.

Field names, JSON keys and omit-when-empty follow types.go (`None` fields are left out when
a reply is written, as Go's `omitempty` leaves out zero values). Requests ignore unknown
fields and log them, because clients send fields from newer or older Ollamas. This module
imports nothing from `engine/` or `store/`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from pollama.api.schemas.base import ReplyModel, RequestModel, messages_field, now, refused

# `format`: "json", a JSON Schema object, or ""/null for none. Any JSON value is taken here
# and checked by `pipeline.plan.grammar_for`, so a bad one gets Ollama's message.
Format = Any
# `keep_alive`: seconds as a number, or a Go duration string ("5m", "-1m", "0"). Any JSON
# value is taken here and checked by `durations.parse_keep_alive` (pydantic would turn
# `true` into 1 second).
KeepAlive = Any
# `think`: a bool, or a level "low" / "medium" / "high" / "max".
Think = bool | str | None
# Ollama's `_debug_render_only`: answer the rendered prompt instead of running it.
DebugRenderOnly = Annotated[
    bool | None, refused("pollama always runs the prompt it renders; send false", False)
]


def debug_render_only() -> Any:
    return Field(default=None, alias="_debug_render_only")


class ToolCallFunction(RequestModel):
    """A function call: `arguments` is a JSON object (key order kept), not a string."""

    index: int = 0
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolCall(RequestModel):
    """A tool call the model made; `id` is `call_` plus 8 `[a-z0-9]`."""

    id: str | None = None
    function: ToolCallFunction


class ToolFunction(RequestModel):
    """A callable function: name, description and a JSON Schema of its parameters."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class Tool(RequestModel):
    """A tool the model may call (only `function` tools exist)."""

    type: str = "function"
    items: Any = None
    function: ToolFunction


class NamedToolFunction(RequestModel):
    name: str


class NamedTool(RequestModel):
    """`tool_choice` naming the one function the model must call."""

    type: Literal["function"] = "function"
    function: NamedToolFunction


# `tool_choice` (a pollama extension, in OpenAI's shape): "auto" (the default), "none" (no
# tools are offered), "required" (some call is forced), or the one function to call.
ToolChoice = Literal["auto", "none", "required"] | NamedTool


class Message(RequestModel):
    """A chat message. `role` is lower-cased on decode; `content` is always written."""

    role: str
    content: str = ""
    # Thinking the model did before answering (assistant messages).
    thinking: str | None = None
    # Base64 images (no `data:` prefix) for vision models.
    images: list[str] | None = None
    tool_calls: list[ToolCall] | None = None
    # The tool whose result this is (role "tool").
    tool_name: str | None = None
    tool_call_id: str | None = None

    @field_validator("role")
    @classmethod
    def _lower(cls, role: str) -> str:
        return role.lower()

    @field_validator("content", mode="before")
    @classmethod
    def _null_content(cls, content: Any) -> Any:
        return "" if content is None else content


class Metrics(ReplyModel):
    """Timings and counts of the final chunk, durations in nanoseconds."""

    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None


class Options(RequestModel):
    """The `options` the OpenAI and Anthropic translations set, by Ollama's names.

    A request's `options` stays a map (`api.options.from_map` reads it, tolerantly); this
    model is how a translation writes one without spelling its keys.
    """

    num_predict: int | None = None
    seed: int | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: list[str] | None = None

    def as_map(self) -> dict[str, Any]:
        """The options that are set, as `options` carries them."""
        return self.model_dump(exclude_none=True)


class GenerateRequest(RequestModel):
    """`POST /api/generate`."""

    # The model name.
    model: str = ""
    # The prompt; empty loads the model (or unloads it with keep_alive 0).
    prompt: str = ""
    # Text after the insertion point, for fill-in-the-middle models.
    suffix: str | None = None
    # Overrides the Modelfile SYSTEM.
    system: str | None = None
    # Overrides the Modelfile TEMPLATE (Go text/template).
    template: str | None = None
    # Tokens of an earlier reply, to continue from (deprecated, still used).
    context: list[int] | None = None
    stream: bool | None = None
    # The prompt goes to the model as is, with no template.
    raw: bool | None = None
    format: Format = None
    keep_alive: KeepAlive = None
    images: list[str] | None = None
    options: dict[str, Any] | None = None
    think: Think = None
    truncate: bool | None = None
    shift: bool | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    debug_render_only: DebugRenderOnly = debug_render_only()


class TokenLogprob(ReplyModel):
    """A token's log-probability; `bytes` are its UTF-8 bytes (a token may end half-way
    through a character)."""

    token: str
    logprob: float
    bytes: list[int] | None = None


class Logprob(TokenLogprob):
    """A generated token's log-probability and the most likely tokens at its step."""

    top_logprobs: list[TokenLogprob] | None = None


class _GenerateChunk(ReplyModel):
    model: str
    created_at: str = Field(default_factory=now)
    response: str = ""
    thinking: str | None = None
    done: bool = False
    # "stop", "length", "load" or "unload"; final chunk only.
    done_reason: str | None = None
    # Tokens of prompt and reply, to send back as `context` (final chunk, not raw).
    context: list[int] | None = None
    tool_calls: list[ToolCall] | None = None


class GenerateResponse(Metrics, _GenerateChunk):
    """One chunk of a `/api/generate` reply; `response` is always written, metrics last."""

    # One per generated token, when the request asked (`logprobs`, `top_logprobs`).
    logprobs: list[Logprob] | None = None


class ChatRequest(RequestModel):
    """`POST /api/chat`."""

    model: str = ""
    messages: list[Message] = messages_field()
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    # A pollama extension, as OpenAI's: false keeps at most the reply's first tool call.
    parallel_tool_calls: bool | None = None
    stream: bool | None = None
    format: Format = None
    keep_alive: KeepAlive = None
    options: dict[str, Any] | None = None
    # Overrides the Modelfile TEMPLATE (Go text/template).
    template: str | None = None
    think: Think = None
    truncate: bool | None = None
    shift: bool | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    debug_render_only: DebugRenderOnly = debug_render_only()


class _ChatChunk(ReplyModel):
    model: str
    created_at: str = Field(default_factory=now)
    message: Message
    done: bool = False
    done_reason: str | None = None
    # One per generated token, when the request asked (`logprobs`, `top_logprobs`).
    logprobs: list[Logprob] | None = None


class ChatResponse(Metrics, _ChatChunk):
    """One chunk of a `/api/chat` reply; `message` is always written, metrics last."""
