"""Prompt building for `/api/generate` and `/api/chat` (Ollama's routes.go and `chatPrompt`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pollama.errors import PromptTooLong
from pollama.prompt.template import PromptTemplate, Think

log = logging.getLogger(__name__)

# Ollama counts each image as this many tokens when deciding what fits (server/prompt.go).
IMAGE_TOKENS = 768

Tokenize = Callable[[str], Awaitable[list[int]]]


@dataclass(frozen=True)
class ChatPrompt:
    """A rendered chat prompt; `dropped_messages` oldest messages did not fit `num_ctx`, and
    `messages` are those the template rendered (images tagged)."""

    text: str
    dropped_messages: int
    prompt_tokens: int | None
    messages: list[dict[str, Any]]


def render_generate(
    tmpl: PromptTemplate,
    *,
    prompt: str,
    system: str | None,
    suffix: str | None = None,
    messages: list[dict[str, Any]] | None = None,
    think: Think = None,
) -> str:
    """`/api/generate`'s prompt (not raw): fill-in-the-middle when `suffix` is given and the
    template takes one, else `system` (the request's or the Modelfile's), the Modelfile
    `messages`, and the prompt as a user turn, through the chat path."""
    if suffix and tmpl.supports_insert:
        return tmpl.render([], prompt=prompt, suffix=suffix, think=think)
    turns = [{"role": "system", "content": system}] if system else []
    turns += [*(messages or []), {"role": "user", "content": prompt}]
    return tmpl.render(turns, think=think)


def _with_images_tagged(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ollama's `imageTaggedMessages`: `[img-N]` before the text, or in place of `[img]`,
    numbered from the first message that is kept."""
    out: list[dict[str, Any]] = []
    count = 0
    for msg in messages:
        images = msg.get("images") or []
        if not images:
            out.append(msg)
            continue
        content, prefix = msg.get("content") or "", ""
        for _ in images:
            tag = f"[img-{count}]"
            count += 1
            if "[img]" in content:
                content = content.replace("[img]", tag, 1)
            else:
                prefix += tag
        out.append({**msg, "content": prefix + content})
    return out


async def chat_prompt(
    tmpl: PromptTemplate,
    messages: list[dict[str, Any]],
    *,
    tools: list[dict[str, Any]] | None,
    num_ctx: int,
    tokenize: Callable[[str], Awaitable[list[int]]],
    truncate: bool = True,
    think: Think = None,
) -> ChatPrompt:
    """Ollama's `chatPrompt`: render `messages`, dropping the oldest non-system ones until the
    prompt's tokens (images at 768 each) fit `num_ctx`. System messages and the latest message
    always stay. With `truncate=False` a prompt that does not fit is an error, not a silent cut.
    """

    def turns(start: int) -> list[dict[str, Any]]:
        system = [m for m in messages[:start] if m.get("role") == "system"]
        return system + _with_images_tagged(messages[start:])

    async def measure(start: int) -> tuple[str, int]:
        text = tmpl.render(turns(start), tools=tools, think=think)
        images = sum(len(m.get("images") or []) for m in messages[start:])
        return text, len(await tokenize(text)) + IMAGE_TOKENS * images

    last = max(len(messages) - 1, 0)
    start = 0
    text, count = await measure(0)
    if truncate:
        while count > num_ctx and start < last:
            start += 1
            text, count = await measure(start)
    if count > num_ctx and not truncate:
        raise PromptTooLong(count, num_ctx)
    if start:
        log.debug("truncated %d oldest messages to fit num_ctx=%d", start, num_ctx)
    dropped = sum(1 for m in messages[:start] if m.get("role") != "system")
    return ChatPrompt(text, dropped, count, turns(start))
