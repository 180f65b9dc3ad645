"""`--glossary FILE`: terms translated the same way every time.

One term a line, `source = target` (or the two separated by a tab); blank lines and lines
starting with `#` are skipped. A term is matched as a whole word, ignoring case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pollama.translate.errors import TranslateError


@dataclass(frozen=True)
class Term:
    """One glossary entry."""

    source: str
    target: str

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"(?<!\w){re.escape(self.source)}(?!\w)", re.IGNORECASE)

    def occurs_in(self, text: str) -> bool:
        return self.pattern.search(text) is not None


@dataclass(frozen=True)
class Glossary:
    """The terms of a glossary file, in file order."""

    terms: tuple[Term, ...] = ()

    @classmethod
    def parse(cls, text: str, name: str = "glossary") -> Glossary:
        terms = []
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            source, sep, target = (
                stripped.partition("\t") if "\t" in stripped else (stripped.partition("="))
            )
            if not sep or not source.strip() or not target.strip():
                raise TranslateError(
                    f"{name}, line {number}: expected 'term = translation', got {stripped!r}"
                )
            terms.append(Term(source.strip(), target.strip()))
        return cls(tuple(terms))

    @classmethod
    def read(cls, path: Path) -> Glossary:
        return cls.parse(path.read_text(encoding="utf-8"), str(path))

    def apply(self, text: str) -> str:
        """`text` with each term already in its translation: a small model keeps a word it
        is given in the target language far more reliably than it follows a list."""
        for term in self.terms:
            text = term.pattern.sub(term.target.replace("\\", "\\\\"), text)  # literal
        return text

    def terms_in(self, text: str) -> list[Term]:
        """The terms that occur in `text`."""
        return [term for term in self.terms if term.occurs_in(text)]
