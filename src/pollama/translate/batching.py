"""Cues in batches, what each batch asks the model, and the schema its answer must fit.

A batch numbers its parts 1..n. Its request carries a JSON schema with one required string
per number and no other key, so the server's constrained decoding cannot merge, drop, add or
reorder a cue: only each cue's words are the model's choice. Into a language with a script
of its own, each string must also begin (after digits and punctuation) with one of its
letters, so a small model cannot echo the source line back, its most common failure, and
holds braces only as placeholders (`Language.answer_pattern`).
(A `maxLength` per cue would bound them too, but llama.cpp's grammar for it, nested
optionals, slows sampling many times over; the request's `num_predict` bounds the batch.)
The lines just before and after the batch go along as context, marked as such.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pollama.translate.glossary import Glossary
from pollama.translate.languages import Language
from pollama.translate.units import PLACEHOLDER, Unit

# Tokens to allow a batch: braces, then per part its key and quotes and a token per character
# of its source. A translation needs about half that (a token holds 3-4 letters of English
# and 1-2 Chinese characters), so the bound only cuts off a model that loops, which would
# otherwise run on for hundreds of tokens; an answer cut short is asked again.
_TOKENS_PER_PART = 8
_TOKENS_OVERHEAD = 16


@dataclass(frozen=True)
class Batch:
    """Parts translated in one request, with the source lines around them as context."""

    units: tuple[Unit, ...]
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()

    def alone(self) -> list[Batch]:
        """Each part as a batch of its own, with the same context."""
        return [Batch((unit,), self.before, self.after) for unit in self.units]

    def only(self, units: Sequence[Unit]) -> Batch:
        return Batch(tuple(units), self.before, self.after)

    def schema(self, target: Language) -> dict[str, Any]:
        """One required string per part, written in `target`'s script where it has one."""
        keys = [str(n) for n in range(1, len(self.units) + 1)]
        line: dict[str, Any] = {"type": "string"}
        pattern = target.answer_pattern
        if pattern is not None:
            line["pattern"] = pattern
        return {
            "type": "object",
            "properties": {key: line for key in keys},
            "required": keys,
            "additionalProperties": False,
        }

    @property
    def max_tokens(self) -> int:
        return _TOKENS_OVERHEAD + sum(_TOKENS_PER_PART + len(u.source) for u in self.units)

    def answers(self, content: str) -> dict[str, str]:
        """The answer's translation of each part, by unit key (missing or bad ones left out).
        An answer cut short by `num_predict` still gives the parts it completed."""
        reply = _complete_pairs(content)
        found = {}
        for number, unit in enumerate(self.units, start=1):
            value = reply.get(str(number))
            if isinstance(value, str):
                # A line break of the model's own would add a line to the cue, and a blank
                # line would split the file's block: the cue's lines come from its parts.
                found[unit.key] = _LINE_BREAKS.sub(" ", value).strip()
        return found


# Lax about control characters inside strings, which llama.cpp's JSON grammar lets through.
_DECODER = json.JSONDecoder(strict=False)
_BETWEEN = re.compile(r"[\s,]*")
_COLON = re.compile(r"\s*:\s*")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")


def _complete_pairs(content: str) -> dict[str, Any]:
    """The key-value pairs of a JSON object, up to where it is cut off or goes wrong."""
    at = content.find("{") + 1
    pairs: dict[str, Any] = {}
    while at > 0:
        try:
            between = _BETWEEN.match(content, at)
            key, at = _DECODER.raw_decode(content, between.end() if between else at)
            colon = _COLON.match(content, at)
            if not isinstance(key, str) or colon is None:
                break
            pairs[key], at = _DECODER.raw_decode(content, colon.end())
        except ValueError:
            break
    return pairs


def batches(units: Sequence[Unit], size: int, context: int) -> list[Batch]:
    """`units` in order, `size` to a batch, each with up to `context` lines either side."""
    plain = [PLACEHOLDER.sub("", u.source) for u in units]
    out = []
    for start in range(0, len(units), size):
        end = min(start + size, len(units))
        out.append(
            Batch(
                tuple(units[start:end]),
                tuple(plain[max(0, start - context) : start]),
                tuple(plain[end : end + context]),
            )
        )
    return out


def system_prompt(source: Language, target: Language, glossary: Glossary, batch: Batch) -> str:
    text = (
        f"You translate subtitles from {source.name} into {target.name}. The user sends a "
        "JSON object of numbered lines. Reply with a JSON object with the same keys, each "
        f"mapped to the {target.name} translation of its line. Translate every line, short "
        f"ones too, and write {target.name} only. Keep placeholders such as {{1}} unchanged, "
        "where they belong in the sentence."
    )
    terms = {t for u in batch.units for t in glossary.terms_in(u.source)}
    if terms:
        listed = "\n".join(f"- {t.source}: {t.target}" for t in glossary.terms if t in terms)
        text += f"\nAlways translate these terms exactly so:\n{listed}"
    return text


def user_prompt(target: Language, glossary: Glossary, batch: Batch) -> str:
    parts = []
    if batch.before:
        parts.append("Lines before, for context only:\n" + "\n".join(batch.before))
    if batch.after:
        parts.append("Lines after, for context only:\n" + "\n".join(batch.after))
    lines = {str(n): glossary.apply(u.source) for n, u in enumerate(batch.units, start=1)}
    # Compact: the model spaces its answer as the question is spaced, and `","3":"` is three
    # tokens to decode where `", "3": "` is five (and the prompt is shorter too).
    compact = json.dumps(lines, ensure_ascii=False, separators=(",", ":"))
    parts.append(f"Translate into {target.name}:\n" + compact)
    return "\n\n".join(parts)
