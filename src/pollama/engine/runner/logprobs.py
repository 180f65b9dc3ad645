"""Log-probabilities of generated tokens, read from the logits the sampler drew from.

`LogprobReader.read` is called right after a token is sampled, with the same context and
batch output index, so the values come from the very step that chose the token (with drafts,
the verifying step's). They are the model's distribution there: the log-softmax of its
logits, before temperature, truncation and grammar reshape them, as Ollama and OpenAI report.

A token's entry goes out with the text it completes: `Pending` holds entries until the
output filter has released their bytes, and drops those whose bytes a stop string cut.
"""

from __future__ import annotations

import collections
from typing import Any

import llama_cpp.llama_cpp as C
import numpy as np

from pollama.engine.runner.model import Vocab

MAX_TOP_LOGPROBS = 20  # Ollama's and OpenAI's limit

# A `Logprob` as it crosses the wire: [token, logprob, bytes, [[token, logprob, bytes], ...]].
WireLogprob = list[Any]


class LogprobReader:
    """Turns one batch output's logits into a wire `Logprob`."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def _entry(self, token: int, logprob: float) -> list[Any]:
        piece = self.vocab.piece(token)
        return [piece.decode("utf-8", errors="replace"), logprob, list(piece)]

    def read(self, ctx: C.llama_context_p, index: int, token: int, top: int) -> WireLogprob:
        """`token`'s log-probability at output `index` and the `top` most likely tokens."""
        n_vocab = self.vocab.n_tokens
        logits = np.ctypeslib.as_array(C.llama_get_logits_ith(ctx, index), shape=(n_vocab,))
        peak = float(logits.max())
        log_total = peak + float(np.log(np.exp(logits - peak, dtype=np.float64).sum()))
        entry = self._entry(token, float(logits[token]) - log_total)
        top = max(0, min(top, MAX_TOP_LOGPROBS, n_vocab))
        best: list[list[Any]] = []
        if top:
            ids = np.argpartition(logits, n_vocab - top)[n_vocab - top :]
            ids = ids[np.argsort(-logits[ids], kind="stable")]
            best = [self._entry(int(i), float(logits[i]) - log_total) for i in ids]
        return [*entry, best]


class Pending:
    """Entries waiting for their token's text to be released, with each token's byte end."""

    __slots__ = ("_entries", "_fed")

    def __init__(self) -> None:
        self._entries: collections.deque[tuple[int, WireLogprob]] = collections.deque()
        self._fed = 0

    def add(self, entry: WireLogprob, size: int) -> None:
        """Hold `entry`, whose token added `size` bytes to the output."""
        self._fed += size
        self._entries.append((self._fed, entry))

    def release(self, released_bytes: int) -> list[WireLogprob]:
        """The entries whose bytes all lie within the first `released_bytes` of the output."""
        out = []
        while self._entries and self._entries[0][0] <= released_bytes:
            out.append(self._entries.popleft()[1])
        return out
