"""The runner's output filter: no partial UTF-8 characters, no stop string fragments."""

from __future__ import annotations

from pollama.engine.runner.text import OutputFilter


def _feed_all(f: OutputFilter, pieces: list[bytes]) -> str:
    out = ""
    for piece in pieces:
        out += f.feed(piece)
        if f.stopped:
            return out
    return out + f.flush()


def test_multibyte_character_split_over_tokens_is_held_until_complete() -> None:
    f = OutputFilter()
    data = "é漢😀".encode()
    emitted = [f.feed(data[i : i + 1]) for i in range(len(data))]
    assert "".join(emitted) == "é漢😀"
    assert all(chunk in ("", "é", "漢", "😀") for chunk in emitted)


def test_stop_string_split_across_pieces_is_cut() -> None:
    f = OutputFilter(("</answer>",))
    pieces = [b"The answer is 4", b"2.</", b"ans", b"wer>", b" trailing"]
    assert _feed_all(f, pieces) == "The answer is 42."
    assert f.stopped


def test_possible_stop_prefix_is_released_when_it_diverges() -> None:
    f = OutputFilter(("STOP",))
    assert f.feed(b"go ST") == "go "
    assert f.feed(b"ART") == "START"
    assert not f.stopped


def test_earliest_of_several_stops_wins() -> None:
    f = OutputFilter(("b", "abc"))
    assert f.feed(b"xxabc") == "xx"  # "abc" starts before "b"
    assert f.stopped


def test_flush_drops_a_dangling_partial_character() -> None:
    f = OutputFilter()
    assert f.feed(b"ok" + "漢".encode()[:2]) == "ok"
    assert f.flush() == ""


def test_invalid_bytes_become_replacement_characters() -> None:
    f = OutputFilter()
    assert f.feed(b"a\xffb") == "a\ufffdb"
