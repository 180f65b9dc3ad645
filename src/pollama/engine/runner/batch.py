"""A `llama_batch` filled by slice assignment, so a prompt chunk costs no per-token Python loop.

`llama_batch_init` allocates one seq-id array per token, which forces per-token pointer writes.
Here every token has exactly one sequence, so `seq_id[i]` is fixed once to point at element i
of a single int32 array, and a chunk of hundreds of tokens is copied in with a few ctypes slice
assignments (C loops). numpy would do the same but costs 100 ms of runner start-up to import.
"""

from __future__ import annotations

import ctypes

import llama_cpp.llama_cpp as C


class Batch:
    """A reusable batch of up to `capacity` tokens, each in one sequence."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tokens = (C.llama_token * capacity)()
        self.pos = (C.llama_pos * capacity)()
        self.n_seq_id = (ctypes.c_int32 * capacity)(*([1] * capacity))
        self.seq = (C.llama_seq_id * capacity)()
        self.logits = (ctypes.c_int8 * capacity)()
        seq_ptr = ctypes.POINTER(C.llama_seq_id)
        base = ctypes.addressof(self.seq)
        size = ctypes.sizeof(C.llama_seq_id)
        self._seq_ptrs = (seq_ptr * capacity)(
            *(ctypes.cast(base + size * i, seq_ptr) for i in range(capacity))
        )
        self.n = 0
        self.struct = C.llama_batch(
            n_tokens=0,
            token=self.tokens,
            embd=None,
            pos=self.pos,
            n_seq_id=self.n_seq_id,
            seq_id=self._seq_ptrs,
            logits=self.logits,
        )

    def clear(self) -> None:
        """Empty the batch for the next step."""
        self.n = 0

    def add(self, tokens: list[int], start_pos: int, seq_id: int, output: str = "last") -> int:
        """Append `tokens` at positions from `start_pos`; returns the last token's index.

        `output` is "last" (logits for the last token only, as a prompt needs), "all" (every
        token, as pooling needs) or "none" (a prompt chunk with more to come).
        """
        a, b = self.n, self.n + len(tokens)
        self.tokens[a:b] = tokens
        self.pos[a:b] = range(start_pos, start_pos + len(tokens))
        self.seq[a:b] = [seq_id] * len(tokens)
        self.logits[a:b] = [1 if output == "all" else 0] * len(tokens)
        if output == "last":
            self.logits[b - 1] = 1
        self.n = b
        return b - 1

    def add_one(self, token: int, pos: int, seq_id: int) -> int:
        """Append a single generated token with logits on (the decode-step fast path)."""
        i = self.n
        self.tokens[i] = token
        self.pos[i] = pos
        self.seq[i] = seq_id
        self.logits[i] = 1
        self.n = i + 1
        return i

    @property
    def room(self) -> int:
        """Tokens that still fit."""
        return self.capacity - self.n

    def decode(self, ctx: C.llama_context_p) -> int:
        """Run `llama_decode` on what was added; returns llama.cpp's status (0 = ok)."""
        self.struct.n_tokens = self.n
        return C.llama_decode(ctx, self.struct)
