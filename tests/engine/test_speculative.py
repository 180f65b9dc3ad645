"""Speculative decoding by prompt lookup on the tiny GGUF: same text, same distribution."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pollama.api import options
from pollama.engine.runner import ProcessRunner
from pollama.engine.runner.speculate import DecodeCost, Drafter, Proposal, plan
from pollama.engine.types import (
    DRAFT_NUM_PREDICT,
    CompletionRequest,
    SamplingOptions,
)
from tests.fixtures.tiny_runner import tiny_runner

# Random weights fall into loops, and the lookup drafts from them: greedy text that repeats.
PROMPT = "The quick brown fox jumps over the lazy dog. The quick brown fox"


@pytest.fixture
async def runner(tiny_gguf: Path) -> AsyncIterator[ProcessRunner]:
    async with tiny_runner(tiny_gguf, num_ctx=512, num_parallel=4) as r:
        yield r


async def _text(runner: ProcessRunner, prompt: str = PROMPT, **sampling: object) -> str:
    request = CompletionRequest(prompt=prompt, sampling=SamplingOptions(**sampling))
    return "".join([chunk.text async for chunk in runner.completion(request)])


async def _drafts(runner: ProcessRunner) -> tuple[int, int]:
    stats = await runner.stats()
    return stats["draft_tokens"], stats["draft_accepted"]


async def test_greedy_text_is_the_same_with_and_without_drafts(runner: ProcessRunner) -> None:
    prompts = [PROMPT, "abcabcabcabc", "one two three four one two three"]
    for prompt in prompts:
        plain = await _text(runner, prompt, temperature=0.0, num_predict=120, draft_num_predict=0)
        before = await _drafts(runner)
        drafted = await _text(runner, prompt, temperature=0.0, num_predict=120)
        after = await _drafts(runner)
        assert drafted == plain
        assert after[1] > before[1]  # drafts were accepted: the test speculated


async def test_concurrent_greedy_streams_keep_their_text(runner: ProcessRunner) -> None:
    prompts = [f"{i} {PROMPT}" for i in range(4)]
    alone = [await _text(runner, p, temperature=0.0, num_predict=80) for p in prompts]
    together = await asyncio.gather(
        *(_text(runner, p, temperature=0.0, num_predict=80) for p in prompts)
    )
    assert list(together) == alone


async def test_draft_num_predict_zero_sends_no_drafts(runner: ProcessRunner) -> None:
    before = await _drafts(runner)
    await _text(runner, temperature=0.0, num_predict=60, draft_num_predict=0)
    assert await _drafts(runner) == before


def _chi2_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for a chi-squared X with `df` degrees of freedom (series form)."""
    a, x = df / 2, statistic / 2
    term = total = 1.0 / a
    n = 1
    while term > total * 1e-12:
        term *= x / (a + n)
        total += term
        n += 1
    lower = math.exp(-x + a * math.log(x) - math.lgamma(a)) * total if x > 0 else 0.0
    return max(0.0, 1.0 - lower)


async def _reply_tokens(runner: ProcessRunner, request: CompletionRequest) -> tuple[int, ...]:
    chunks = [chunk async for chunk in runner.completion(request)]
    tokens = chunks[-1].tokens or []
    return tuple(tokens[chunks[-1].prompt_tokens :])


def _homogeneity_p(first: Counter[tuple[int, ...]], second: Counter[tuple[int, ...]]) -> float:
    """The p-value of a chi-squared test that two samples come from one distribution (rare
    outcomes pooled, so every expected count is large enough for the test)."""
    outcomes = set(first) | set(second)
    common = [o for o in outcomes if first[o] + second[o] >= 10]
    rows = [
        [c[o] for o in common] + [sum(c[o] for o in outcomes - set(common))]
        for c in (first, second)
    ]
    columns = [a + b for a, b in zip(*rows, strict=True)]
    total = sum(columns)
    statistic = sum(
        (row[j] - sum(row) * columns[j] / total) ** 2 / (sum(row) * columns[j] / total)
        for row in rows
        for j in range(len(columns))
        if columns[j]
    )
    df = sum(1 for c in columns if c) - 1
    assert df >= 3, "too few outcomes for the test to mean anything"
    return _chi2_sf(statistic, df)


async def assert_sampling_keeps_the_distribution(
    runner: ProcessRunner, context_tokens: int, draft: int
) -> None:
    """Six tokens sampled after the model's greedy continuation of PROMPT
    (`context_tokens` long) with drafts, and without: drafts must be both kept and rejected,
    and the first three tokens' joint distribution must not depend on drafting (six leave
    room for drafts of up to four tokens, which pay where one alone does not). Different
    seeds on each side: equal seeds would make equal draws."""
    greedy = CompletionRequest(PROMPT, SamplingOptions(temperature=0.0, num_predict=context_tokens))
    context = tuple([chunk async for chunk in runner.completion(greedy)][-1].tokens or ())

    async def sample(seeds: range, draft: int) -> Counter[tuple[int, ...]]:
        options = SamplingOptions(
            temperature=0.05, top_k=40, top_p=1.0, num_predict=6, seed=0, draft_num_predict=draft
        )
        requests = [
            CompletionRequest("", dataclasses.replace(options, seed=s), context=context)
            for s in seeds
        ]
        replies = await asyncio.gather(*(_reply_tokens(runner, r) for r in requests))
        return Counter(reply[:3] for reply in replies)

    before = await _drafts(runner)
    drafted = await sample(range(0, 400), draft)
    after = await _drafts(runner)
    plain = await sample(range(1000, 1400), 0)
    sent, kept = after[0] - before[0], after[1] - before[1]
    assert sent > kept > 0  # drafts were both kept and rejected
    assert _homogeneity_p(drafted, plain) > 1e-3


async def test_sampled_text_follows_the_same_distribution(runner: ProcessRunner) -> None:
    """After text that loops (the model's own greedy output), so lookups find drafts."""
    await assert_sampling_keeps_the_distribution(runner, 48, 16)


def test_the_chi2_tail_matches_known_values() -> None:
    assert _chi2_sf(3.841, 1) == pytest.approx(0.05, abs=1e-3)
    assert _chi2_sf(18.307, 10) == pytest.approx(0.05, abs=1e-3)


def test_the_lookup_proposes_what_followed_the_text_s_end_before() -> None:
    drafter = Drafter([5, 6, 7, 8, 9, 1, 2, 5, 6])
    kind, tokens = drafter.propose(3)
    assert tokens == [7, 8, 9] and kind == 2
    drafter.append(7)  # the copy goes on: the next proposal continues it
    assert drafter.propose(2)[1] == [8, 9]
    drafter.append(3)  # it broke off: nothing recurs now
    assert drafter.propose(4)[1] == []


def test_unsent_proposals_teach_the_drafter_too() -> None:
    drafter = Drafter([1, 2, 3, 1, 2])
    start = drafter.acceptance(2)
    for _ in range(5):
        kind, tokens = drafter.propose(1)
        drafter.skipped(kind, tokens[0])
        drafter.append(tokens[0] + 100)  # the model said something else
        drafter.append(1)
        drafter.append(2)
    assert drafter.acceptance(2) < start / 2


def test_uneven_sequences_cost_llama_cpp_extra_passes() -> None:
    cost = DecodeCost(512, unified=False)
    assert cost.passes([1, 1, 1, 1]) == 1
    assert cost.passes([5, 1, 1, 1]) == 2
    assert cost.passes([5, 5, 1, 1]) == 2
    assert cost.passes([5, 1, 5, 1]) == 3
    assert cost.passes([0, 3, 0, 3]) == 2
    assert DecodeCost(512, unified=True).passes([5, 1, 5, 1]) == 1


def test_the_plan_drafts_only_where_it_pays() -> None:
    cost = DecodeCost(512, unified=False)
    sure = Proposal(0, [1] * 7, 0.95)
    doubtful = Proposal(2, [1] * 8, 0.05)
    assert plan([sure], cost) == [7]
    assert plan([doubtful], cost) == [0]
    # A lone drafter beside three plain streams makes a second pass: only a sure one pays.
    idle = Proposal(0, [], 0.0)
    assert plan([Proposal(3, [1] * 2, 0.3), idle, idle, idle], cost) == [0, 0, 0, 0]
    assert plan([sure, idle, None, None], cost)[0] > 0


def test_a_draft_fills_its_batch_s_last_tile_and_starts_no_other() -> None:
    # The CPU's matrix kernels compute 4 tokens at once: a 17th costs a tile of its own.
    cost = DecodeCost(512, unified=True)
    _learn_costs(cost)
    assert plan([Proposal(0, [1] * 16, 0.99)], cost) == [15]
    assert plan([Proposal(0, [1] * 32, 0.99)], cost)[0] % 4 == 3


def test_a_batch_larger_than_any_timed_is_tried_then_planned_by_its_time() -> None:
    # Batches of 1, 4 and 8 tokens as the 2-core machine times them: a line through them puts
    # 16 tokens at 179 ms, which would keep the plan to 8 for good; 16 take 146 ms.
    cost = DecodeCost(512, unified=True)
    timed = [(1, 0.024), (4, 0.056), (8, 0.097)]
    for _ in range(60):
        for n, seconds in timed:
            cost.observe([n], seconds)
    sure = Proposal(0, [1] * 16, 0.95)
    assert plan([sure], cost) == [15]
    for _ in range(60):
        for n, seconds in [*timed, (16, 0.146)]:
            cost.observe([n], seconds)
    assert plan([sure], cost) == [11]  # 9.3 tokens expected in about 117 ms beat 11.2 in 146
    # A seeded request's plan does not depend on what was timed.
    assert plan([sure], cost, fixed=True) == plan([sure], DecodeCost(512, True), fixed=True)


def test_where_tokens_cost_less_than_the_prior_says_larger_batches_are_tried_too() -> None:
    # A GPU's: a batch of 4 takes about what one token does.
    cost = DecodeCost(512, unified=True)
    for _ in range(60):
        for n, seconds in ((1, 0.010), (4, 0.0105)):
            cost.observe([n], seconds)
    assert plan([Proposal(0, [1] * 16, 0.8)], cost) == [15]


def test_a_draft_that_would_pay_only_a_little_is_not_sent() -> None:
    # By the prior costs (a batch of 2 paying a tile of 4) one token at 60 % beats plain
    # decoding by 7 %: within the fit's error.
    cost = DecodeCost(512, unified=True)
    assert plan([Proposal(0, [1], 0.6)], cost) == [0]
    assert plan([Proposal(0, [1], 0.75)], cost) == [1]


def _learn_costs(cost: DecodeCost, rounds: int = 60) -> None:
    """A pass 21 ms, a token 9 ms (a batch's in whole tiles of 4), and 10 ms more for a batch
    of more than one token."""
    for _ in range(rounds):
        for n, tiled in ((1, 1), (5, 8), (17, 20)):
            cost.observe([n], 0.021 + 0.009 * tiled + (0.010 if n > 1 else 0.0))


def test_the_cost_model_learns_the_token_cost_and_the_batched_step() -> None:
    cost = DecodeCost(512, unified=True)
    _learn_costs(cost)
    per_token, batched = cost.ratios()
    assert per_token == pytest.approx(0.009 / 0.021, rel=0.1)
    assert batched == pytest.approx(0.010 / 0.021, rel=0.2)  # the prior holds it a little


def test_a_stalled_step_is_not_taken_for_what_the_batch_costs() -> None:
    cost = DecodeCost(512, unified=True)
    _learn_costs(cost)
    cost.observe([17], 2.0)  # another process held the CPU: 2 s instead of 0.18 s
    assert cost.per_token() == pytest.approx(0.009 / 0.021, rel=0.25)


def _copy(drafter: Drafter, tokens: list[int]) -> None:
    for token in tokens:
        drafter.propose(8)  # as the engine does once a step
        drafter.append(token)


# A prompt that holds a "file" with the token 1 (a class name) in three places, then the
# file's first two tokens again, so the reply's copy of it is found by the 2-gram lookup.
FILE = [10, 1, 20, 30, 31, 32, 1, 40, 50, 51, 52, 1, 60, 61]
EDIT_PROMPT = [5, 6, *FILE, 99, 5, 6]


def test_a_copy_makes_its_edit_again_where_the_edited_tokens_recur() -> None:
    drafter = Drafter(EDIT_PROMPT)
    assert drafter.propose(3)[1] == [10, 1, 20]
    _copy(drafter, [10, 7, 1])  # the reply writes 7 1 for 1 (`LineItem` for `Item`)
    assert drafter.propose(8)[1] == [20, 30, 31, 32, 7, 1, 40, 50]
    _copy(drafter, [20, 30, 31, 32, 7, 1, 40, 50])
    assert drafter.propose(6)[1] == [51, 52, 7, 1, 60, 61]


def test_a_copy_picks_up_past_a_replaced_token_where_it_broke_off() -> None:
    drafter = Drafter(EDIT_PROMPT)
    _copy(drafter, [10, 8, 9, 20])  # 1 became 8 9; the copy goes on from 20, not elsewhere
    assert drafter.propose(5)[1] == [30, 31, 32, 8, 9]


def test_an_edit_that_does_not_recur_is_forgotten() -> None:
    drafter = Drafter(EDIT_PROMPT)
    _copy(drafter, [10, 7, 1, 20, 30, 31, 32])
    assert drafter.propose(2)[1] == [7, 1]
    _copy(drafter, [1, 40, 50])  # this time the reply kept 1 as it was
    assert drafter.propose(4)[1] == [51, 52, 1, 60]


def test_the_edits_apply_to_the_prompt_not_to_text_written_since() -> None:
    drafter = Drafter(EDIT_PROMPT)
    reply = [10, 7, 1, 20, 30, 31, 32, 7, 1, 40, 50, 51, 52, 7, 1, 60, 61, 99, 5, 6]
    _copy(drafter, reply)  # the copy has reached the reply's start: there 7 1 is written
    assert drafter.propose(4)[1] == [10, 7, 1, 20]


def test_draft_num_predict_is_a_request_option() -> None:
    _, sampling = options.from_map({"draft_num_predict": 4}, {"draft_num_predict": 0})
    assert sampling.draft_num_predict == 0
    assert options.from_map(None, None)[1].draft_num_predict == DRAFT_NUM_PREDICT > 0


async def test_logprobs_of_drafted_tokens_come_from_their_verifying_step(
    runner: ProcessRunner,
) -> None:
    async def logprobs(draft: int) -> list[tuple[int, float]]:
        sampling = SamplingOptions(temperature=0.0, num_predict=60, draft_num_predict=draft)
        request = CompletionRequest(PROMPT, sampling, logprobs=True, top_logprobs=2)
        chunks = [c async for c in runner.completion(request)]
        return [(lp.token, lp.logprob) for c in chunks for lp in c.logprobs]

    before = await _drafts(runner)
    drafted = await logprobs(DRAFT_NUM_PREDICT)
    assert (await _drafts(runner))[1] > before[1]
    plain = await logprobs(0)
    assert [t for t, _ in drafted] == [t for t, _ in plain]
    # (the prompt was cached for the second: its first logprob differs in the 4th decimal)
    assert [v for _, v in drafted] == pytest.approx([v for _, v in plain], abs=1e-3)
