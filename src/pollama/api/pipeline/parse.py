"""Stage 5: the model's text split into what it is: thinking, content and tool calls.

The thinking parser runs first (thinking comes before the answer), then the tool-call
parser on what is left; each holds back a partial tag until the next chunk settles it and
gives up what it held on the last one.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from typing import Any

from pollama import prompt
from pollama.api.pipeline.events import Piece, ToolCall
from pollama.api.pipeline.render import Rendered
from pollama.engine.types import Logprob
from pollama.prompt.template import Think

_ID_ALPHABET = string.ascii_lowercase + string.digits


def call_id() -> str:
    """A fresh `call_` id with 8 `[a-z0-9]`, as Ollama makes them."""
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


class OutputParser:
    """Runner text → `Piece`s, through the parsers a request needs."""

    def __init__(
        self, rendered: Rendered, *, think: Think, raw: bool, max_calls: int | None = None
    ) -> None:
        self._thinking = None if raw else _thinking_parser(rendered, think)
        self._tools = (
            prompt.ToolCallParser(rendered.template, rendered.tools) if rendered.tools else None
        )
        self._calls = 0
        self._max_calls = max_calls

    def feed(self, text: str, final: bool, logprobs: Sequence[Logprob] = ()) -> Piece | None:
        """The piece `text` (and its tokens' `logprobs`) makes (on the `final` chunk, with
        what the parsers held back); None when there is nothing to show yet."""
        thinking, calls = "", []
        if self._thinking is not None:
            thinking, text = self._thinking.feed(text)
            if final:
                more_thinking, more_text = self._thinking.flush()
                thinking, text = thinking + more_thinking, text + more_text
        if self._tools is not None:
            text, calls = self._tools.feed(text)
            if final:
                more_text, more_calls = self._tools.flush()
                text, calls = text + more_text, calls + more_calls
        if not (text or thinking or calls or logprobs):
            return None
        return Piece(text, thinking, self._tool_calls(calls), final, tuple(logprobs))

    def _tool_calls(self, calls: list[dict[str, Any]]) -> tuple[ToolCall, ...]:
        """The tool parser's calls (`{"function": {"name", "arguments"}}`), numbered on; past
        `max_calls` (parallel calls forbidden), the model's further calls are dropped."""
        if self._max_calls is not None:
            calls = calls[: max(0, self._max_calls - self._calls)]
        made = tuple(
            ToolCall(
                id=call_id(),
                index=self._calls + i,
                name=c["function"]["name"],
                arguments=c["function"].get("arguments") or {},
            )
            for i, c in enumerate(calls)
        )
        self._calls += len(made)
        return made


def _thinking_parser(rendered: Rendered, think: Think) -> prompt.ThinkingParser | None:
    """A parser for the template's thinking tags, unless thinking was turned off."""
    if think is False or not rendered.template.supports_thinking:
        return None
    return prompt.ThinkingParser.from_template(rendered.template, rendered.text)
