"""OpenAI's Responses API (`POST /v1/responses`): the request, the response object, its items.

As far as Ollama's `openai/responses.go` speaks it, plus `previous_response_id`, which Ollama
refuses. Input items are told apart by `type` (a bare `{role, content}` is a message); parts
of a message's content by theirs. The stream's named events are in `responses_events.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag

from pollama.api.schemas.base import RequestModel


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


class ReasoningConfig(RequestModel):
    effort: str | None = None


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
    metadata: dict[str, str] | None = None


# The response object.


class OutputText(BaseModel):
    type: Literal["output_text"] = "output_text"
    text: str = ""
    annotations: list[Any] = Field(default_factory=list)
    logprobs: list[Any] = Field(default_factory=list)


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
    truncation: Literal["disabled"] = "disabled"
    usage: ResponseUsage | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """The JSON body (`schema`, not `schema_`, in `text.format`)."""
        return self.model_dump(mode="json", by_alias=True)
