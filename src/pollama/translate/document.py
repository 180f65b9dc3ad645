"""What a translatable file is once read: verbatim text with cues between.

A reader splits a file into pieces. A piece is either kept text (indices, timings, headers,
styles, code blocks: every byte that is not a cue's words) or a `Cue`. Writing a document
back joins the pieces, so everything outside the cues comes back byte for byte, and a cue
can only be replaced, never merged, dropped or moved.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """One subtitle's text (or one paragraph), exactly as the file holds it.

    `line_break` is how the file breaks lines inside the text (`"\\r\\n"`, or ASS's `\\N`);
    `bilingual_break` what goes between the source and its translation in bilingual output.
    `protected` matches the inline spans (tags, code, link targets) that are kept as they are.
    """

    id: int
    text: str
    line_break: str
    bilingual_break: str
    protected: re.Pattern[str]

    @property
    def lines(self) -> list[str]:
        return self.text.split(self.line_break)


Piece = str | Cue


@dataclass(frozen=True)
class Document:
    """A file as pieces: `str` kept verbatim, `Cue` to translate. `format` names the reader."""

    format: str
    pieces: Sequence[Piece]

    @property
    def cues(self) -> list[Cue]:
        return [p for p in self.pieces if isinstance(p, Cue)]

    def render(self, texts: Mapping[int, str]) -> str:
        """The file with each cue's text replaced by `texts[cue.id]` (its source if absent)."""
        return "".join(texts.get(p.id, p.text) if isinstance(p, Cue) else p for p in self.pieces)

    @property
    def kept(self) -> list[str]:
        """The verbatim pieces in order: what must come back byte for byte."""
        return [p for p in self.pieces if isinstance(p, str)]


def numbered(format: str, pieces: Iterable[Piece]) -> Document:
    """A document of `pieces`, its cues numbered 1, 2, ... in file order (readers pass 0)."""
    out: list[Piece] = []
    count = 0
    for piece in pieces:
        if isinstance(piece, Cue):
            count += 1
            piece = dataclasses.replace(piece, id=count)
        out.append(piece)
    return Document(format, out)
