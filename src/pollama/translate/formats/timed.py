"""SubRip (`.srt`) and WebVTT (`.vtt`): blocks separated by blank lines.

A block whose first or second line holds `-->` is a cue: its index (or VTT identifier) and
timing line are kept as they are, the lines after the timing line are its text. Every other
block (the `WEBVTT` header, `NOTE`, `STYLE`, `REGION`) and every blank line is kept verbatim.
The cue text's inner line breaks are the file's own (`\\n` or `\\r\\n`).
"""

from __future__ import annotations

import re

from pollama.translate.document import Cue, Document, Piece, numbered
from pollama.translate.formats._lines import Line, split_lines

# Inline markup both formats share: HTML-like tags (`<i>`, `<font color=...>`, VTT's `<c.x>`
# and `<00:01.000>` timestamps) and the ASS-style position tags SRT files carry (`{\an8}`).
MARKUP = re.compile(r"<[^<>\n]*>|\{\\[^{}\n]*\}")


def _blocks(lines: list[Line]) -> list[list[Line]]:
    """Runs of lines, each run either all blank or all not blank."""
    runs: list[list[Line]] = []
    for line in lines:
        if runs and runs[-1][0].blank == line.blank:
            runs[-1].append(line)
        else:
            runs.append([line])
    return runs


def _timing_at(block: list[Line]) -> int | None:
    for i, line in enumerate(block[:2]):
        if "-->" in line.text:
            return i
    return None


def read_timed(text: str, format: str) -> Document:
    """Read an SRT or VTT text (`format` is "srt" or "vtt") into verbatim pieces and cues."""
    pieces: list[Piece] = []
    for block in _blocks(split_lines(text)):
        timing = _timing_at(block)
        body = block[timing + 1 :] if timing is not None else []
        if block[0].blank or timing is None or not body:
            pieces.append("".join(line.text + line.end for line in block))
            continue
        head = block[: timing + 1]
        pieces.append("".join(line.text + line.end for line in head))
        line_break = body[0].end or "\n"
        cue_text = "".join(line.text + line.end for line in body[:-1]) + body[-1].text
        pieces += [Cue(0, cue_text, line_break, line_break, MARKUP), body[-1].end]
    return numbered(format, pieces)
