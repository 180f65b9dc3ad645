"""Subtitle and document translation through a pollama (or Ollama) server.

from pollama.translate import Settings, translate_file
summary = translate_file(Path("movie.srt"), settings=Settings(target="zh"))
"""

from __future__ import annotations

from pollama.translate.document import Cue, Document
from pollama.translate.errors import TranslateError
from pollama.translate.formats import READERS, extract_subtitles, read_document
from pollama.translate.glossary import Glossary, Term
from pollama.translate.jobs import (
    Translation,
    default_output,
    read_input,
    state_path,
    translate_document,
    translate_file,
    translate_text,
    write_output,
)
from pollama.translate.languages import Language, language
from pollama.translate.state import ResumeState
from pollama.translate.translator import DEFAULT_MODEL, Settings, Summary, Translator

__all__ = [
    "DEFAULT_MODEL",
    "READERS",
    "Cue",
    "Document",
    "Glossary",
    "Language",
    "ResumeState",
    "Settings",
    "Summary",
    "Term",
    "TranslateError",
    "Translation",
    "Translator",
    "default_output",
    "extract_subtitles",
    "language",
    "read_document",
    "read_input",
    "state_path",
    "translate_document",
    "translate_file",
    "translate_text",
    "write_output",
]
