"""Sequence slots: each owns one KV sequence and remembers the tokens cached in it.

A slot outlives the requests it serves, so its `cache` (the tokens whose keys and values are
in the KV cache, in order) lets the next request skip the prefix they share.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from pollama.engine.runner.chunks import Replay, Segment
from pollama.engine.runner.logprobs import Pending
from pollama.engine.runner.replay import Step
from pollama.engine.runner.sampling import SamplerChain
from pollama.engine.runner.speculate import Proposer
from pollama.engine.runner.text import OutputFilter
from pollama.engine.types import CompletionRequest
from pollama.errors import InvalidRequest


@dataclass(eq=False)
class Job:
    """One completion request while it is queued or being served."""

    id: int
    request: CompletionRequest
    prompt: list[int]
    num_keep: int
    limit: int
    truncated: int = 0
    num_ctx: int = 0  # the request's context, at most the runner's
    sampler: SamplerChain | None = None
    drafter: Proposer | None = None  # prompt lookup or a draft model, when it speculates
    draft_tokens: int = 0
    draft_accepted: int = 0
    out: OutputFilter = field(default_factory=OutputFilter)
    logprobs: Pending | None = None  # the request asked for them
    generated: list[int] = field(default_factory=list)
    next_token: int | None = None
    prompt_evaluated: int = 0
    announced: bool = False  # the first text went out, with the prompt's size
    sampled: int = 0
    t_start: int = 0
    t_first: int = 0
    # A seeded job's prompt: where its earlier replies lie (token ranges; None when it is
    # not a chat's), its segments (`chunks.py`), the one being evaluated, the steps left of
    # a reply being replayed, and up to where its reply's decodes were its own (none shared
    # with another request, none moved by a context shift).
    replies: list[tuple[int, int]] | None = None
    segments: list[Segment] = field(default_factory=list)
    segment: int = 0
    steps: list[Step] = field(default_factory=list)
    own_until: int = sys.maxsize


class GeneratedReply(NamedTuple):
    """A seeded chat reply a slot holds as it was generated: where it begins, how it was
    decoded, and up to where its decodes were its own."""

    start: int
    shape: Replay
    own_until: int


@dataclass(eq=False)
class Slot:
    """A KV sequence and the job (if any) using it."""

    seq_id: int
    cache: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    job: Job | None = None
    last_used: float = 0.0
    # The segments at the start of `cache` evaluated as a seeded prompt's (`chunks.py`);
    # the last seeded chat reply, as generated; whether the last job was seeded, whether its
    # reply (not a chat's) still awaits re-evaluation into chunks (with the end-of-turn token
    # it ended with, if any), and the tokens of that re-evaluation still to go.
    segments: list[Segment] = field(default_factory=list)
    reply: GeneratedReply | None = None
    seeded: bool = False
    unsettled: bool = False
    end_of_turn: list[int] = field(default_factory=list)
    recompute: list[int] = field(default_factory=list)

    @property
    def canonical(self) -> int:
        """How many tokens at the start of `cache` the segments cover."""
        return self.segments[-1][0] if self.segments else 0

    def keep_canonical(self, limit: int) -> None:
        """Forget the segments that end after position `limit`."""
        self.segments = [s for s in self.segments if s[0] <= limit]

    def release(self) -> None:
        """Free the slot; its cache stays for the next request to reuse (a seeded job's
        reply, not a chat's, is re-evaluated into chunks while the runner is idle)."""
        if self.job is not None and self.job.sampler is not None:
            self.job.sampler.free()
        self.unsettled = self.seeded and self.job is not None and self.job.replies is None
        self.job = None
        self.pending = []
        self.last_used = time.monotonic()


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the common prefix of two token lists.

    A binary search over slice comparisons (C loops): long chats stay cheap without numpy.
    """
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:  # the answer lies in [lo, hi]
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def choose_slot(free: list[Slot], tokens: list[int]) -> tuple[Slot, int]:
    """The free slot sharing the longest prefix with `tokens` (least recently used on ties)."""
    scored = [(common_prefix(slot.cache, tokens), -slot.last_used, slot) for slot in free]
    best = max(scored, key=lambda s: (s[0], s[1]))
    return best[2], best[0]


def fit_prompt(
    tokens: list[int], num_ctx: int, num_keep: int, truncate: bool
) -> tuple[list[int], int]:
    """Make the prompt fit `num_ctx` as Ollama does: keep `num_keep` tokens and the newest.

    Returns the tokens and how many were dropped. Refuses when `truncate` is off.
    """
    if len(tokens) <= num_ctx:
        return tokens, 0
    if not truncate:
        raise InvalidRequest(
            f"input length ({len(tokens)} tokens) exceeds the context length ({num_ctx} tokens)"
        )
    discard = len(tokens) - num_ctx
    return tokens[:num_keep] + tokens[num_keep + discard :], discard
