"""Advanced SubStation Alpha (`.ass`, `.ssa`): the text field of each `Dialogue:` line.

Everything else (script info, styles, comments, the other fields of each event) is kept
verbatim. The text is the last field of the `[Events]` section's `Format:` line (10 fields by
default), so it is what follows the ninth comma. Inside it `\\N` breaks a line, and override
blocks (`{\\an8}`, `{\\i1}`) and the `\\n`/`\\h` escapes are kept as they are.
"""

from __future__ import annotations

import re

from pollama.translate.document import Cue, Document, Piece, numbered
from pollama.translate.formats._lines import split_lines

OVERRIDES = re.compile(r"\{[^{}]*\}|\\[nh]")
_DEFAULT_FIELDS = 10


def read_ass(text: str) -> Document:
    """Read an ASS/SSA script into verbatim pieces and one cue per worded `Dialogue:` text."""
    pieces: list[Piece] = []
    fields = _DEFAULT_FIELDS
    in_events = False
    for line in split_lines(text):
        stripped = line.text.strip()
        if stripped.startswith("["):
            in_events = stripped.lower() == "[events]"
        elif in_events and stripped.lower().startswith("format:"):
            fields = len(stripped.split(":", 1)[1].split(","))
        if not (in_events and line.text.startswith("Dialogue:")):
            pieces.append(line.text + line.end)
            continue
        head, body = _split_fields(line.text, fields)
        if not body:
            pieces.append(line.text + line.end)
            continue
        pieces += [head, Cue(0, body, "\\N", "\\N", OVERRIDES), line.end]
    return numbered("ass", pieces)


def _split_fields(line: str, fields: int) -> tuple[str, str]:
    """The line up to and including the comma before its text field, and the text."""
    at = -1
    for _ in range(fields - 1):
        at = line.find(",", at + 1)
        if at < 0:
            return line, ""
    return line[: at + 1], line[at + 1 :]
