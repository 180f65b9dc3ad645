"""How a seeded prompt is cut into segments (`chunks.py`): by its replies, or by its turns."""

from __future__ import annotations

from pollama.engine.runner.chunks import CHUNK, Replay, plan_chat, plan_turns, shared

REPLAY = Replay(("settings",))


def test_a_chat_s_chunks_end_where_a_reply_begins_and_its_last_token_opens_the_next() -> None:
    segments = plan_chat(250, [(70, 90), (160, 161), (180, 180)], REPLAY)
    assert segments == [
        (CHUNK, None),
        (70, None),
        (89, REPLAY),  # the reply but its last token
        (89 + CHUNK, None),
        (160, None),  # a reply of one token, or of none, opens the next chunk
        (180, None),
        (180 + CHUNK, None),
        (250, None),
    ]


def test_the_next_turn_plans_a_turn_s_chunks_alike() -> None:
    """A turn's prompt ends where its reply begins: the next turn, with that reply, plans
    the same chunks before it."""
    turn = plan_chat(100, [], REPLAY)
    after = plan_chat(140, [(100, 120)], REPLAY)
    assert after[: len(turn)] == turn
    assert shared(turn, after, limit=139) == len(turn)


def test_a_prompt_without_replies_is_chunked_at_its_turns() -> None:
    tokens = [5] * 10 + [2] + [5] * 100  # 2 ends a turn
    assert plan_turns(tokens, lambda t: t == 2) == [(11, None), (11 + CHUNK, None), (111, None)]


def test_segments_are_shared_only_alike_and_within_the_limit() -> None:
    cached = [(64, None), (80, REPLAY), (100, None)]
    assert shared(cached, [(64, None), (80, None)], limit=200) == 1
    assert shared(cached, cached, limit=90) == 2
