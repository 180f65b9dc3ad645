"""Which reader a file needs (by suffix, else by its first bytes), and decoding its bytes."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from pathlib import Path

from pollama.translate.document import Document
from pollama.translate.errors import TranslateError
from pollama.translate.formats.ass import read_ass
from pollama.translate.formats.prose import read_markdown, read_text
from pollama.translate.formats.timed import read_timed

log = logging.getLogger(__name__)

READERS: dict[str, Callable[[str], Document]] = {
    "srt": functools.partial(read_timed, format="srt"),
    "vtt": functools.partial(read_timed, format="vtt"),
    "ass": read_ass,
    "txt": read_text,
    "md": read_markdown,
}
SUFFIXES = {
    ".srt": "srt",
    ".vtt": "vtt",
    ".ass": "ass",
    ".ssa": "ass",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
}
_SRT_TIMING = re.compile(r"^\d+\s*\r?\n\s*\d+:\d\d:\d\d[,.]\d+\s*-->", re.MULTILINE)


def sniff(text: str) -> str:
    """The format of a text with no file name (stdin): VTT, ASS and SRT by their first lines."""
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith("[Script Info]"):
        return "ass"
    if _SRT_TIMING.search(head):
        return "srt"
    return "txt"


def format_for(path: Path | None, text: str, given: str | None = None) -> str:
    """The reader's name: `given` if set, else the suffix's, else what the text looks like."""
    if given:
        if given not in READERS:
            raise TranslateError(f"unknown format {given!r}: use one of {', '.join(READERS)}")
        return given
    if path is not None and path.suffix.lower() in SUFFIXES:
        return SUFFIXES[path.suffix.lower()]
    return sniff(text)


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is kept, as a character); other encodings are read as Windows-1252, and
    the output is UTF-8 then, since a legacy code page cannot hold the translation."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("input is not UTF-8; reading it as Windows-1252, writing UTF-8")
        return data.decode("cp1252", errors="replace")


def read_document(text: str, format: str) -> Document:
    """`text` read by the reader named `format` ("srt", "vtt", "ass", "txt", "md")."""
    return READERS[format](text)
