"""Speculative decoding with a draft model (Modelfile `DRAFT`): a small model of the same
vocabulary proposes the next tokens, and the target verifies them in its one batched decode.

The draft model has its own llama.cpp context (one KV sequence per slot, the same threads).
When a slot drafts, its `ModelDrafter` brings the draft sequence up to the text (removing
what the target rejected, decoding what it accepted since) and then decodes the draft
model's own greedy choice, one token at a time.

The verification is the engine's, unchanged: draw t ~ p from the target and keep the draft
token while t equals it. That is the standard accept/reject rule here because the drafts are
the draft model's *greedy* tokens, a fixed function of the text: the proposal q is a point
mass at each draft token, and for a point mass min(1, p/q) and the residual max(0, p - q)
reduce to exactly that draw (see `speculate.py`). The draft model's softmax is not q, so it
has no place in the rule; sampling the drafts from it instead would be accepted more often
at high temperatures, but would need the target's whole distribution in Python at every
verified position. (llama.cpp's server drafts greedily and verifies the same way.)

A draft token costs a draft decode before the target sees it, so a slot drafts the j-th token
only while that pays: when the chance that the first j are all accepted (the learned
per-token acceptance to the j-th power) exceeds the token's cost, a draft decode measured
against a target pass plus the token's share of the target's batch. A draft model that is
seldom right stops drafting and only probes every `PROBE_EVERY` steps with one token. The
acceptance is learned across requests (it says how well the two models agree); a seeded
request learns its own, and prices tokens from the models' sizes, never from timings, so
its drafts (and batch shapes, and numbers) depend on its text alone.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import llama_cpp.llama_cpp as C

from pollama.engine.runner import model as native
from pollama.engine.runner.batch import Batch
from pollama.engine.runner.slots import common_prefix
from pollama.engine.runner.speculate import DecodeCost, DraftScore
from pollama.engine.types import LoadSpec
from pollama.errors import PollamaError
from pollama.vocabulary import VocabFacts, draft_mismatch

log = logging.getLogger(__name__)

MODEL = -1  # the kind of a draft model's drafts (prompt lookup's are n-gram lengths)
PROBE_EVERY = 16  # steps a slot that stopped drafting waits before it tries one token
FORGET = 0.9  # how fast the measured draft decode time forgets
MIN_RATIO, MAX_RATIO = 0.01, 2.0  # a draft decode against a target pass, as measured


def vocab_facts(vocab: C.llama_vocab_p) -> VocabFacts:
    """A loaded vocabulary's facts, read from llama.cpp."""
    n = C.llama_vocab_n_tokens(vocab)
    texts = [(C.llama_vocab_get_text(vocab, i) or b"").decode(errors="replace") for i in range(n)]
    kind = str(C.llama_vocab_type(vocab))
    return VocabFacts(kind, C.llama_vocab_bos(vocab), C.llama_vocab_eos(vocab), texts)


class DraftModel:
    """The loaded draft model: its context, the tokens in each slot's sequence, its cost."""

    def __init__(
        self, ctx: C.llama_context_p, n_vocab: int, num_ctx: int, size_ratio: float
    ) -> None:
        self.ctx = ctx
        self.mem = C.llama_get_memory(ctx)
        self.batch = Batch(C.llama_n_batch(ctx))
        self.greedy = C.llama_sampler_init_greedy()
        self.vocab = C.llama_model_get_vocab(C.llama_get_model(ctx))
        self.n_vocab = n_vocab  # ids both models have: a draft beyond them is cut
        self.num_ctx = num_ctx
        self.caches: dict[int, list[int]] = {}
        self.prior = size_ratio  # the cost of a draft decode before one is timed
        self.seconds: float | None = None  # a one-token draft decode, as measured
        # How often its drafts are accepted: a property of the two models more than of one
        # request's text, so every unseeded request learns from and into the same numbers.
        self.stats = {MODEL: [1.0, 1.0]}

    def ratio(self, cost: DecodeCost, fixed: bool) -> float:
        """A draft decode's cost in target passes (the prior when `fixed`: seeded requests
        draft from their text alone, never from timings)."""
        target = cost.pass_seconds()
        if fixed or self.seconds is None or target is None:
            return self.prior
        return min(MAX_RATIO, max(MIN_RATIO, self.seconds / target))

    def generate(self, seq: int, text: list[int], n: int) -> list[int]:
        """Up to `n` greedy tokens after `text` in sequence `seq` (fewer at an end of
        generation, a token the target lacks, or a failed decode)."""
        cache = self.caches.setdefault(seq, [])
        keep = min(common_prefix(cache, text), len(text) - 1)  # the last gives the logits
        if not C.llama_memory_seq_rm(self.mem, seq, keep, -1):
            C.llama_memory_seq_rm(self.mem, seq, -1, -1)
            keep = 0
        del cache[keep:]
        index = self._decode(seq, text[keep:])
        drafted: list[int] = []
        while index is not None:
            token = C.llama_sampler_sample(self.greedy, self.ctx, index)
            if token >= self.n_vocab:
                break
            drafted.append(token)
            if len(drafted) == n or C.llama_vocab_is_eog(self.vocab, token):
                break
            index = self._decode(seq, [token])
        return drafted

    def _decode(self, seq: int, tokens: list[int]) -> int | None:
        """Decode `tokens` after the sequence's cache, in batch-sized chunks; the last
        token's output index, None if a decode failed (the sequence is then emptied)."""
        cache, batch = self.caches[seq], self.batch
        index = None
        for start in range(0, len(tokens), batch.capacity):
            chunk = tokens[start : start + batch.capacity]
            batch.clear()
            index = batch.add(chunk, len(cache), seq, "last")
            began = time.perf_counter()
            if batch.decode(self.ctx) != 0:
                log.warning("draft model decode failed; the slot drafts afresh")
                C.llama_memory_seq_rm(self.mem, seq, -1, -1)
                cache.clear()
                return None
            if len(chunk) <= 2:  # a step's decodes, not a prompt's: what a draft costs
                took = time.perf_counter() - began
                last = took if self.seconds is None else self.seconds
                self.seconds = last * FORGET + took * (1 - FORGET)
            cache.extend(chunk)
        return index


class ModelDrafter(DraftScore):
    """One request's drafts from the draft model: its text, its slot, what it learned."""

    __slots__ = ("cost", "draft", "fixed", "idle", "seq", "tokens")

    def __init__(
        self, draft: DraftModel, seq: int, prompt: list[int], cost: DecodeCost, fixed: bool
    ) -> None:
        super().__init__((MODEL,), None if fixed else draft.stats)
        self.draft, self.seq, self.cost, self.fixed = draft, seq, cost, fixed
        self.tokens = list(prompt)
        self.idle = 0  # steps since this request last drafted

    def append(self, token: int) -> None:
        """`token` became part of the text."""
        self._score_unsent(token)
        self.tokens.append(token)

    def propose(self, limit: int) -> tuple[int, list[int]]:
        """(MODEL, up to `limit` draft tokens): as many as pay, or one as a probe."""
        limit = min(limit, self.draft.num_ctx - len(self.tokens))
        if limit <= 0:
            return MODEL, []
        n = self._worth(limit)
        if n == 0:
            self.idle += 1
            if self.idle < PROBE_EVERY:
                return MODEL, []
            n = 1
        self.idle = 0
        return MODEL, self.draft.generate(self.seq, self.tokens, n)

    def _worth(self, limit: int) -> int:
        """How many draft tokens pay: the j-th while acceptance**j exceeds its cost."""
        price = self.draft.ratio(self.cost, self.fixed)
        price += self.cost.prior if self.fixed else self.cost.per_token()
        acceptance, chance, n = self.acceptance(MODEL), 1.0, 0
        while n < limit:
            chance *= acceptance
            if chance <= price:
                break
            n += 1
        return n


def load_draft(spec: LoadSpec, path: Path, target: C.llama_model_p) -> DraftModel:
    """The draft model at `path`, loaded beside `target` with the spec's options;
    PollamaError when it fails to load or cannot draft for it (another vocabulary)."""
    draft_spec = dataclasses.replace(spec, model_path=path, adapters=())
    model, _ = native.load_model(draft_spec)
    target_vocab = C.llama_model_get_vocab(target)
    draft_vocab = C.llama_model_get_vocab(model)
    reason = draft_mismatch(vocab_facts(target_vocab), vocab_facts(draft_vocab))
    if reason is not None:
        C.llama_model_free(model)
        raise PollamaError(reason)
    ctx = native.new_context(model, spec.options, [])
    n_vocab = min(C.llama_vocab_n_tokens(target_vocab), C.llama_vocab_n_tokens(draft_vocab))
    ratio = C.llama_model_size(model) / max(1, C.llama_model_size(target))
    return DraftModel(ctx, n_vocab, spec.options.num_ctx, ratio)
