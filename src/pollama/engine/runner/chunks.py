"""Fixed chunks at fixed positions: how a seeded request reuses the prompt cache exactly.

llama.cpp's numbers for a token depend, in the last bits, on the shape of the batch that
evaluated it (its kernels tile and sum differently for other batch widths), so a prefix
cached from an earlier request, evaluated part in a prompt chunk and part token by token,
gives logits that differ slightly from a fresh evaluation, and a seeded reply may then differ.

A seeded request's prompt is therefore evaluated in chunks that depend on its tokens alone,
each alone in its own `llama_decode`: from position 0, a chunk ends after `CHUNK` tokens or
just after an end-of-turn token (`<|im_end|>`, `<end_of_turn>`, ...), whichever comes first.
Where two prompts share a prefix they share its chunks, so a chunk cached from one holds the
numbers a fresh evaluation of the other would compute. Only such complete chunks count as a
slot's canonical prefix, and a seeded request reuses at most that.

Chunks that end at end-of-turn tokens line up with a chat's turns: a seeded reply (decoded
token by token, with its end-of-turn token, which chat templates write back) is re-evaluated
into chunks while the runner is idle, and the next turn of a seeded chat then finds its whole
history canonical and evaluates only its new tokens.
"""

from __future__ import annotations

from collections.abc import Callable

CHUNK = 64


def chunk_length(tokens: list[int], is_end_of_turn: Callable[[int], bool]) -> int:
    """How many of `tokens` (which start at a chunk boundary) the chunk takes."""
    for i, token in enumerate(tokens[:CHUNK]):
        if is_end_of_turn(token):
            return i + 1
    return min(len(tokens), CHUNK)


def is_complete(tokens: list[int], is_end_of_turn: Callable[[int], bool]) -> bool:
    """Whether a chunk ends at a boundary (not merely where a prompt ends)."""
    return len(tokens) == CHUNK or (bool(tokens) and is_end_of_turn(tokens[-1]))


def last_boundary(boundaries: list[int], limit: int) -> int:
    """The last of the (ascending) chunk `boundaries` at or before `limit`."""
    best = 0
    for boundary in boundaries:
        if boundary > limit:
            break
        best = boundary
    return best
