"""Thinking out of streamed model text: Ollama's `thinking.Parser`.

Models that think open their reply with a tag such as `<think>`, think, close it, then answer.
The parser splits the stream into (thinking, content), eating the whitespace around the tags and
holding back a partial tag until the next chunk settles it.
"""

from __future__ import annotations

from pollama.prompt.template import PromptTemplate


def _overlap(text: str, tag: str) -> int:
    """The length of the longest suffix of `text` that starts `tag`."""
    for size in range(min(len(text), len(tag)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkingParser:
    """`feed(text) -> (thinking, content)`; `flush()` at the end of the stream."""

    def __init__(self, opening: str = "<think>", closing: str = "</think>") -> None:
        self.opening = opening
        self.closing = closing
        self.state = "looking"  # -> "start" -> "thinking" -> "after" -> "done"
        self.acc = ""

    @classmethod
    def from_template(cls, tmpl: PromptTemplate, prompt: str = "") -> ThinkingParser | None:
        """A parser for the template's thinking tags, or None if it has none. When the
        prompt already ends in the opening tag, the parser starts inside the thinking."""
        opening, closing = tmpl.thinking_tags
        if not opening or not closing:
            return None
        parser = cls(opening, closing)
        if prompt.strip().endswith(opening):
            parser.feed(opening)
        return parser

    def feed(self, text: str) -> tuple[str, str]:
        self.acc += text
        thinking: list[str] = []
        content: list[str] = []
        while True:
            more_thinking, more_content, again = self._eat()
            thinking.append(more_thinking)
            content.append(more_content)
            if not again:
                return "".join(thinking), "".join(content)

    def flush(self) -> tuple[str, str]:
        """Whatever was held back: a partial closing tag is thinking, anything else content."""
        rest, self.acc = self.acc, ""
        if self.state == "thinking":
            return rest, ""
        return "", rest if self.state != "looking" or rest.strip() else ""

    def _eat(self) -> tuple[str, str, bool]:
        if self.state == "looking":
            return self._eat_opening()
        if self.state == "start":
            self.acc = self.acc.lstrip()
            if self.acc:
                self.state = "thinking"
                return "", "", True
            return "", "", False
        if self.state == "thinking":
            return self._eat_thinking()
        if self.state == "after":
            trimmed, self.acc = self.acc.lstrip(), ""
            if trimmed:
                self.state = "done"
            return "", trimmed, False
        rest, self.acc = self.acc, ""
        return "", rest, False

    def _eat_opening(self) -> tuple[str, str, bool]:
        trimmed = self.acc.lstrip()
        if trimmed.startswith(self.opening):
            after = trimmed[len(self.opening) :].lstrip()
            self.acc = after
            self.state = "thinking" if after else "start"
            return "", "", True
        if self.opening.startswith(trimmed):  # a partial tag, or only whitespace so far
            return "", "", False
        # No opening tag: the model skipped thinking; keep its text as it came.
        self.state = "done"
        rest, self.acc = self.acc, ""
        return "", rest, False

    def _eat_thinking(self) -> tuple[str, str, bool]:
        acc = self.acc
        if self.closing in acc:
            thought, _, rest = acc.partition(self.closing)
            rest = rest.lstrip()
            self.acc = ""
            self.state = "done" if rest else "after"
            return thought, rest, False
        held = _overlap(acc, self.closing)
        self.acc = acc[len(acc) - held :] if held else ""
        return acc[: len(acc) - held], "", False
