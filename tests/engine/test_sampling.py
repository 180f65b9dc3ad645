"""Sampler chains on the tiny GGUF: a grammar's greedy shortcut picks what the full walk would."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest

from pollama.engine.runner.sampling import build_sampler
from pollama.engine.types import SamplingOptions

GRAMMARS = ['root ::= [a-m ]+ "." [n-z]+', 'root ::= "{" [^{}\\x00-\\x1f]* "}"']


@pytest.mark.parametrize("grammar", GRAMMARS)
def test_greedy_under_a_grammar_picks_what_the_whole_vocabulary_walk_picks(
    tiny_gguf: Path, grammar: str
) -> None:
    llm = llama_cpp.Llama(str(tiny_gguf), n_ctx=512, n_threads=1, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
    options = SamplingOptions(temperature=0.0, repeat_penalty=1.1)
    shortcut = build_sampler(vocab, options, grammar, 512)
    walk = build_sampler(vocab, options, grammar, 512)
    walk.greedy = False  # the grammar applied to every token, before the draw
    llm.eval(llm.tokenize(b"Once upon a time"))
    allowed_first = 0
    for _ in range(150):
        ctx = llm._ctx.ctx
        allowed_first += shortcut._best_ungrammatical(ctx, -1) is not None
        token = shortcut.sample(ctx, -1)
        assert walk.sample(ctx, -1) == token
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            break
        llm.eval([token])
    # Both ways through the shortcut were taken: the best token allowed, and refused.
    assert 0 < allowed_first < 150
    shortcut.free()
    walk.free()
