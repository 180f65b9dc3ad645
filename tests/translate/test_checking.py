"""The checks an answer must pass beyond the schema, and the batch requests themselves."""

from __future__ import annotations

import json
import re

import pytest

from pollama.translate import Glossary, TranslateError, language
from pollama.translate.batching import Batch, batches, system_prompt, user_prompt
from pollama.translate.checking import problem
from pollama.translate.units import Unit

EN, ZH, FR = language("en"), language("zh"), language("fr")


def _unit(source: str, spans: tuple[str, ...] = (), key: str = "1.1") -> Unit:
    return Unit(key, int(key.split(".")[0]), source, spans)


@pytest.mark.parametrize(
    ("source", "answer", "reason"),
    [
        ("Good morning.", "早上好。", None),
        ("I love Python.", "我喜欢Python。", None),
        ("Good morning.", "", "empty answer"),
        ("Good morning.", "Good morning.", "not in Simplified Chinese"),
        ("Good morning, everyone here.", "Good morning, everyone 好.", "not in Simplified Chinese"),
        ("Hi.", "你好" * 20, "far longer than its source"),
    ],
)
def test_answers_to_chinese(source: str, answer: str, reason: str | None) -> None:
    assert problem(_unit(source), answer, EN, ZH, Glossary()) == reason


def test_an_unchanged_sentence_is_not_a_french_translation_but_a_name_may_be() -> None:
    assert problem(_unit("Good night, Anna."), "Good night, Anna.", EN, FR, Glossary())
    assert problem(_unit("Anna!"), "Anna !", EN, FR, Glossary()) is None


def test_lost_tags_and_ignored_glossary_terms_are_problems() -> None:
    tagged = _unit("It was {1}very{2} late.", ("<i>", "</i>"))
    assert problem(tagged, "很晚了。", EN, ZH, Glossary()) == "tags lost or moved"
    glossary = Glossary.parse("Anna = 安娜\n")
    assert problem(_unit("Anna is here."), "安娜在这里。", EN, ZH, glossary) is None
    assert problem(_unit("Anna is here."), "安妮在这里。", EN, ZH, glossary) == (
        "glossary: 'Anna' must be '安娜'"
    )


def test_a_batch_schema_requires_exactly_one_string_per_cue() -> None:
    batch = Batch((_unit("One.", key="1.1"), _unit("Two.", key="2.1")))
    assert batch.schema(EN) == {
        "type": "object",
        "properties": {"1": {"type": "string"}, "2": {"type": "string"}},
        "required": ["1", "2"],
        "additionalProperties": False,
    }
    assert batch.answers('{"1": " 一。", "2": "二。"}') == {"1.1": "一。", "2.1": "二。"}
    assert batch.answers('{"1": "一。", "2": "二') == {"1.1": "一。"}  # cut short
    assert batch.answers('{"1": "a\x16b"}') == {"1.1": "a\x16b"}  # llama.cpp lets these by
    assert batch.answers("not json") == {}
    assert batch.answers('{"1": "一\\n\\n二", "2": "x"}')["1.1"] == "一 二"  # no new lines


def test_batches_carry_their_neighbours_as_context() -> None:
    units = [_unit(f"Line {n}.", key=f"{n}.1") for n in range(1, 8)]
    work = batches(units, size=3, context=2)
    assert [len(b.units) for b in work] == [3, 3, 1]
    assert work[1].before == ("Line 2.", "Line 3.") and work[1].after == ("Line 7.",)
    prompt = user_prompt(ZH, Glossary(), work[1])
    assert json.loads(prompt.rsplit("\n", 1)[1]) == {"1": "Line 4.", "2": "Line 5.", "3": "Line 6."}
    assert "Line 2." in prompt.split("Translate into")[0]


def test_glossary_terms_are_given_already_translated_and_listed() -> None:
    glossary = Glossary.parse("# names\nAnna = 安娜\nVienna\t维也纳\n")
    batch = Batch((_unit("Anna waits for anna."),))
    assert "Anna: 安娜" in system_prompt(EN, ZH, glossary, batch)
    assert "维也纳" not in system_prompt(EN, ZH, glossary, batch)  # only the terms it uses
    assert user_prompt(ZH, glossary, batch).endswith('{"1":"安娜 waits for 安娜."}')


def test_a_glossary_line_without_a_translation_is_refused_with_its_line_number() -> None:
    with pytest.raises(TranslateError, match="line 2"):
        Glossary.parse("Anna = 安娜\nVienna\n", "terms.txt")


def test_a_schema_into_another_script_makes_each_line_begin_in_that_script() -> None:
    batch = Batch((_unit("One.", key="1.1"),))
    line = batch.schema(ZH)["properties"]["1"]
    assert "pattern" not in batch.schema(FR)["properties"]["1"]
    pattern = re.compile(line["pattern"])
    for good in ["一。", "{1}很晚了{2}。", "3 欧元", "「你好」Anna", "[门砰地关上]"]:
        assert pattern.match(good), good
    for bad in ["One.", "Anna 你好", "", "3 euros", '你"好', "你\\n好", "你\n好", "好。”}..."]:
        assert not pattern.match(bad), bad
