"""The pipeline's events → a Responses API response object, or its stream of named events.

A reply's output items come in the order the model made them: its thinking (a `reasoning`
item with a summary), its text (a `message` with one `output_text` part), its calls (a
`function_call` each). A reply with neither text nor calls still has its message, empty, so
`output_text` reads "" rather than failing. A reply cut at `max_output_tokens` is
"incomplete". Once done, the conversation it ends is stored for `previous_response_id`.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator, Sequence

from pollama.api.compat.openai.logprobs import chat_logprobs
from pollama.api.compat.responses.requests import Conversation, reply_message
from pollama.api.pipeline import events as ev
from pollama.api.response_store import ResponseStore
from pollama.api.schemas import generate as native
from pollama.api.schemas.openai_logprobs import TokenLogprob
from pollama.api.schemas.responses import (
    IncompleteDetails,
    OutputFunctionCall,
    OutputItem,
    OutputMessage,
    OutputReasoning,
    OutputText,
    ReasoningConfig,
    Response,
    ResponsesRequest,
    ResponseUsage,
    SummaryText,
    TextConfig,
)
from pollama.api.schemas.responses_events import (
    ArgumentsDelta,
    ArgumentsDone,
    ContentPartEvent,
    Event,
    OutputItemEvent,
    OutputTextDelta,
    OutputTextDone,
    ResponseEvent,
    SummaryPartEvent,
    SummaryTextDelta,
    SummaryTextDone,
)
from pollama.api.sse import NAMED_FRAMING
from pollama.engine.types import Logprob


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


class Responses:
    """`/v1/responses` at the pipeline's end, for one request."""

    framing = NAMED_FRAMING

    def __init__(
        self,
        req: ResponsesRequest,
        conversation: Conversation,
        store: ResponseStore[native.Message],
    ) -> None:
        self.req = req
        self.conversation = conversation
        self.store = store
        self.shell = Response(
            id=_id("resp"),
            created_at=int(time.time()),
            model=req.model,
            instructions=req.instructions,
            max_output_tokens=req.max_output_tokens,
            previous_response_id=req.previous_response_id,
            store=req.store,
            temperature=1.0 if req.temperature is None else req.temperature,
            top_p=1.0 if req.top_p is None else req.top_p,
            tools=req.tools or [],
            tool_choice=req.tool_choice or "auto",
            text=req.text or TextConfig(),
            reasoning=req.reasoning or ReasoningConfig(),
            parallel_tool_calls=req.parallel_tool_calls is not False,
            truncation=req.truncation or "disabled",
            top_logprobs=req.top_logprobs,
            metadata=req.metadata or {},
        )

    def whole(self, reply: ev.Reply) -> Response:
        return self._finished(reply, _items(reply, self.logprobs(reply.text_logprobs)))

    def logprobs(self, values: Sequence[Logprob]) -> list[TokenLogprob]:
        """`values` in OpenAI's shape, or none when the request did not ask for them."""
        lp = chat_logprobs(values) if self.req.wants_logprobs else None
        return lp.content if lp else []

    @staticmethod
    def document(whole: Response) -> dict[str, object]:
        return whole.wire()

    def chunks(self, events: AsyncIterator[ev.Event]) -> AsyncIterator[Event]:
        return _Stream(self).events(events)

    def _finished(self, reply: ev.Reply, output: list[OutputItem]) -> Response:
        """The response once `reply` is whole, stored if it may be continued."""
        incomplete = reply.result.done_reason == "length"
        metrics = reply.result.metrics
        usage = ResponseUsage(
            input_tokens=metrics.prompt_tokens,
            output_tokens=metrics.eval_count,
            total_tokens=metrics.prompt_tokens + metrics.eval_count,
        )
        response = self.shell.model_copy(
            update={
                "status": "incomplete" if incomplete else "completed",
                "completed_at": int(time.time()),
                "incomplete_details": IncompleteDetails(reason="max_output_tokens")
                if incomplete
                else None,
                "output": output,
                "usage": usage,
            }
        )
        if self.req.store:
            self.store.put(response.id, [*self.conversation, reply_message(reply)])
        return response


def _call(call: ev.ToolCall) -> OutputFunctionCall:
    arguments = json.dumps(call.arguments, ensure_ascii=False)
    return OutputFunctionCall(id=_id("fc"), call_id=call.id, name=call.name, arguments=arguments)


def _items(reply: ev.Reply, logprobs: list[TokenLogprob]) -> list[OutputItem]:
    items: list[OutputItem] = []
    if reply.thinking:
        items.append(OutputReasoning(id=_id("rs"), summary=[SummaryText(text=reply.thinking)]))
    if reply.text or not reply.tool_calls:
        text = OutputText(text=reply.text, logprobs=logprobs)
        items.append(OutputMessage(id=_id("msg"), content=[text]))
    items.extend(_call(c) for c in reply.tool_calls)
    return items


class _Stream:
    """The named events of one streamed reply; `sequence_number` counts them from 0."""

    def __init__(self, responses: Responses) -> None:
        self.responses = responses
        self.output: list[OutputItem] = []
        self.open: OutputReasoning | OutputMessage | None = None
        self.text = ""  # of the open item
        self.logprobs: list[TokenLogprob] = []  # of the open message's text
        self.sequence = 0

    async def events(self, events: AsyncIterator[ev.Event]) -> AsyncIterator[Event]:
        reply = ev.Reply()
        async for event in events:
            reply.add(event)
            for out in self._on(event):
                yield self._numbered(out)
        for out in self._close():
            yield self._numbered(out)
        if not any(isinstance(i, OutputMessage) for i in self.output) and not reply.tool_calls:
            for out in [
                *self._open(OutputMessage(id=_id("msg"), status="in_progress")),
                *self._close(),
            ]:
                yield self._numbered(out)
        response = self.responses._finished(reply, self.output)
        kind = "response.incomplete" if response.status == "incomplete" else "response.completed"
        yield self._numbered(ResponseEvent(type=kind, response=response))

    def _numbered(self, event: Event) -> Event:
        event.sequence_number, self.sequence = self.sequence, self.sequence + 1
        return event

    def _on(self, event: ev.Event) -> list[Event]:
        if isinstance(event, ev.Started):
            shell = self.responses.shell
            return [
                ResponseEvent(type="response.created", response=shell),
                ResponseEvent(type="response.in_progress", response=shell),
            ]
        if not isinstance(event, ev.Piece):
            return []
        out: list[Event] = []
        if event.thinking:
            if not isinstance(self.open, OutputReasoning):
                out += self._close() + self._open(OutputReasoning(id=_id("rs")))
            out.append(self._delta(event.thinking))
        if event.text:
            if not isinstance(self.open, OutputMessage):
                out += self._close() + self._open(
                    OutputMessage(id=_id("msg"), status="in_progress")
                )
            out.append(self._delta(event.text, self.responses.logprobs(event.logprobs)))
        for call in event.tool_calls:
            out += self._close() + self._function_call(_call(call))
        return out

    def _index(self) -> int:
        return len(self.output)

    def _open(self, item: OutputReasoning | OutputMessage) -> list[Event]:
        """Start `item`: its `output_item.added`, then its empty part's `added`."""
        self.open, self.text, self.logprobs = item, "", []
        index = self._index()
        part: Event
        if isinstance(item, OutputReasoning):
            kind = "response.reasoning_summary_part.added"
            part = SummaryPartEvent(
                type=kind, item_id=item.id, output_index=index, part=SummaryText()
            )
        else:
            kind = "response.content_part.added"
            part = ContentPartEvent(
                type=kind, item_id=item.id, output_index=index, part=OutputText()
            )
        return [
            OutputItemEvent(type="response.output_item.added", output_index=index, item=item),
            part,
        ]

    def _delta(self, text: str, logprobs: list[TokenLogprob] | None = None) -> Event:
        assert self.open is not None
        self.text += text
        index = self._index()
        if isinstance(self.open, OutputReasoning):
            return SummaryTextDelta(item_id=self.open.id, output_index=index, delta=text)
        self.logprobs += logprobs or []
        return OutputTextDelta(
            item_id=self.open.id, output_index=index, delta=text, logprobs=logprobs or []
        )

    def _close(self) -> list[Event]:
        """The events that finish the open item (none if none is open)."""
        item, self.open = self.open, None
        if item is None:
            return []
        index = self._index()
        out: list[Event]
        if isinstance(item, OutputReasoning):
            part = SummaryText(text=self.text)
            item = item.model_copy(update={"summary": [part]})
            out = [
                SummaryTextDone(item_id=item.id, output_index=index, text=self.text),
                SummaryPartEvent(
                    type="response.reasoning_summary_part.done",
                    item_id=item.id,
                    output_index=index,
                    part=part,
                ),
            ]
        else:
            text = OutputText(text=self.text, logprobs=self.logprobs)
            item = item.model_copy(update={"status": "completed", "content": [text]})
            out = [
                OutputTextDone(
                    item_id=item.id, output_index=index, text=self.text, logprobs=self.logprobs
                ),
                ContentPartEvent(
                    type="response.content_part.done",
                    item_id=item.id,
                    output_index=index,
                    part=text,
                ),
            ]
        self.output.append(item)
        return [
            *out,
            OutputItemEvent(type="response.output_item.done", output_index=index, item=item),
        ]

    def _function_call(self, call: OutputFunctionCall) -> list[Event]:
        index = self._index()
        self.output.append(call)
        added = call.model_copy(update={"arguments": "", "status": "in_progress"})
        return [
            OutputItemEvent(type="response.output_item.added", output_index=index, item=added),
            ArgumentsDelta(item_id=call.id, output_index=index, delta=call.arguments),
            ArgumentsDone(item_id=call.id, output_index=index, arguments=call.arguments),
            OutputItemEvent(type="response.output_item.done", output_index=index, item=call),
        ]
