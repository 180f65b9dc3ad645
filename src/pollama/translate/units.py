"""What the model is asked to translate for one cue, and how its answer is put back.

A cue is cut into parts: each dialogue line (`- Hi.` / `- Hello.`) is a part, and the other
lines join the part above them (a sentence wrapped over two lines is translated as one).
Each part keeps what must not change outside the words sent to the model: its leading and
trailing tags, dialogue dash, music notes and spaces (`prefix`, `suffix`). Tags and other
protected spans inside the words become numbered placeholders (`{1}`), put back after
translation, so `<i>`, `{\\an8}` or a link target comes back exactly where it was. A part
with no letters at all (`♪ ♪`, `1984`) is not sent and comes back as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pollama.translate.document import Cue

PLACEHOLDER = re.compile(r"\{\s*(\d+)\s*\}")
_AFFIX = re.compile(r"\s+|[♪♫♬♩]+|[-–—]")
_TRAILING = re.compile(r"[\s♪♫♬♩]+$")
_DIALOGUE = re.compile(r"[-–—]")


@dataclass(frozen=True)
class Unit:
    """One part to translate. `key` (`"<cue>.<part>"`) is the same in every run over a file."""

    key: str
    cue_id: int
    source: str
    spans: tuple[str, ...]

    def restore(self, translation: str) -> str:
        """`translation` with its placeholders replaced by the spans they stand for."""
        return PLACEHOLDER.sub(lambda m: self.spans[int(m.group(1)) - 1], translation)

    def placeholders_kept(self, translation: str) -> bool:
        """Whether every placeholder is in `translation` once, in order, and no other is."""
        found = [int(n) for n in PLACEHOLDER.findall(translation)]
        return found == list(range(1, len(self.spans) + 1))


@dataclass(frozen=True)
class Part:
    """A part of a cue: `unit` between `prefix` and `suffix`, or (no unit) `prefix` as is."""

    prefix: str
    unit: Unit | None
    suffix: str


@dataclass(frozen=True)
class SplitCue:
    """A cue and its parts, ready to be rendered with translations."""

    cue: Cue
    parts: tuple[Part, ...]

    @property
    def units(self) -> list[Unit]:
        return [p.unit for p in self.parts if p.unit is not None]

    def render(self, translations: Mapping[str, str], bilingual: bool = False) -> str:
        """The cue's text in the file, translated: its source if nothing in it has words."""
        if not self.units:
            return self.cue.text
        texts = []
        for part in self.parts:
            if part.unit is None:
                texts.append(part.prefix)
                continue
            words = translations.get(part.unit.key)
            body = (
                part.unit.restore(words)
                if words is not None
                else part.unit.restore(part.unit.source)
            )
            texts.append(part.prefix + body + part.suffix)
        translated = self.cue.line_break.join(texts)
        return self.cue.text + self.cue.bilingual_break + translated if bilingual else translated


def has_words(text: str) -> bool:
    """Whether `text` (placeholders aside) holds a letter in any script."""
    return any(c.isalpha() for c in PLACEHOLDER.sub("", text))


def split_cue(cue: Cue) -> SplitCue:
    """`cue` cut into parts (see the module's docstring)."""
    groups: list[list[str]] = []
    for line in cue.lines:
        if not groups or _starts_dialogue(line, cue.protected):
            groups.append([line])
        else:
            groups[-1].append(line)
    parts = [_part(cue, i, group) for i, group in enumerate(groups, start=1)]
    return SplitCue(cue, tuple(parts))


def _starts_dialogue(line: str, protected: re.Pattern[str]) -> bool:
    pos = _skip_spans(line, 0, protected, re.compile(r"\s+"))
    return bool(_DIALOGUE.match(line, pos))


def _skip_spans(text: str, pos: int, protected: re.Pattern[str], affix: re.Pattern[str]) -> int:
    while pos < len(text):
        match = protected.match(text, pos) or affix.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
    return pos


def _trailing_start(text: str, start: int, protected: re.Pattern[str]) -> int:
    ends = {m.end(): m.start() for m in protected.finditer(text, start)}
    end = len(text)
    while end > start:
        blank = _TRAILING.search(text, start, end)
        if blank is not None and blank.start() < end:
            end = blank.start()
        elif end in ends and ends[end] >= start:
            end = ends[end]
        else:
            break
    return end


def _part(cue: Cue, number: int, group: list[str]) -> Part:
    text = " ".join(line.strip() for line in group) if len(group) > 1 else group[0]
    start = _skip_spans(text, 0, cue.protected, _AFFIX)
    end = _trailing_start(text, start, cue.protected)
    spans: list[str] = []

    def hold(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return "{" + str(len(spans)) + "}"

    source = cue.protected.sub(hold, text[start:end])
    if not has_words(source):
        return Part(cue.line_break.join(group), None, "")
    unit = Unit(f"{cue.id}.{number}", cue.id, source, tuple(spans))
    return Part(text[:start], unit, text[end:])
