"""Lines with their endings, so a reader can keep every byte it does not translate."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(r"([^\r\n]*)(\r\n|\n|\r|$)")


@dataclass(frozen=True)
class Line:
    """One line: its text and the ending the file gives it ("" for a last line without one)."""

    text: str
    end: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def split_lines(text: str) -> list[Line]:
    """`text` as lines; joining `text + end` of each gives `text` back exactly."""
    lines: list[Line] = []
    for match in _LINE.finditer(text):
        if not match.group(0):
            break
        lines.append(Line(match.group(1), match.group(2)))
    return lines
