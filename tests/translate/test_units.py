"""How a cue is cut into what the model sees, and how the answer is put back around tags."""

from __future__ import annotations

import pytest

from pollama.translate import read_document
from pollama.translate.units import SplitCue, split_cue


def _srt_cue(text: str) -> SplitCue:
    [cue] = read_document(f"1\n00:00:01,000 --> 00:00:02,000\n{text}\n", "srt").cues
    return split_cue(cue)


@pytest.mark.parametrize(
    ("text", "sources"),
    [
        ("Hello there.", ["Hello there."]),
        ("A sentence wrapped\nover two lines.", ["A sentence wrapped over two lines."]),
        ("- Hi.\n- Hello!", ["Hi.", "Hello!"]),
        ("<i>- Hi.</i>\n<i>- Bye.</i>", ["Hi.", "Bye."]),
        ("<i>Whole line in italics.</i>", ["Whole line in italics."]),
        ("{\\an8}On top", ["On top"]),
        ("It was <i>very</i> late.", ["It was {1}very{2} late."]),
        ("♪ La, la, la ♪", ["La, la, la"]),
        ("♪ ♪", []),
        ("1984", []),
        ("...", []),
        ('<font color="#ff0">Next stop: Salzburg</font>', ["Next stop: Salzburg"]),
    ],
)
def test_words_go_to_the_model_and_markup_stays_out(text: str, sources: list[str]) -> None:
    assert [u.source for u in _srt_cue(text).units] == sources


@pytest.mark.parametrize(
    ("text", "answers", "rendered"),
    [
        ("- Hi.\n- Hello!", ["嗨。", "你好！"], "- 嗨。\n- 你好！"),
        ("<i>- Hi.</i>\n<i>- Bye.</i>", ["嗨。", "再见。"], "<i>- 嗨。</i>\n<i>- 再见。</i>"),
        ("It was <i>very</i> late.", ["{1}很{2}晚了。"], "<i>很</i>晚了。"),
        ("{\\an8}On top", ["在上面"], "{\\an8}在上面"),
        ("♪ La, la, la ♪", ["啦啦啦"], "♪ 啦啦啦 ♪"),
        ("Two\nlines.", ["两行。"], "两行。"),
    ],
)
def test_answers_are_put_back_between_the_kept_markup(
    text: str, answers: list[str], rendered: str
) -> None:
    cue = _srt_cue(text)
    translations = {u.key: a for u, a in zip(cue.units, answers, strict=True)}
    assert cue.render(translations) == rendered


def test_a_cue_without_words_comes_back_as_it_was_even_when_bilingual() -> None:
    cue = _srt_cue("♪ ♪")
    assert cue.render({}, bilingual=True) == "♪ ♪"


def test_bilingual_puts_the_source_above_the_translation() -> None:
    cue = _srt_cue("- Hi.\n- Hello!")
    texts = {cue.units[0].key: "嗨。", cue.units[1].key: "你好！"}
    assert cue.render(texts, bilingual=True) == "- Hi.\n- Hello!\n- 嗨。\n- 你好！"


def test_a_part_without_words_inside_a_worded_cue_is_kept_byte_for_byte() -> None:
    cue = _srt_cue("- ♪ ♪\n- Sing!")
    [unit] = cue.units
    assert cue.render({unit.key: "唱！"}) == "- ♪ ♪\n- 唱！"


@pytest.mark.parametrize(
    ("answer", "kept"),
    [("{1}很{2}晚了。", True), ("很晚了。", False), ("{2}很{1}晚了", False), ("{1}{2}{3}", False)],
)
def test_placeholders_must_all_come_back_once_and_in_order(answer: str, kept: bool) -> None:
    [unit] = _srt_cue("It was <i>very</i> late.").units
    assert unit.placeholders_kept(answer) is kept


def test_unit_keys_name_the_cue_and_the_part() -> None:
    document = read_document(
        "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:00:03,000 --> 00:00:04,000\n- A.\n- B.\n",
        "srt",
    )
    keys = [u.key for c in document.cues for u in split_cue(c).units]
    assert keys == ["1.1", "2.1", "2.2"]
