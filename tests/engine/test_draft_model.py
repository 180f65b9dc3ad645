"""Speculative decoding with a Modelfile DRAFT model, on tiny GGUFs: same text, same
distribution, drafts that pay or stop, and another vocabulary refused."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pollama.engine.runner import ProcessRunner, spawn_runner
from pollama.engine.runner.draft_model import PROBE_EVERY
from pollama.engine.types import LoadSpec, RunnerOptions
from pollama.errors import PollamaError
from pollama.vocabulary import VocabFacts, draft_mismatch
from tests.engine.test_speculative import (
    PROMPT,
    _drafts,
    _text,
    assert_sampling_keeps_the_distribution,
)
from tests.fixtures.tiny_gguf import write_tiny_gguf

OPTIONS = RunnerOptions(num_ctx=512, num_parallel=4, num_thread=1)


async def _spawn(target: Path, draft: Path) -> ProcessRunner:
    return await spawn_runner(LoadSpec("t", "0" * 64, target, options=OPTIONS, draft_path=draft))


@pytest.fixture
async def runner(deep_tiny_gguf: Path, tiny_gguf: Path) -> AsyncIterator[ProcessRunner]:
    """The deep tiny model drafted for by the tiny one: the same numbers, so every greedy
    draft is right."""
    r = await _spawn(deep_tiny_gguf, tiny_gguf)
    yield r
    await r.close()


async def test_greedy_text_is_the_same_and_every_draft_is_kept(runner: ProcessRunner) -> None:
    """Seeded, so drafts are priced from the models' sizes: on models this small a measured
    pass costs little more than a token, and drafting (rightly) seldom pays."""
    assert (await runner.stats())["draft_model"]
    for prompt, seed in ((PROMPT, 1), ("one two three four", -1)):
        before = await _drafts(runner)
        greedy = {"temperature": 0.0, "num_predict": 80, "seed": seed}
        plain = await _text(runner, prompt, draft_num_predict=0, **greedy)
        assert await _drafts(runner) == before  # 0 turns the draft model off
        drafted = await _text(runner, prompt, **greedy)
        sent, kept = (a - b for a, b in zip(await _drafts(runner), before, strict=True))
        assert drafted == plain
        assert kept == sent  # a perfect draft model is always right
        assert sent > 20 or seed < 0  # and, priced without timings, drafts


async def test_draft_num_predict_caps_a_step_s_draft(runner: ProcessRunner) -> None:
    before = await _drafts(runner)
    await _text(runner, temperature=0.0, num_predict=40, seed=1, draft_num_predict=2)
    sent = (await _drafts(runner))[0] - before[0]
    assert 0 < sent <= 2 * 40 // 3 + 2  # at most 2 per step, and each step yields 3 tokens


async def test_sampled_text_follows_the_same_distribution(runner: ProcessRunner) -> None:
    """The draft model's greedy tokens are kept only when sampled. The context (the prompt
    and 4 tokens) just passes a fixed 64-token chunk, which every seeded request reuses, so
    each evaluates only a few tokens."""
    await assert_sampling_keeps_the_distribution(runner, 4, 8)


async def test_a_draft_model_that_is_seldom_right_stops_drafting(
    deep_tiny_gguf: Path, tmp_path: Path
) -> None:
    other = write_tiny_gguf(tmp_path / "other-weights.gguf", seed=1)  # same vocabulary
    r = await _spawn(deep_tiny_gguf, other)
    try:
        plain = await _text(r, temperature=0.0, num_predict=160, draft_num_predict=0)
        drafted = await _text(r, temperature=0.0, num_predict=160)
        sent, _kept = await _drafts(r)
    finally:
        await r.close()
    assert drafted == plain
    assert sent <= 160 // PROBE_EVERY + 16  # a few tries while it learns, then probes


async def test_a_draft_model_of_another_vocabulary_is_refused_at_load(
    tiny_gguf: Path, other_vocab_gguf: Path
) -> None:
    with pytest.raises(PollamaError, match="draft model vocabulary does not match"):
        await _spawn(tiny_gguf, other_vocab_gguf)


def test_vocabularies_match_on_kind_special_tokens_size_and_texts() -> None:
    base = VocabFacts("llama", 1, 2, ["a", "b", "c"])
    assert draft_mismatch(base, base) is None
    padded = dataclasses.replace(base, tokens=["a", "b", "c", *["[PAD]"] * 128])
    assert draft_mismatch(base, padded) is None  # one family's sizes differ by padding
    too_big = dataclasses.replace(base, tokens=["a", "b", "c", *["x"] * 129])
    assert "132 tokens, the model's 3" in (draft_mismatch(base, too_big) or "")
    renamed = dataclasses.replace(base, tokens=["a", "B", "c"])
    assert "token 1 is 'B', the model's 'b'" in (draft_mismatch(base, renamed) or "")
    assert "tokenizer" in (draft_mismatch(base, dataclasses.replace(base, kind="gpt2")) or "")
    assert "BOS/EOS" in (draft_mismatch(base, dataclasses.replace(base, eos=3)) or "")
