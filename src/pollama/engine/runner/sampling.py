"""Per-request sampler chains, built from `SamplingOptions` in llama.cpp's native samplers.

Sampling never walks a logits array in Python: `llama_sampler_sample` applies the whole
chain (penalties, truncation, temperature, the final draw) and accepts the token. A grammar
is applied between the penalties and the draw (see `SamplerChain`).
Samplers whose settings make them no-ops are left out, since each one walks the candidates.
`tfs_z` and `penalize_newline` no longer exist in llama.cpp; they are accepted and ignored.
"""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp.llama_cpp as C
import numpy as np

from pollama.engine.types import SamplingOptions
from pollama.errors import InvalidRequest

MIROSTAT_M = 100  # llama.cpp's (and Ollama's) fixed candidate count for mirostat v1


# llama_token_data, as numpy lays out a C struct of int32, float, float.
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


class _Candidates:
    """Tokens and logits as a `llama_token_data_array` that samplers can be applied to."""

    __slots__ = ("array", "ids", "rows")

    def __init__(self, size: int) -> None:
        self.rows = np.zeros(size, dtype=_TOKEN_DATA)
        self.ids = np.arange(size, dtype=np.int32)
        self.array = C.llama_token_data_array()

    def _reset(self) -> Any:
        array = self.array
        array.data = self.rows.ctypes.data_as(C.llama_token_data_p)
        array.size = len(self.rows)
        array.selected = -1
        array.sorted = False
        return ctypes.byref(array)

    def of_logits(self, ctx: C.llama_context_p, index: int) -> Any:
        """Every token with its logit at batch output `index`."""
        logits = C.llama_get_logits_ith(ctx, index)
        self.rows["id"] = self.ids
        self.rows["logit"] = np.ctypeslib.as_array(logits, shape=(len(self.rows),))
        self.rows["p"] = 0.0
        return self._reset()

    def of_token(self, token: int) -> Any:
        """`token` alone (an array of one)."""
        self.rows["id"], self.rows["logit"], self.rows["p"] = token, 0.0, 0.0
        return self._reset()

    @property
    def selected(self) -> int:
        array = self.array
        return int(array.data[array.selected].id)

    @property
    def first_allowed(self) -> bool:
        return bool(np.isfinite(self.rows["logit"][0]))


class SamplerChain:
    """An owned `llama_sampler` chain; `penalties` is kept to feed it the prompt's tokens.

    A grammar sits between the penalties (`chain`) and the draw (`draw`), applied by hand:
    it walks every token of the vocabulary against the grammar, which halves the decode speed
    of a JSON answer on a small model. A greedy draw first takes the best token as if there
    were no grammar and asks the grammar about that one token; only when the grammar refuses
    it is the grammar applied to the whole vocabulary. The best token the grammar allows is
    the same either way, so greedy output is unchanged (llama-server checks a sampled draw
    this way too, which shifts its distribution; pollama keeps sampled draws exact).
    """

    __slots__ = (
        "_everything",
        "_one",
        "chain",
        "draw",
        "grammar",
        "greedy",
        "penalties",
        "repeat_last_n",
    )

    def __init__(
        self,
        chain: C.llama_sampler_p,
        penalties: C.llama_sampler_p | None,
        n: int,
        *,
        grammar: C.llama_sampler_p | None = None,
        draw: C.llama_sampler_p | None = None,
        n_vocab: int = 0,
        greedy: bool = False,
    ):
        self.chain = chain
        self.penalties = penalties
        self.repeat_last_n = n
        self.grammar, self.draw, self.greedy = grammar, draw, greedy
        if grammar is not None:
            self._everything, self._one = _Candidates(n_vocab), _Candidates(1)

    def sample(self, ctx: C.llama_context_p, index: int) -> int:
        """Draw the token for batch output `index` and accept it into every sampler."""
        if self.grammar is None:
            return C.llama_sampler_sample(self.chain, ctx, index)
        token = self._best_ungrammatical(ctx, index) if self.greedy else None
        if token is None:
            candidates = self._everything.of_logits(ctx, index)
            for sampler in (self.chain, self.grammar, self.draw):
                C.llama_sampler_apply(sampler, candidates)
            token = self._everything.selected
        for sampler in (self.chain, self.grammar, self.draw):
            C.llama_sampler_accept(sampler, token)
        return token

    def _best_ungrammatical(self, ctx: C.llama_context_p, index: int) -> int | None:
        """The greedy pick without the grammar, if the grammar allows it."""
        candidates = self._everything.of_logits(ctx, index)
        C.llama_sampler_apply(self.chain, candidates)
        C.llama_sampler_apply(self.draw, candidates)
        token = self._everything.selected
        C.llama_sampler_apply(self.grammar, self._one.of_token(token))
        return token if self._one.first_allowed else None

    def accept_prompt(self, tokens: list[int]) -> None:
        """Let the repeat penalties see the prompt's last tokens, as llama-server does."""
        if self.penalties is None:
            return
        for token in tokens[-self.repeat_last_n :]:
            C.llama_sampler_accept(self.penalties, token)

    def free(self) -> None:
        """Free the chains and every sampler in them."""
        for sampler in (self.chain, self.grammar, self.draw):
            if sampler:
                C.llama_sampler_free(sampler)
        self.chain = self.grammar = self.draw = None
        self.penalties = None


def _seed(seed: int) -> int:
    return C.LLAMA_DEFAULT_SEED if seed < 0 else seed & 0xFFFFFFFF


def _truncation_samplers(o: SamplingOptions) -> list[C.llama_sampler_p]:
    samplers = []
    if o.top_k > 0:
        samplers.append(C.llama_sampler_init_top_k(o.top_k))
    if 0.0 < o.typical_p < 1.0:
        samplers.append(C.llama_sampler_init_typical(o.typical_p, 1))
    if 0.0 < o.top_p < 1.0:
        samplers.append(C.llama_sampler_init_top_p(o.top_p, 1))
    if o.min_p > 0.0:
        samplers.append(C.llama_sampler_init_min_p(o.min_p, 1))
    return samplers


def _final_samplers(o: SamplingOptions, n_vocab: int) -> list[C.llama_sampler_p]:
    if o.temperature <= 0.0:
        return [C.llama_sampler_init_greedy()]
    temp = C.llama_sampler_init_temp(o.temperature)
    if o.mirostat == 1:
        miro = C.llama_sampler_init_mirostat(
            n_vocab, _seed(o.seed), o.mirostat_tau, o.mirostat_eta, MIROSTAT_M
        )
        return [temp, miro]
    if o.mirostat == 2:
        return [
            temp,
            C.llama_sampler_init_mirostat_v2(_seed(o.seed), o.mirostat_tau, o.mirostat_eta),
        ]
    return [*_truncation_samplers(o), temp, C.llama_sampler_init_dist(_seed(o.seed))]


def _chain(samplers: list[C.llama_sampler_p]) -> C.llama_sampler_p:
    params = C.llama_sampler_chain_default_params()
    params.no_perf = True
    chain = C.llama_sampler_chain_init(params)
    for sampler in samplers:
        C.llama_sampler_chain_add(chain, sampler)
    return chain


def build_sampler(
    vocab: C.llama_vocab_p, options: SamplingOptions, grammar: str | None, num_ctx: int
) -> SamplerChain:
    """The chain for one request: penalties, grammar, then the draw the options ask for."""
    n_vocab = C.llama_vocab_n_tokens(vocab)
    last_n = num_ctx if options.repeat_last_n < 0 else options.repeat_last_n
    penalties = None
    has_penalty = (
        options.repeat_penalty != 1.0
        or options.frequency_penalty != 0.0
        or options.presence_penalty != 0.0
    )
    if last_n > 0 and has_penalty:
        penalties = C.llama_sampler_init_penalties(
            n_vocab,
            last_n,
            options.repeat_penalty if options.repeat_penalty > 0 else 1.0,
            options.frequency_penalty,
            options.presence_penalty,
        )
    first = [penalties] if penalties is not None else []
    if not grammar:
        return SamplerChain(_chain(first + _final_samplers(options, n_vocab)), penalties, last_n)
    grammar_sampler = C.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    if not grammar_sampler:
        if penalties is not None:
            C.llama_sampler_free(penalties)
        raise InvalidRequest("failed to parse grammar")
    return SamplerChain(
        _chain(first),
        penalties,
        last_n,
        grammar=grammar_sampler,
        draw=_chain(_final_samplers(options, n_vocab)),
        n_vocab=n_vocab,
        greedy=options.temperature <= 0.0,
    )
