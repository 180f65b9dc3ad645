"""Fixed chunks at fixed positions: how a seeded request reuses the prompt cache exactly.

llama.cpp's numbers for a token depend, in the last bits, on the shape of the batch that
evaluated it (its kernels tile and sum differently for other batch widths), so a prefix
cached from an earlier request, evaluated part in a prompt chunk and part token by token,
gives logits that differ slightly from a fresh evaluation, and a seeded reply may then differ.

A seeded request's prompt is therefore cut into segments that depend on the request alone,
each evaluated alone: a chunk is one `llama_decode` of its tokens; a reply (`Replay`) is
decoded step by step as its generation decoded it (`replay.py`). Where two requests plan the
same segments over the same tokens, a segment cached from one holds the numbers a fresh
evaluation of the other would compute, and a seeded request reuses cached segments only.

- A chat request knows where its earlier replies lie. From position 0, a chunk ends after
  `CHUNK` tokens, where the prompt ends, or where a reply begins; a reply is one segment but
  for its last token, which opens the next chunk (a reply's generation never decodes the
  token it ends with, so a reply that ended at `num_predict` and one that ended at its
  end-of-turn token are both cached up to there). The prompt of a turn ends where its reply
  begins, so the next turn finds the turn's chunks and the reply as generated, and evaluates
  only its new tokens.
- Other requests (a generate with `context`) do not: a chunk ends after `CHUNK` tokens or just
  after an end-of-turn token (`<|im_end|>`, `<end_of_turn>`, ...), and only such complete
  chunks are kept. A seeded reply is re-evaluated into them with its end-of-turn token while
  the runner is idle.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

CHUNK = 64


@dataclass(frozen=True)
class Replay:
    """A reply's segment: decoded as a generation with these drafting settings decodes."""

    settings: Hashable


# A segment's end and shape (None: a chunk); it starts where the segment before it ends.
Segment = tuple[int, Replay | None]


def chunk_length(tokens: list[int], is_end_of_turn: Callable[[int], bool]) -> int:
    """How many of `tokens` (which start at a chunk boundary) the chunk takes."""
    for i, token in enumerate(tokens[:CHUNK]):
        if is_end_of_turn(token):
            return i + 1
    return min(len(tokens), CHUNK)


def is_complete(tokens: list[int], is_end_of_turn: Callable[[int], bool]) -> bool:
    """Whether a chunk ends at a boundary (not merely where a prompt ends)."""
    return len(tokens) == CHUNK or (bool(tokens) and is_end_of_turn(tokens[-1]))


def plan_turns(tokens: list[int], is_end_of_turn: Callable[[int], bool]) -> list[Segment]:
    """The chunks of a prompt whose replies are not known: ended by size or end-of-turn."""
    segments: list[Segment] = []
    start = 0
    while start < len(tokens):
        start += chunk_length(tokens[start:], is_end_of_turn)
        segments.append((start, None))
    return segments


def plan_chat(length: int, replies: list[tuple[int, int]], replay: Replay) -> list[Segment]:
    """The segments of a chat prompt of `length` tokens whose replies span `replies`
    (ascending token ranges)."""
    segments: list[Segment] = []
    start = 0
    for reply_start, reply_end in replies:
        if reply_start < start or reply_end > length:
            continue  # overlapping, or past the prompt: left to the chunks
        while start < reply_start:
            start = min(start + CHUNK, reply_start)
            segments.append((start, None))
        if reply_end - 1 > reply_start:  # a reply of one token (or none) is the next chunk's
            start = reply_end - 1
            segments.append((start, replay))
    while start < length:
        start = min(start + CHUNK, length)
        segments.append((start, None))
    return segments


def shared(cached: list[Segment], planned: list[Segment], limit: int) -> int:
    """How many leading segments `cached` and `planned` have alike, ending by `limit`."""
    n = 0
    for mine, theirs in zip(cached, planned, strict=False):
        if mine != theirs or mine[0] > limit:
            break
        n += 1
    return n
