"""OpenAI's Responses API (`POST /v1/responses`): the request, the response object, its items.

As far as Ollama's `openai/responses.go` speaks it, plus `previous_response_id`, which Ollama
refuses, logprobs, `parallel_tool_calls` and `truncation`. Every other request field of
OpenAI's API is either harmless here and accepted (said where it is declared) or `refused`
with a 400 that says why. Input items are told apart by `type` (a bare `{role, content}` is
a message); parts of a message's content by theirs. The stream's named events are in
`responses_events.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

from pollama.api.schemas.base import RequestModel, refused
from pollama.api.schemas.openai_logprobs import TokenLogprob

# What `include` can ask for: the tokens' logprobs on output text. The other includables
# belong to tools, encrypted reasoning or stored inputs pollama does not have.
LOGPROBS = "message.output_text.logprobs"
_NOT_INCLUDABLE = (
    f"pollama can include only {LOGPROBS}: it has no built-in tools, no encrypted reasoning "
    "and keeps no input images"
)


class InputText(RequestModel):
    """A text part: `input_text` (user, system) or `output_text` (an earlier assistant turn)."""

    type: Literal["input_text", "output_text", "text"] = "input_text"
    text: str = ""


class InputImage(RequestModel):
    type: Literal["input_image"] = "input_image"
    image_url: str | None = None
    detail: str | None = None


ContentPart = Annotated[InputText | InputImage, Field(discriminator="type")]


class MessageItem(RequestModel):
    """A message; `developer` is a system message. Its `type` may be left out."""

    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[ContentPart] = ""


class FunctionCallItem(RequestModel):
    """A call the model made in an earlier turn; `arguments` is a JSON string."""

    type: Literal["function_call"] = "function_call"
    call_id: str
    name: str
    arguments: str = "{}"
    id: str | None = None


class FunctionCallOutputItem(RequestModel):
    """The result of a call, sent back by the client."""

    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: str | list[InputText] = ""


class SummaryText(BaseModel):
    type: Literal["summary_text"] = "summary_text"
    text: str = ""


class ReasoningItem(RequestModel):
    """Thinking from an earlier turn, as a summary."""

    type: Literal["reasoning"] = "reasoning"
    summary: list[SummaryText] = Field(default_factory=list)


def _item_kind(item: Any) -> str:
    kind = item.get("type", "message") if isinstance(item, dict) else getattr(item, "type", "")
    return str(kind)


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ReasoningItem, Tag("reasoning")],
    Discriminator(_item_kind),
]


class FunctionTool(RequestModel):
    """A function the model may call (Responses tools are flat: no `function` wrapper)."""

    type: Literal["function"] = "function"
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class NamedFunction(RequestModel):
    type: Literal["function"] = "function"
    name: str


class TextFormat(RequestModel):
    """`text.format`: plain text, any JSON object, or JSON matching `schema`."""

    type: Literal["text", "json_object", "json_schema"] = "text"
    name: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class TextConfig(RequestModel):
    format: TextFormat = Field(default_factory=TextFormat)
    verbosity: Annotated[
        str | None, refused("pollama cannot make a model more or less verbose; leave it out")
    ] = None


# The summary of a reasoning item is the model's whole thinking: pollama has no summariser.
_NO_SUMMARISER = (
    "pollama cannot summarise a model's thinking: the summary is the whole thinking, "
    "so only auto or detailed can be asked"
)
Summary = Annotated[str | None, refused(_NO_SUMMARISER, "auto", "detailed")]


class ReasoningConfig(RequestModel):
    effort: str | None = None
    summary: Summary = None
    generate_summary: Summary = None  # the deprecated name of `summary`


class ResponsesRequest(RequestModel):
    """`POST /v1/responses`."""

    model: str = ""
    input: str | list[InputItem] = ""
    instructions: str | None = None
    previous_response_id: str | None = None
    # Keep the response for a later `previous_response_id` (OpenAI's default too).
    store: bool = True
    stream: bool = False
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedFunction | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    # Logprobs come on output text when `include` asks for them (or `top_logprobs` is set).
    include: list[Annotated[str, refused(_NOT_INCLUDABLE, LOGPROBS)]] | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    # False: at most one tool call per response; true (the default) as many as the model makes.
    parallel_tool_calls: bool | None = None
    # "disabled" (OpenAI's default): a conversation longer than the context is a 400;
    # "auto": its oldest messages are dropped to fit, as on the native API.
    truncation: Literal["auto", "disabled"] | None = None
    # Harmless here, accepted and unused: labels (`metadata` is echoed back, as OpenAI does),
    # prompt-cache hints (pollama caches every prompt's prefix itself), a service tier (there
    # is one), a cap on built-in tool calls (there are no built-in tools) and stream padding.
    metadata: dict[str, str] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, object] | None = None
    service_tier: str | None = None
    max_tool_calls: int | None = None
    stream_options: dict[str, object] | None = None
    # Refused: what pollama does not have.
    background: Annotated[
        bool | None, refused("pollama answers in the foreground only; send false", False)
    ] = None
    background_options: Annotated[
        object, refused("pollama has no background mode (see background)")
    ] = None
    conversation: Annotated[
        object, refused("pollama has no Conversations API; continue with previous_response_id")
    ] = None
    prompt: Annotated[object, refused("pollama has no stored prompt templates")] = None
    context_management: Annotated[
        object, refused("pollama does not compact a conversation", [])
    ] = None
    moderation: Annotated[object, refused("pollama has no moderation models")] = None
    access_programs: Annotated[object, refused("pollama has no access programs")] = None
    image: Annotated[object, refused("pollama has no image context options")] = None

    @property
    def wants_logprobs(self) -> bool:
        return LOGPROBS in (self.include or ()) or self.top_logprobs is not None


# The response object.


class OutputText(BaseModel):
    type: Literal["output_text"] = "output_text"
    text: str = ""
    annotations: list[Any] = Field(default_factory=list)
    # One per token of `text`, when the request asked (OpenAI's chat shape, `bytes` always).
    logprobs: list[TokenLogprob] = Field(default_factory=list)


class OutputMessage(BaseModel):
    type: Literal["message"] = "message"
    id: str
    status: Literal["in_progress", "completed", "incomplete"] = "completed"
    role: Literal["assistant"] = "assistant"
    content: list[OutputText] = Field(default_factory=list)


class OutputFunctionCall(BaseModel):
    type: Literal["function_call"] = "function_call"
    id: str
    call_id: str
    name: str
    arguments: str = ""
    status: Literal["in_progress", "completed"] = "completed"


class OutputReasoning(BaseModel):
    type: Literal["reasoning"] = "reasoning"
    id: str
    summary: list[SummaryText] = Field(default_factory=list)


OutputItem = OutputMessage | OutputFunctionCall | OutputReasoning


class InputTokensDetails(BaseModel):
    cached_tokens: int = 0


class OutputTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class ResponseUsage(BaseModel):
    input_tokens: int = 0
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int = 0
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int = 0


class IncompleteDetails(BaseModel):
    reason: Literal["max_output_tokens", "content_filter"]


class ResponseError(BaseModel):
    code: str
    message: str


class Response(BaseModel):
    """The response object; a stream's `response.*` lifecycle events carry it too. Every key
    is written, null or not, as OpenAI writes it."""

    id: str
    object: Literal["response"] = "response"
    created_at: int
    completed_at: int | None = None
    status: Literal["in_progress", "completed", "incomplete", "failed"] = "in_progress"
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str
    output: list[OutputItem] = Field(default_factory=list)
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    reasoning: ReasoningConfig = Field(default_factory=ReasoningConfig)
    store: bool = True
    temperature: float | None = None
    text: TextConfig = Field(default_factory=TextConfig)
    tool_choice: Literal["auto", "none", "required"] | NamedFunction = "auto"
    tools: list[FunctionTool] = Field(default_factory=list)
    top_p: float | None = None
    truncation: Literal["auto", "disabled"] = "disabled"
    top_logprobs: int | None = None
    usage: ResponseUsage | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """The JSON body (`schema`, not `schema_`, in `text.format`)."""
        return self.model_dump(mode="json", by_alias=True)
