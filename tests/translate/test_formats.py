"""Readers keep every byte outside the cues' words, and find exactly the cues a person sees."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pollama.translate import Document, read_document
from pollama.translate.formats import format_for, sniff

DATA = Path(__file__).parent / "data"

SRT = (
    "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> there\r\n\r\n"
    "7\r\n00:00:03,04 --> 00:00:04,000 X1:10 X2:20\r\n- Hi.\r\n- Bye.\r\n\r\n"
    "8\r\n00:00:05,000 --> 00:00:06,000\r\n♪ ♪"
)
VTT = (
    "WEBVTT\n\nNOTE a comment --\nover two lines\n\nSTYLE\n::cue { color: red }\n\n"
    "id-1\n00:01.000 --> 00:02.000 align:start\n<v Anna>Hello</v>\n\n"
    "00:03.000 --> 00:04.000\nTwo\nlines\n"
)
ASS = (
    "[Script Info]\nTitle: test\nScriptType: v4.00+\n\n[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize\nStyle: Default,Arial,20\n\n[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\an8}Hello, world\\Nsecond line\n"
    "Comment: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,not shown\n"
    "Dialogue: 0,0:00:03.00,0:00:04.00,Default,Anna,0,0,0,,One, two, three\n"
)
MARKDOWN = (
    "---\ntitle: Notes\n---\n# The night train\n\nIt leaves at `23:45` from\n"
    "[platform 9](https://example.org/p9).\n\n```python\nprint('not translated')\n```\n\n"
    "- first item\n- second item\n\n| a | b |\n|---|---|\n\n> quoted line\n"
)
TEXT = "First paragraph,\nwrapped.\n\n\nSecond one, see https://example.org/x.\n"


def _translated(document: Document) -> str:
    return document.render({c.id: f"[{c.id}]" for c in document.cues})


@pytest.mark.parametrize(
    ("text", "format", "cues"),
    [
        (SRT, "srt", ["<i>Hello</i> there", "- Hi.\r\n- Bye.", "♪ ♪"]),
        (VTT, "vtt", ["<v Anna>Hello</v>", "Two\nlines"]),
        (ASS, "ass", ["{\\an8}Hello, world\\Nsecond line", "One, two, three"]),
        (
            MARKDOWN,
            "md",
            [
                "The night train",
                "It leaves at `23:45` from\n[platform 9](https://example.org/p9).",
                "first item",
                "second item",
                "quoted line",
            ],
        ),
        (TEXT, "txt", ["First paragraph,\nwrapped.", "Second one, see https://example.org/x."]),
    ],
)
def test_reader_finds_the_cues_and_writes_the_rest_back_byte_for_byte(
    text: str, format: str, cues: list[str]
) -> None:
    document = read_document(text, format)
    assert [c.text for c in document.cues] == cues
    assert [c.id for c in document.cues] == list(range(1, len(cues) + 1))
    assert document.render({}) == text
    # Replace every cue: what is left around them is the same bytes, in the same order.
    rendered = _translated(document)
    kept = re.split(r"\[\d+\]", rendered)
    assert "".join(kept) == "".join(document.kept)


def test_srt_indices_and_timings_survive_translation_unchanged() -> None:
    """Checked without the reader: every index and timing line, as bytes, before and after."""
    data = (DATA / "night_train.srt").read_bytes()
    document = read_document(data.decode(), "srt")
    assert len(document.cues) == 110
    out = _translated(document).encode()
    structure = re.compile(rb"^\d+\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$", re.MULTILINE)
    assert structure.findall(out) == structure.findall(data)
    assert len(structure.findall(data)) == 110


def test_vtt_headers_notes_styles_and_cue_settings_are_kept() -> None:
    data = (DATA / "night_train.vtt").read_bytes().decode()
    document = read_document(data, "vtt")
    assert len(document.cues) == 8
    out = _translated(document)
    for kept in (
        "WEBVTT - Night train, part two\r\nKind: captions\r\n\r\nNOTE\r\n",
        "intro\r\n00:00.500 --> 00:02.000 align:start position:10%\r\n[1]\r\n",
        "3\r\n00:04.500 --> 00:07.250 line:0\r\n[3]\r\n",
        "01:00:14.500 --> 01:00:16.000\r\n[7]\r\n",
    ):
        assert kept in out


def test_ass_keeps_every_field_but_the_text() -> None:
    out = _translated(read_document(ASS, "ass"))
    assert "Dialogue: 0,0:00:03.00,0:00:04.00,Default,Anna,0,0,0,,[2]\n" in out
    assert "Comment: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,not shown\n" in out


@pytest.mark.parametrize(
    ("text", "format"),
    [(SRT, "srt"), (VTT, "vtt"), (ASS, "ass"), (TEXT, "txt"), ("[Script Info]\n", "ass")],
)
def test_stdin_formats_are_recognised_by_their_first_lines(text: str, format: str) -> None:
    assert sniff(text) == format


def test_the_file_name_decides_before_the_content() -> None:
    assert format_for(Path("notes.md"), VTT) == "md"
    assert format_for(Path("x.SRT"), "") == "srt"
    assert format_for(None, TEXT, "vtt") == "vtt"
