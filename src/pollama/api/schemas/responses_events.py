"""The named events of a streamed `/v1/responses` reply, in the order they are sent.

    response.created, response.in_progress
    per output item:  response.output_item.added
      reasoning:      response.reasoning_summary_part.added, ...summary_text.delta*,
                      ...summary_text.done, ...summary_part.done
      message:        response.content_part.added, response.output_text.delta*,
                      response.output_text.done, response.content_part.done
      function call:  response.function_call_arguments.delta, ...arguments.done
                      response.output_item.done
    response.completed (or response.incomplete when cut at max_output_tokens)

Each is written as `event: <type>` then `data: <json>` carrying `type` and a
`sequence_number` that counts the stream's events from 0.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from pollama.api.schemas.openai_logprobs import TokenLogprob
from pollama.api.schemas.responses import OutputItem, OutputText, Response, SummaryText


class Event(BaseModel):
    """Any event: `type` names it; `sequence_number` is set as it is sent."""

    type: str
    sequence_number: int = 0

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class ResponseEvent(Event):
    """response.created / in_progress / completed / incomplete / failed."""

    type: Literal[
        "response.created",
        "response.in_progress",
        "response.completed",
        "response.incomplete",
        "response.failed",
    ]
    response: Response


class OutputItemEvent(Event):
    type: Literal["response.output_item.added", "response.output_item.done"]
    output_index: int
    item: OutputItem


class ContentPartEvent(Event):
    type: Literal["response.content_part.added", "response.content_part.done"]
    item_id: str
    output_index: int
    content_index: int = 0
    part: OutputText


class OutputTextDelta(Event):
    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    item_id: str
    output_index: int
    content_index: int = 0
    delta: str
    logprobs: list[TokenLogprob] = []


class OutputTextDone(Event):
    type: Literal["response.output_text.done"] = "response.output_text.done"
    item_id: str
    output_index: int
    content_index: int = 0
    text: str
    logprobs: list[TokenLogprob] = []


class SummaryPartEvent(Event):
    type: Literal["response.reasoning_summary_part.added", "response.reasoning_summary_part.done"]
    item_id: str
    output_index: int
    summary_index: int = 0
    part: SummaryText


class SummaryTextDelta(Event):
    type: Literal["response.reasoning_summary_text.delta"] = "response.reasoning_summary_text.delta"
    item_id: str
    output_index: int
    summary_index: int = 0
    delta: str


class SummaryTextDone(Event):
    type: Literal["response.reasoning_summary_text.done"] = "response.reasoning_summary_text.done"
    item_id: str
    output_index: int
    summary_index: int = 0
    text: str


class ArgumentsDelta(Event):
    type: Literal["response.function_call_arguments.delta"] = (
        "response.function_call_arguments.delta"
    )
    item_id: str
    output_index: int
    delta: str


class ArgumentsDone(Event):
    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"
    item_id: str
    output_index: int
    arguments: str
