"""Per-request sampler chains, built from `SamplingOptions` in llama.cpp's native samplers.

Sampling never touches a logits array in Python: `llama_sampler_sample` applies the whole
chain (penalties, grammar, truncation, temperature, the final draw) and accepts the token.
Samplers whose settings make them no-ops are left out, since each one walks the candidates.
`tfs_z` and `penalize_newline` no longer exist in llama.cpp; they are accepted and ignored.
"""

from __future__ import annotations

import llama_cpp.llama_cpp as C

from pollama.engine.types import SamplingOptions
from pollama.errors import InvalidRequest

MIROSTAT_M = 100  # llama.cpp's (and Ollama's) fixed candidate count for mirostat v1


class SamplerChain:
    """An owned `llama_sampler` chain; `penalties` is kept to feed it the prompt's tokens."""

    __slots__ = ("chain", "penalties", "repeat_last_n")

    def __init__(self, chain: C.llama_sampler_p, penalties: C.llama_sampler_p | None, n: int):
        self.chain = chain
        self.penalties = penalties
        self.repeat_last_n = n

    def sample(self, ctx: C.llama_context_p, index: int) -> int:
        """Draw the token for batch output `index` and accept it into every sampler."""
        return C.llama_sampler_sample(self.chain, ctx, index)

    def accept_prompt(self, tokens: list[int]) -> None:
        """Let the repeat penalties see the prompt's last tokens, as llama-server does."""
        if self.penalties is None:
            return
        for token in tokens[-self.repeat_last_n :]:
            C.llama_sampler_accept(self.penalties, token)

    def free(self) -> None:
        """Free the chain and every sampler in it."""
        if self.chain:
            C.llama_sampler_free(self.chain)
            self.chain = None
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


def build_sampler(
    vocab: C.llama_vocab_p, options: SamplingOptions, grammar: str | None, num_ctx: int
) -> SamplerChain:
    """The chain for one request: penalties, grammar, then the draw the options ask for."""
    n_vocab = C.llama_vocab_n_tokens(vocab)
    params = C.llama_sampler_chain_default_params()
    params.no_perf = True
    chain = C.llama_sampler_chain_init(params)
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
        C.llama_sampler_chain_add(chain, penalties)
    if grammar:
        grammar_sampler = C.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
        if not grammar_sampler:
            C.llama_sampler_free(chain)
            raise InvalidRequest("failed to parse grammar")
        C.llama_sampler_chain_add(chain, grammar_sampler)
    for sampler in _final_samplers(options, n_vocab):
        C.llama_sampler_chain_add(chain, sampler)
    return SamplerChain(chain, penalties, last_n)
