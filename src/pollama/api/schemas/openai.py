"""OpenAI's wire types, as far as Ollama's `openai/openai.go` speaks them.

Requests are read tolerantly (unknown fields ignored) because SDKs send many fields pollama
has no use for (`user`, `logit_bias`, `parallel_tool_calls`, ...). Responses carry exactly the
keys the official SDKs parse.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from pollama.api.schemas.base import RequestModel, messages_field
from pollama.api.schemas.generate import Tool, ToolChoice


class StreamOptions(RequestModel):
    include_usage: bool = False


class FunctionCall(RequestModel):
    """An assistant's call as OpenAI spells it: `arguments` is a JSON *string*."""

    name: str = ""
    arguments: str = "{}"


class ToolCall(RequestModel):
    id: str = ""
    type: Literal["function"] = "function"
    index: int | None = None
    function: FunctionCall


class ImageUrl(RequestModel):
    # A `data:` URL; anything else is refused by the translation, in Ollama's words.
    url: Any = None


class ContentPart(RequestModel):
    """One part of a message's content: `text`, or `image_url` (an object or a bare URL).

    Kept loose so that a part of another type gets Ollama's "invalid message format".
    """

    type: str | None = None
    text: Any = None
    image_url: ImageUrl | str | None = None


class Message(RequestModel):
    """A chat message; `content` is a string, a list of parts, or null beside `tool_calls`."""

    role: str
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    # Thinking from an earlier turn, as Ollama returns it.
    reasoning: str | None = None


class JsonSchema(RequestModel):
    name: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


class ResponseFormat(RequestModel):
    type: str
    json_schema: JsonSchema | None = None


class Reasoning(RequestModel):
    effort: str | None = None


class ChatCompletionRequest(RequestModel):
    """`POST /v1/chat/completions`."""

    model: str = ""
    messages: list[Message] = messages_field()
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    response_format: ResponseFormat | None = None
    # OpenAI's tools have the native shape: `{"type": "function", "function": {...}}`.
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    n: int | None = None
    reasoning: Reasoning | None = None
    reasoning_effort: str | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None


class CompletionRequest(RequestModel):
    """`POST /v1/completions` (legacy text completion)."""

    model: str = ""
    prompt: str = ""
    suffix: str | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    n: int | None = None
    # How many of the most likely tokens to list at each step (their logprobs are returned).
    logprobs: int | None = None


class EmbeddingRequest(RequestModel):
    """`POST /v1/embeddings`."""

    model: str = ""
    input: str | list[str] | list[int] | list[list[int]] | None = None
    dimensions: int | None = None
    encoding_format: str | None = None


# Responses. `None` fields are dropped when written, so optional keys are `None` by default;
# keys the SDKs expect even when null (`finish_reason`) are written explicitly by `dump_openai`.


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ResponseMessage(BaseModel):
    role: str = "assistant"
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] | None = None


class TopLogprob(BaseModel):
    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(TopLogprob):
    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class ChoiceLogprobs(BaseModel):
    """A choice's `logprobs`: one entry per token of its content."""

    content: list[TokenLogprob]


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    system_fingerprint: str = "fp_ollama"
    choices: list[Choice]
    usage: Usage


class Delta(BaseModel):
    """A streamed piece of the reply; `role` only in the first one, as OpenAI sends it."""

    role: str | None = None
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    system_fingerprint: str = "fp_ollama"
    choices: list[ChunkChoice]
    usage: Usage | None = None


class CompletionLogprobs(BaseModel):
    """The legacy completions' logprobs: four lists, one entry per token."""

    tokens: list[str]
    token_logprobs: list[float]
    top_logprobs: list[dict[str, float]]
    text_offset: list[int]


class CompletionChoice(BaseModel):
    text: str = ""
    index: int = 0
    finish_reason: str | None = None
    logprobs: CompletionLogprobs | None = None


class Completion(BaseModel):
    """A `/v1/completions` reply; a stream sends the same object with text deltas."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    system_fingerprint: str = "fp_ollama"
    choices: list[CompletionChoice]
    usage: Usage | None = None


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str
    index: int


class EmbeddingUsage(BaseModel):
    prompt_tokens: int = 0
    total_tokens: int = 0


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


def dump_openai(obj: BaseModel) -> dict[str, Any]:
    """`obj` as the SDKs expect it: unset optionals left out, but `finish_reason` always present
    (null while a stream runs), as in OpenAI's own responses."""
    data = obj.model_dump(mode="json", exclude_none=True, by_alias=True)
    for raw, choice in zip(getattr(obj, "choices", []), data.get("choices", []), strict=True):
        choice["finish_reason"] = raw.finish_reason
    return data
