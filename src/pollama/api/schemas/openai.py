"""OpenAI's wire types, as far as Ollama's `openai/openai.go` speaks them.

Requests are read tolerantly (unknown fields are ignored and logged). Every field of OpenAI's
own request types is declared: honoured, accepted as harmless (said where it is declared),
or `refused` with a 400 that says why. Responses carry exactly the keys the official SDKs
parse.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from pollama.api.schemas.base import RequestModel, messages_field, refused
from pollama.api.schemas.generate import DebugRenderOnly, Tool, ToolChoice, debug_render_only
from pollama.api.schemas.openai_logprobs import ChoiceLogprobs, CompletionLogprobs


class StreamOptions(RequestModel):
    include_usage: bool = False
    # Random padding against length side channels; pollama sends none, harmlessly.
    include_obfuscation: bool | None = None


_NO_LOGIT_BIAS = "pollama does not bias token logits; leave it out"


class _Harmless(RequestModel):
    """Fields that change nothing pollama does, accepted and unused: labels for the
    caller's own records, a service tier (there is one) and prompt-cache hints (pollama
    caches every prompt's prefix by itself)."""

    user: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    safety_identifier: str | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, Any] | None = None


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


class ChatCompletionRequest(_Harmless):
    """`POST /v1/chat/completions`. `parallel_tool_calls: false` keeps the reply's first
    call only; `prediction` (a guess of the reply, to speed it up) changes no text, so it is
    accepted and unused."""

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
    parallel_tool_calls: bool | None = None
    prediction: dict[str, Any] | None = None
    logit_bias: Annotated[dict[str, float] | None, refused(_NO_LOGIT_BIAS, {})] = None
    modalities: Annotated[list[str] | None, refused("pollama answers in text only", ["text"])] = (
        None
    )
    audio: Annotated[object, refused("pollama answers in text only")] = None
    functions: Annotated[
        object, refused("functions is deprecated; pollama takes tools instead")
    ] = None
    function_call: Annotated[
        object, refused("function_call is deprecated; pollama takes tool_choice instead")
    ] = None
    verbosity: Annotated[
        str | None, refused("pollama cannot make a model more or less verbose; leave it out")
    ] = None
    web_search_options: Annotated[object, refused("pollama does not search the web")] = None
    moderation: Annotated[object, refused("pollama has no moderation models")] = None
    debug_render_only: DebugRenderOnly = debug_render_only()


class CompletionRequest(_Harmless):
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
    best_of: Annotated[int | None, refused("pollama generates one completion per request", 1)] = (
        None
    )
    echo: Annotated[
        bool | None, refused("pollama does not echo the prompt back; send false", False)
    ] = None
    logit_bias: Annotated[dict[str, float] | None, refused(_NO_LOGIT_BIAS, {})] = None


class EmbeddingRequest(RequestModel):
    """`POST /v1/embeddings` (`user`, a label for the caller's records, is unused)."""

    model: str = ""
    input: str | list[str] | list[int] | list[list[int]] | None = None
    dimensions: int | None = None
    encoding_format: str | None = None
    user: str | None = None


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
