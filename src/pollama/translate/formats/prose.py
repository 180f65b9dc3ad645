"""Plain text and Markdown: each paragraph (or heading, list item, quote line) is a cue.

Plain text: runs of non-blank lines are paragraphs; blank lines are kept. Markdown also keeps
front matter, fenced and indented code, tables, HTML blocks, rules and link definitions
verbatim, and keeps each block's marker (`## `, `- `, `1. `, `> `) outside the cue. Inside a
cue, code spans, link targets, URLs and HTML tags are protected: they come back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pollama.translate.document import Cue, Document, Piece, numbered
from pollama.translate.formats._lines import Line, split_lines

URLS = re.compile(r"https?://[^\s<>()]+")
MARKDOWN_INLINE = re.compile(
    r"`+[^`\n]+`+"  # code spans
    r"|!?\[(?=[^\[\]\n]*\]\()"  # the opening bracket of a link or image
    r"|\]\([^()\n]*\)"  # the link target
    r"|<[^<>\n]+>"  # autolinks and inline HTML
    r"|\*\*|__"  # strong emphasis
    r"|https?://[^\s<>()]+"
)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_VERBATIM = re.compile(
    r"^(\s{4}|\t"  # indented code
    r"|\s{0,3}(\||<|\[[^\]]+\]:\s)"  # tables, HTML blocks, link definitions
    r"|\s{0,3}([-*_])(\s*\3){2,}\s*$)"  # rules
)
_MARKER = re.compile(r"^(\s{0,3}#{1,6}\s+|\s*(?:[-*+]|\d{1,9}[.)])\s+|\s*>\s?)")


def read_text(text: str) -> Document:
    """Read plain text: one cue per paragraph."""
    return numbered("txt", _paragraphs(split_lines(text), URLS, markdown=False))


def read_markdown(text: str) -> Document:
    """Read Markdown: one cue per paragraph, heading, list item or quote line."""
    lines = split_lines(text)
    pieces: list[Piece] = []
    start = _front_matter_end(lines)
    if start:
        pieces.append("".join(line.text + line.end for line in lines[:start]))
    pieces += _paragraphs(lines[start:], MARKDOWN_INLINE, markdown=True)
    return numbered("md", pieces)


def _front_matter_end(lines: list[Line]) -> int:
    if not lines or lines[0].text.strip() != "---":
        return 0
    for i, line in enumerate(lines[1:], start=1):
        if line.text.strip() in ("---", "..."):
            return i + 1
    return 0


def _paragraphs(
    lines: list[Line], protected: re.Pattern[str], *, markdown: bool
) -> Iterator[Piece]:
    """Kept text and cues, in order (cues numbered 0: `numbered` numbers them)."""
    paragraph: list[Line] = []
    fence: str | None = None
    for line in lines:
        if markdown and fence is not None:
            yield line.text + line.end
            if line.text.strip().startswith(fence):
                fence = None
            continue
        opens = _FENCE.match(line.text) if markdown else None
        marker = _MARKER.match(line.text) if markdown else None
        ends = line.blank or opens or marker or (markdown and _VERBATIM.match(line.text))
        if ends and paragraph:
            yield from _cue(paragraph, protected)
            paragraph = []
        if opens:
            fence = opens.group(1)[0] * 3
            yield line.text + line.end
        elif marker and line.text[marker.end() :].strip():
            yield marker.group(0)
            paragraph = [Line(line.text[marker.end() :], line.end)]
        elif ends:
            yield line.text + line.end
        else:
            paragraph.append(line)
    if paragraph:
        yield from _cue(paragraph, protected)


def _cue(paragraph: list[Line], protected: re.Pattern[str]) -> Iterator[Piece]:
    line_break = paragraph[0].end or "\n"
    text = "".join(line.text + line.end for line in paragraph[:-1]) + paragraph[-1].text
    yield Cue(0, text, line_break, line_break * 2, protected)
    yield paragraph[-1].end
