"""Fixed chunks at fixed positions: how a seeded request reuses the prompt cache exactly.

llama.cpp's numbers for a token depend, in the last bits, on the shape of the batch that
evaluated it (its kernels tile and sum differently for other batch widths), so a prefix
cached from an earlier request, evaluated part in a prompt chunk and part token by token,
gives logits that differ slightly from a fresh evaluation, and a seeded reply may then differ.

A seeded request's prompt is therefore evaluated in chunks of `CHUNK` tokens that start at
multiples of `CHUNK`, each alone in its own `llama_decode`: position p is always evaluated in
the chunk [p - p % CHUNK, ...), with the same tokens before it, in the same batch shape,
whichever request it belongs to. Only such full chunks count as a slot's `canonical` prefix,
and a seeded request reuses at most that. The reply of a seeded request (decoded token by
token) is brought into the same form while the runner is idle, so the next turn of a seeded
chat finds its history canonical and evaluates only its new tokens (and up to CHUNK - 1 more).
"""

from __future__ import annotations

CHUNK = 16


def aligned(n: int) -> int:
    """The last chunk boundary at or before position `n`."""
    return n - n % CHUNK


def chunk_end(start: int, end: int) -> int:
    """Where the chunk holding position `start` ends, within a prompt ending at `end`."""
    return min(end, aligned(start) + CHUNK)
