"""Readers for the files `pollama translate` takes: SubRip, WebVTT, ASS, text, Markdown, and
the text subtitles inside videos."""

from __future__ import annotations

from pollama.translate.formats.reading import READERS, decode, format_for, read_document, sniff
from pollama.translate.formats.video import VIDEO_SUFFIXES, extract_subtitles

__all__ = [
    "READERS",
    "VIDEO_SUFFIXES",
    "decode",
    "extract_subtitles",
    "format_for",
    "read_document",
    "sniff",
]
