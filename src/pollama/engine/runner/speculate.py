"""Speculative decoding by prompt lookup: drafts copied from the text so far, no second model.

A reply often repeats its prompt (a code edit copies most of the file) or itself. Each step, a
slot's `Drafter` looks for the text's last few tokens earlier in the text and proposes the
tokens that followed them there; the engine puts them into the decode batch after the slot's
next token and samples every position, keeping drafts while the sampled token equals them.

For a draft that is one fixed token this *is* the standard speculative accept/reject rule:
accept draft `d` with probability min(1, p(d)/q(d)) = p(d) (q is 1 at `d`), and on a rejection
sample from the residual, p without `d`, renormalised. Drawing `t ~ p` and keeping `d` when
`t == d` does both at once, so the text follows exactly the distribution of plain decoding,
the seeded random draws included (one per generated token, in the same order).

Drafting costs time only when drafts are rejected, so it is planned per step (`plan`): each
draft token is worth its chance of being accepted (learned per kind of match, also from
proposals that were not sent), and a batch costs what the learned `DecodeCost` says, counting
the extra `llama_decode` passes that uneven sequences make llama.cpp run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

NGRAMS = (4, 3, 2)  # the longest match wins: it is the likeliest to continue alike
COPY = 0  # the kind of a draft that continues a run the previous drafts matched
DECAY = 0.9  # how fast acceptance estimates forget
# A batch token's cost in forward passes before any is measured (2 CPU cores, a 0.5B model),
# how many steps that guess is worth, and how fast measured steps are forgotten.
PER_TOKEN = 0.08
PRIOR_WEIGHT = 3.0
FORGET = 0.98
MIN_PER_TOKEN, MAX_PER_TOKEN = 0.005, 1.0


class Proposer(Protocol):
    """What the engine asks of a request's drafter (prompt lookup, or `draft_model.py`)."""

    unsent: tuple[int, int] | None

    def propose(self, limit: int) -> tuple[int, list[int]]: ...

    def acceptance(self, kind: int) -> float: ...

    def append(self, token: int) -> None: ...

    def verified(self, kind: int, drafted: int, accepted: int) -> None: ...


class DraftScore:
    """What a request has learned of its own drafts: per kind of draft, the chance that each
    next draft token is accepted (also scored on proposals that were not sent)."""

    __slots__ = ("_stats", "unsent")

    def __init__(self, kinds: tuple[int, ...], shared: dict[int, list[float]] | None = None):
        # Per kind: (decayed) tokens accepted, drafts rejected; `shared` when what is learned
        # belongs to more than one request.
        self._stats = {kind: [1.0, 1.0] for kind in kinds} if shared is None else shared
        self.unsent: tuple[int, int] | None = None  # (kind, token) proposed but not drafted

    def acceptance(self, kind: int) -> float:
        """The estimated chance that each next draft token of this kind is accepted."""
        accepted, rejected = self._stats[kind]
        return accepted / (accepted + rejected)

    def _learn(self, kind: int, accepted: int, rejected: bool) -> None:
        stats = self._stats[kind]
        stats[0] = stats[0] * DECAY + accepted
        stats[1] = stats[1] * DECAY + rejected

    def _score_unsent(self, token: int) -> None:
        """`token` came next: score the proposal that was not sent against it."""
        if self.unsent is not None:
            kind, guess = self.unsent
            self._learn(kind, 1 if guess == token else 0, guess != token)
            self.unsent = None

    def verified(self, kind: int, drafted: int, accepted: int) -> None:
        """Learn from a draft of `drafted` tokens of which the first `accepted` were kept."""
        self._learn(kind, accepted, accepted < drafted)


class Drafter(DraftScore):
    """One request's text, indexed by n-gram, and what it has learned of its own drafts."""

    __slots__ = ("_index", "source", "source_kind", "tokens")

    def __init__(self, prompt: list[int]) -> None:
        super().__init__((COPY, *NGRAMS))
        self.tokens: list[int] = []
        self._index: dict[tuple[int, ...], int] = {}
        self.source: int | None = None  # where the text so far is being copied from
        self.source_kind = COPY
        for token in prompt:
            self._append(token)

    def _append(self, token: int) -> None:
        tokens = self.tokens
        tokens.append(token)
        end = len(tokens) - 1  # the n-grams ending just before `token` now have a follower
        for n in NGRAMS:
            if end >= n:
                self._index[tuple(tokens[end - n : end])] = end

    def append(self, token: int) -> None:
        """`token` became part of the text: follow the copy, score an unsent proposal."""
        self._score_unsent(token)
        source = self.source
        if source is not None and source < len(self.tokens) and self.tokens[source] == token:
            self.source = source + 1
            self.source_kind = COPY
        else:
            self.source = None
        self._append(token)

    def propose(self, limit: int) -> tuple[int, list[int]]:
        """(kind, up to `limit` tokens) that may follow the text, from an earlier occurrence."""
        if limit <= 0:
            return COPY, []
        tokens = self.tokens
        if self.source is None:
            for n in NGRAMS:
                found = self._index.get(tuple(tokens[-n:]))
                if found is not None:
                    self.source, self.source_kind = found, n
                    break
            else:
                return COPY, []
        start = self.source
        return self.source_kind, tokens[start : start + limit]


class DecodeCost:
    """How long a decode batch takes: `passes` forward passes plus a cost per token.

    Learned from the decode steps themselves by least squares with forgetting; only the
    ratio of the two costs matters for planning. A CPU reads every weight once per pass, so
    a pass costs far more than a token until the batch grows large.
    """

    def __init__(self, n_ubatch: int, unified: bool, per_token: float = PER_TOKEN) -> None:
        self.n_ubatch = max(1, n_ubatch)
        self.unified = unified
        self.prior = per_token
        # Sums of the (decayed) normal equations of seconds = a*passes + b*tokens.
        self._pp = self._pt = self._tt = self._py = self._ty = 0.0

    def passes(self, counts: list[int]) -> int:
        """The forward passes llama.cpp makes for a batch with `counts[i]` tokens of sequence i
        (in sequence order): one stream per sequence is split into ubatches in which every
        sequence of a run of consecutive ids has the same number of tokens."""
        if self.unified:
            return max(1, math.ceil(sum(counts) / self.n_ubatch))
        left = [(seq, n) for seq, n in enumerate(counts) if n > 0]
        passes = 0
        while left:
            run = [left[0]]
            for seq, n in left[1:]:
                if seq == run[-1][0] + 1:
                    run.append((seq, n))
            step = min(min(n for _, n in run), max(1, self.n_ubatch // len(run)))
            ids = {seq for seq, _ in run}
            left = [(seq, n - step if seq in ids else n) for seq, n in left]
            left = [(seq, n) for seq, n in left if n > 0]
            passes += 1
        return passes

    def observe(self, counts: list[int], seconds: float) -> None:
        """Learn from a decode of `counts` tokens per sequence that took `seconds`."""
        passes, tokens = self.passes(counts), sum(counts)
        self._pp = self._pp * FORGET + passes * passes
        self._pt = self._pt * FORGET + passes * tokens
        self._tt = self._tt * FORGET + tokens * tokens
        self._py = self._py * FORGET + passes * seconds
        self._ty = self._ty * FORGET + tokens * seconds

    def _fit(self) -> tuple[float, float] | None:
        """(seconds per pass, seconds per token) by least squares, held near the prior by a
        penalty on b - prior*a worth a few steps, so a run of identical batches (or a noisy
        step on a busy machine) cannot carry it off; None before there is a fit."""
        r, w = self.prior, PRIOR_WEIGHT
        m11 = self._pp + w * r * r
        m12 = self._pt - w * r
        m22 = self._tt + w
        det = m11 * m22 - m12 * m12
        if det <= 0:
            return None
        a = (self._py * m22 - self._ty * m12) / det
        b = (m11 * self._ty - m12 * self._py) / det
        return a, b

    def per_token(self) -> float:
        """A token's cost in passes."""
        fit = self._fit()
        if fit is None:
            return self.prior
        a, b = fit
        if a <= 0:
            return MAX_PER_TOKEN
        return min(MAX_PER_TOKEN, max(MIN_PER_TOKEN, b / a))

    def pass_seconds(self) -> float | None:
        """What one forward pass takes, as measured; None before any decode was timed."""
        fit = self._fit()
        return fit[0] if fit is not None and fit[0] > 0 and self._pp > 0 else None

    def estimate(self, counts: list[int], per_token: float) -> float:
        """The cost of a batch, in passes."""
        return self.passes(counts) + per_token * sum(counts)


@dataclass
class Proposal:
    """A generating slot's draft candidates for one step."""

    kind: int
    tokens: list[int]
    acceptance: float


def plan(
    proposals: list[Proposal | None], cost: DecodeCost, per_token: float | None = None
) -> list[int]:
    """How many draft tokens each generating slot sends this step (0: none).

    `proposals[i]` belongs to the i-th sequence (None: not generating this step). Every slot
    sends at most `k` tokens, for the `k` that gives the most expected tokens per unit of
    batch cost; k = 0 (no drafts) is the plan to beat. `per_token` overrides the learned
    token cost (a seeded request's batches must not depend on timings).
    """
    base = [0 if p is None else 1 for p in proposals]
    per_token = cost.per_token() if per_token is None else per_token
    generating = sum(base)
    best_k, best_rate = 0, generating / cost.estimate(base, per_token)
    longest = max((len(p.tokens) for p in proposals if p is not None), default=0)
    for k in range(1, longest + 1):
        counts, expected = list(base), float(generating)
        for i, p in enumerate(proposals):
            if p is None:
                continue
            n = min(k, len(p.tokens))
            counts[i] += n
            expected += sum(p.acceptance**j for j in range(1, n + 1))
        rate = expected / cost.estimate(counts, per_token)
        if rate > best_rate:
            best_k, best_rate = k, rate
    return [0 if p is None else min(best_k, len(p.tokens)) for p in proposals]
