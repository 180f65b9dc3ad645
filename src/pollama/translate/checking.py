"""Whether a cue's answer is a translation: the checks the schema cannot make.

The schema already guarantees one answer per cue. What it cannot see is an answer that is
empty, still in the source language, far longer than its source (a model looping or
explaining), missing or moving a placeholder, or ignoring the glossary.
"""

from __future__ import annotations

import re

from pollama.translate.glossary import Glossary
from pollama.translate.languages import Language
from pollama.translate.units import PLACEHOLDER, Unit

_NOT_WORDS = re.compile(r"[\W_]+")
# Far longer: more than three times the source's characters, with room for a short source.
_LENGTH_FACTOR = 3
_LENGTH_SLACK = 12


def _words(text: str) -> str:
    return PLACEHOLDER.sub("", text).strip()


def longest_answer(unit: Unit) -> int:
    """The most characters an answer to `unit` may have before it reads as a model looping or
    explaining rather than translating."""
    return _LENGTH_FACTOR * len(unit.source) + _LENGTH_SLACK


def problem(
    unit: Unit, answer: str, source: Language, target: Language, glossary: Glossary
) -> str | None:
    """Why `answer` is not a good translation of `unit` (None: it is)."""
    words = _words(answer)
    if not words:
        return "empty answer"
    if not unit.placeholders_kept(answer):
        return "tags lost or moved"
    if len(answer) > longest_answer(unit):
        return "far longer than its source"
    if not target.is_written_in(words) or _same_words(unit.source, answer, source, target):
        return f"not in {target.name}"
    for term in glossary.terms_in(unit.source):
        if term.target.lower() not in answer.lower():
            return f"glossary: {term.source!r} must be {term.target!r}"
    return None


def _same_words(source_text: str, answer: str, source: Language, target: Language) -> bool:
    """An answer identical to a source of two words or more, between different languages."""
    if source.code == target.code:
        return False
    plain = _NOT_WORDS.sub(" ", _words(source_text)).strip().lower()
    return len(plain.split()) >= 2 and plain == _NOT_WORDS.sub(" ", _words(answer)).strip().lower()
