"""The one error the Go template engine raises, worded as Go's `text/template` words it."""

from __future__ import annotations

from pollama.errors import InvalidRequest


class TemplateError(InvalidRequest):
    """A template that does not parse, or fails while executing.

    `str()` reads like Go's `template: :LINE: message`, the text Ollama returns to clients.
    """

    def __init__(self, message: str, line: int | None = None, *, context: str = "") -> None:
        self.line = line
        self.context = context
        if line is None:
            super().__init__(f"template: {message}")
            return
        at = f' executing "" at <{context}>:' if context else ""
        super().__init__(f"template: :{line}:{at} {message}")
