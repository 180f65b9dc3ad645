"""Stage 3: the prompt, rendered through the model's template.

Generate renders system + Modelfile MESSAGEs + prompt (or fill-in-the-middle, or nothing at
all when raw); chat renders the conversation, dropping its oldest messages when it does not
fit `num_ctx` (logged, and reported in the events).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from pollama import prompt
from pollama.api.pipeline.request import ChatInput, GenerationRequest, TextInput
from pollama.api.pipeline.resolve import Resolved
from pollama.api.schemas.generate import Message
from pollama.engine.types import Runner
from pollama.errors import InvalidRequest
from pollama.prompt.template import Think
from pollama.store import Model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    """The prompt text, the template it came from, the tools it offers (as the template and
    the tool parser read them), the chat messages that did not fit, the grammar that forces
    a tool call in the template's format when `tool_choice` asks for one, and, for a chat,
    where the text holds its earlier replies (UTF-8 byte ranges)."""

    text: str
    template: prompt.PromptTemplate
    tools: list[dict[str, Any]]
    dropped_messages: int = 0
    forced_call: str | None = None
    replies: tuple[tuple[int, int], ...] | None = None


@functools.lru_cache(maxsize=32)
def template_for(go_template: str | None, jinja_template: str | None) -> prompt.PromptTemplate:
    """Parsed templates are reused: parsing costs more than rendering."""
    return prompt.PromptTemplate.from_model(go_template, jinja_template)


async def render(
    req: GenerationRequest, resolved: Resolved, runner: Runner, num_ctx: int
) -> Rendered:
    model = resolved.model
    tmpl = template_for(req.template or model.template, runner.metadata.chat_template)
    if isinstance(req.input, TextInput):
        return Rendered(_generate_prompt(req.input, model, tmpl, resolved.think), tmpl, [])
    return await _chat_prompt(req, req.input, resolved, tmpl, runner, num_ctx)


def _generate_prompt(
    text: TextInput, model: Model, tmpl: prompt.PromptTemplate, think: Think
) -> str:
    """Fill-in-the-middle, or system + Modelfile MESSAGEs + prompt through the template.

    The MESSAGEs are left out when `context` continues a conversation, as Ollama does.
    """
    if text.raw:
        return text.prompt
    return prompt.render_generate(
        tmpl,
        prompt=text.prompt,
        system=None if text.suffix else (text.system or model.system or None),
        suffix=text.suffix,
        messages=None if text.context else list(model.messages),
        think=think,
    )


async def _chat_prompt(
    req: GenerationRequest,
    chat: ChatInput,
    resolved: Resolved,
    tmpl: prompt.PromptTemplate,
    runner: Runner,
    num_ctx: int,
) -> Rendered:
    tools = [t.model_dump(exclude_none=True) for t in chat.offered_tools]
    forced_call = chat.tool_choice.grammar(tmpl.tool_call_tag, tools)
    if forced_call and req.format:
        raise InvalidRequest("a forced tool call (tool_choice) cannot be combined with format")
    rendered = await prompt.chat_prompt(
        tmpl,
        _chat_messages(resolved.model, chat.messages),
        tools=tools or None,
        num_ctx=num_ctx,
        tokenize=runner.tokenize,
        truncate=req.truncate,
        think=resolved.think,
    )
    if rendered.dropped_messages:
        log.warning(
            "%s: dropped %d oldest messages to fit num_ctx=%d",
            resolved.model.name,
            rendered.dropped_messages,
            num_ctx,
        )
    # A thinking model's history drops the thoughts its replies were generated with, so a
    # reply never continues as generated there: such a chat is chunked by its turns.
    replies = None if resolved.think else reply_spans(rendered.text, rendered.messages)
    return Rendered(rendered.text, tmpl, tools, rendered.dropped_messages, forced_call, replies)


def reply_spans(text: str, messages: list[dict[str, Any]]) -> tuple[tuple[int, int], ...]:
    """Where `text` holds the content of each assistant message (UTF-8 byte ranges).

    Each message's content is looked for after the one before it, so that a user quoting a
    reply does not move it; a content the template rewrote is not found and is left out.
    The ranges need only be a function of the messages: a wrong one costs the cache a
    reply, never the seeded text its sameness (`engine.runner.chunks`).
    """
    spans = []
    at = at_byte = 0  # where the search goes on, in characters and in bytes
    for message in messages:
        content = message.get("content")
        found = text.find(content, at) if isinstance(content, str) and content else -1
        if found < 0:
            continue
        start_byte = at_byte + len(text[at:found].encode())
        at, at_byte = found + len(content), start_byte + len(content.encode())
        if message.get("role") == "assistant":
            spans.append((start_byte, at_byte))
    return tuple(spans)


def _chat_messages(model: Model, messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Modelfile MESSAGEs, then the request's; the Modelfile SYSTEM first unless the request
    starts with its own system message (the template reads messages as maps)."""
    out = [*model.messages, *(m.model_dump(exclude_none=True) for m in messages)]
    if model.system and messages[0].role != "system":
        out.insert(0, Message(role="system", content=model.system).model_dump(exclude_none=True))
    return out
