"""Languages by code: the name the model is told, and the script a translation must use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Each script's letters, as the body of a regular-expression character class.
_SCRIPTS = {
    "han": _HAN,
    "japanese": _HAN + "\u3040-\u30ff",
    "hangul": "\uac00-\ud7af\u1100-\u11ff",
    "cyrillic": "\u0400-\u04ff",
    "greek": "\u0370-\u03ff",
    "arabic": "\u0600-\u06ff",
    "hebrew": "\u0590-\u05ff",
    "devanagari": "\u0900-\u097f",
    "thai": "\u0e00-\u0e7f",
}
_LATIN = "A-Za-z\u00c0-\u024f"
# What a JSON string in a grammar may hold unescaped: no quote, backslash or control character.
_UNESCAPED = r'"\\\x00-\x1f'
# Braces only as a placeholder's: a stray `}` is how a small model that lost track of the
# JSON "closes" it inside a string and then runs on.
_PLACEHOLDER = r"\{[0-9]+\}"
_LATIN_WORD = re.compile(f"[{_LATIN}]+")


@dataclass(frozen=True)
class Language:
    """A language: its code, its English name, and its script's letters as a character
    class body (None: Latin)."""

    code: str
    name: str
    letters: str | None = None

    @cached_property
    def script(self) -> re.Pattern[str] | None:
        return None if self.letters is None else re.compile(f"[{self.letters}]")

    @property
    def answer_pattern(self) -> str | None:
        """A JSON schema `pattern` for a line written in this language's script: its first
        letter is one of the script's (digits, punctuation and placeholders may come first).
        Constrained decoding then cannot hand a line back in a Latin-script source. None for
        a Latin-script language, where no pattern can tell the languages apart."""
        if self.letters is None:
            return None
        lead = f"([^{_UNESCAPED}{{}}{_LATIN}{self.letters}]|{_PLACEHOLDER})*"
        rest = f"([^{_UNESCAPED}{{}}]|{_PLACEHOLDER})*"
        return f"^{lead}[{self.letters}]{rest}$"

    def is_written_in(self, text: str) -> bool:
        """Whether `text` reads as this language's script: for a non-Latin script, at least
        as many of its letters as Latin words (names and brands may stay in Latin)."""
        if self.script is None:
            return True
        native = len(self.script.findall(text))
        return native > 0 and native >= len(_LATIN_WORD.findall(text))


_KNOWN = [
    Language("zh", "Simplified Chinese", _SCRIPTS["han"]),
    Language("zh-tw", "Traditional Chinese", _SCRIPTS["han"]),
    Language("ja", "Japanese", _SCRIPTS["japanese"]),
    Language("ko", "Korean", _SCRIPTS["hangul"]),
    Language("ru", "Russian", _SCRIPTS["cyrillic"]),
    Language("uk", "Ukrainian", _SCRIPTS["cyrillic"]),
    Language("el", "Greek", _SCRIPTS["greek"]),
    Language("ar", "Arabic", _SCRIPTS["arabic"]),
    Language("he", "Hebrew", _SCRIPTS["hebrew"]),
    Language("hi", "Hindi", _SCRIPTS["devanagari"]),
    Language("th", "Thai", _SCRIPTS["thai"]),
    *(
        Language(code, name)
        for code, name in [
            ("en", "English"),
            ("fr", "French"),
            ("de", "German"),
            ("es", "Spanish"),
            ("it", "Italian"),
            ("pt", "Portuguese"),
            ("nl", "Dutch"),
            ("pl", "Polish"),
            ("sv", "Swedish"),
            ("tr", "Turkish"),
            ("vi", "Vietnamese"),
            ("id", "Indonesian"),
        ]
    ),
]
LANGUAGES = {language.code: language for language in _KNOWN}
_ALIASES = {"zh-cn": "zh", "zh-hans": "zh", "zh-hant": "zh-tw", "cn": "zh", "jp": "ja"}


def language(code: str) -> Language:
    """The language of `code` ("zh", "fr", ...); an unknown code is taken as a language
    name ("Klingon") that the model is told as is, with no script to check."""
    key = code.strip().lower()
    key = _ALIASES.get(key, key)
    if key in LANGUAGES:
        return LANGUAGES[key]
    by_name = {lang.name.lower(): lang for lang in _KNOWN}
    return by_name.get(key, Language(key, code.strip()))
