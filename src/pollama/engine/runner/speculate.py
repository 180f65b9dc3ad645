"""Speculative decoding by prompt lookup: drafts copied from the text so far, no second model.

A reply often repeats its prompt (a code edit copies most of the file) or itself. Each step, a
slot's `Drafter` looks for the text's last few tokens earlier in the text and proposes the
tokens that followed them there; the engine puts them into the decode batch after the slot's
next token and samples every position, keeping drafts while the sampled token equals them.
An edit breaks such a copy (a renamed class, say): the drafter picks the copy up again just
past where it broke, remembers what the text wrote instead of the source tokens in between,
and writes that again in its drafts wherever those tokens recur, so the next occurrences of
the rename are drafted too.

For a draft that is one fixed token this *is* the standard speculative accept/reject rule:
accept draft `d` with probability min(1, p(d)/q(d)) = p(d) (q is 1 at `d`), and on a rejection
sample from the residual, p without `d`, renormalised. Drawing `t ~ p` and keeping `d` when
`t == d` does both at once, so the text follows exactly the distribution of plain decoding,
the seeded random draws included (one per generated token, in the same order).

Drafting costs time only when drafts are rejected, so it is planned per step (`plan`): each
draft token is worth its chance of being accepted (learned per kind of match from every token
of the text, drafted or not), and a batch costs what the learned `DecodeCost` says, counting
the extra `llama_decode` passes that uneven sequences make llama.cpp run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

NGRAMS = (4, 3, 2)  # the longest match wins: it is the likeliest to continue alike
COPY = 0  # the kind of a draft that continues a run the previous drafts matched
DECAY = 0.9  # how fast acceptance estimates forget, per draft (per step, for prompt lookup)
# A batch token's cost in forward passes before any is measured, low so that drafting starts
# and is measured (on 2 CPU cores a 0.5B model's batch of 1+n costs about 1.5 + 0.3n single
# steps, which the fit learns within a few steps), and the step up of a batch of more than one
# token (the one-token path is the cheapest by far); how many steps that guess is worth, how
# fast measured steps are forgotten, and how far a step may exceed the fit before it counts
# as a stall (another process held the CPU), not as the batch's cost.
PER_TOKEN = 0.08
BATCHED = 0.3
PRIOR_WEIGHT = 3.0
FORGET = 0.98
STALL = 2.0
MIN_PER_TOKEN, MAX_PER_TOKEN = 0.005, 1.0
MAX_BATCHED = 2.0
# The tokens a batched matrix product computes at once: llama.cpp's CPU kernels (tinyBLAS)
# work in tiles of 4 columns with AVX-512 (2 with AVX2) and a remainder costs a tile of its
# own: on 2 cores a batch of 16 tokens takes 182 ms, of 17 214 ms, and of 20 216 ms. So a
# draft is sized to fill its batch's last tile.
TILE = 4
# How much more a draft must be expected to yield per unit of cost than plain decoding. The
# fit is linear over the few shapes it has seen, and where a draft's gain is small its error
# decides: four streams with three drafting took 2.56 times a plain step, the fit said 2.28,
# and such drafts made four streams 7 % slower than none.
PAYS_BY = 1.1
# How far past the point where a copy broke off it may pick up again (source tokens), and
# how much new text it waits through before it is given up (an edit is rarely longer).
RESYNC_WINDOW = 16
RESYNC_SPAN = 16


class Proposer(Protocol):
    """What the engine asks of a request's drafter (prompt lookup, or `draft_model.py`)."""

    def propose(self, limit: int) -> tuple[int, list[int]]: ...

    def acceptance(self, kind: int) -> float: ...

    def append(self, token: int) -> None: ...

    def verified(self, kind: int, drafted: int, accepted: int) -> None: ...

    def skipped(self, kind: int, token: int) -> None: ...


def accept(draft: list[int], draw: Callable[[int], int | None], drafter: Proposer | None) -> int:
    """How many of `draft` the drawn tokens keep. `draw(i)` is the token that follows the
    i-th kept one (None: the text ended); each token drawn joins the drafter's text, and
    drawing stops at the first that differs from the draft, or when the draft runs out."""
    accepted = 0
    while True:
        token = draw(accepted)
        if token is not None and drafter is not None:
            drafter.append(token)
        if token is None or accepted == len(draft) or token != draft[accepted]:
            return accepted
        accepted += 1


class DraftScore:
    """What a request has learned of its own drafts: per kind of draft, the chance that each
    next draft token is accepted (also scored on proposals that were not sent)."""

    __slots__ = ("_stats", "_unsent")

    def __init__(self, kinds: tuple[int, ...], shared: dict[int, list[float]] | None = None):
        # Per kind: (decayed) tokens accepted, drafts rejected; `shared` when what is learned
        # belongs to more than one request.
        self._stats = {kind: [1.0, 1.0] for kind in kinds} if shared is None else shared
        self._unsent: tuple[int, int] | None = None  # (kind, token) proposed but not drafted

    def acceptance(self, kind: int) -> float:
        """The estimated chance that each next draft token of this kind is accepted."""
        accepted, rejected = self._stats[kind]
        return accepted / (accepted + rejected)

    def _learn(self, kind: int, accepted: int, rejected: bool, decay: float = DECAY) -> None:
        stats = self._stats[kind]
        stats[0] = stats[0] * decay + accepted
        stats[1] = stats[1] * decay + rejected

    def skipped(self, kind: int, token: int) -> None:
        """A proposal starting with `token` was not drafted: score it by the token that
        comes next all the same."""
        self._unsent = (kind, token)

    def _score_unsent(self, token: int) -> None:
        """`token` came next: score the proposal that was not sent against it."""
        if self._unsent is not None:
            kind, guess = self._unsent
            self._learn(kind, 1 if guess == token else 0, guess != token)
            self._unsent = None

    def verified(self, kind: int, drafted: int, accepted: int) -> None:
        """Learn from a draft of `drafted` tokens of which the first `accepted` were kept."""
        self._learn(kind, accepted, accepted < drafted)


class CopyEdits:
    """The edits a copy of the prompt has made: what the text wrote instead of source tokens
    it did not copy, by their first token (an edit, a rename say, recurs where those tokens
    do), the rewrite being written again now, and where the copy last broke off until it picks
    up again. Only the prompt is rewritten, as the text after it was written with the edits
    made; a copy of text written since is left to the n-gram lookup."""

    __slots__ = ("_current", "_prompt_length", "_rewrites", "broken", "pending")

    def __init__(self, prompt_length: int) -> None:
        self._rewrites: dict[int, dict[tuple[int, ...], tuple[int, ...]]] = {}
        self._prompt_length = prompt_length
        self.pending: tuple[int, ...] = ()  # a rewrite's tokens still to come before the source
        # The rewrite being written: its source tokens, where they are, where the text wrote it.
        self._current: tuple[tuple[int, ...], int, int] | None = None
        self.broken: tuple[int, int] | None = None  # (source, text) positions of the break

    def at(
        self, tokens: list[int], position: int
    ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The longest learned rewrite whose source tokens start at `position`, if any."""
        if position >= self._prompt_length:
            return None
        best = None
        for key, value in self._rewrites.get(tokens[position], {}).items():
            if (best is None or len(key) > len(best[0])) and tuple(
                tokens[position : position + len(key)]
            ) == key:
                best = key, value
        return best

    def enter(self, tokens: list[int], source: int) -> tuple[int, int | None]:
        """Enter any rewrite whose source tokens start at `source`: where the copy then reads
        from, and the token it expects next."""
        if not self.pending and (found := self.at(tokens, source)) is not None:
            key, self.pending = found
            self._current, source = (key, source, len(tokens)), source + len(key)
        if self.pending:
            return source, self.pending[0]
        return source, tokens[source] if source < len(tokens) else None

    def followed(self, source: int) -> int:
        """The expected token came: the copy's source position after it."""
        if not self.pending:
            return source + 1
        self.pending = self.pending[1:]
        if not self.pending:
            self._current = None
        return source

    def broke(self, source: int, written: int) -> None:
        """The copy at `source` broke off at text position `written`: a rewrite it was writing
        did not recur here and is forgotten, and the first break in the prompt is kept."""
        where = (source, written)
        if self._current is not None:
            key, start, at = self._current
            self._rewrites[key[0]].pop(key, None)
            where = (start, at)
        if self.broken is None and where[0] < self._prompt_length:
            self.broken = where
        self.pending, self._current = (), None

    def resync(self, tokens: list[int]) -> int | None:
        """Where the broken copy picks up again, just past where it broke, once the text writes
        what comes there (learning what the text wrote instead of the source tokens in
        between); None until then, and for good once the text has gone on too long."""
        assert self.broken is not None
        start, at = self.broken
        if len(tokens) - at > RESYNC_SPAN:
            self.broken = None
            return None
        last = tokens[-1]
        near = range(start, min(start + RESYNC_WINDOW, at))
        match = next((q for q in near if tokens[q] == last), None)
        if match is None:
            return None
        key, value = tuple(tokens[start : match + 1]), tuple(tokens[at:])
        while len(key) > 1 and len(value) > 1 and key[-1] == value[-1]:
            key, value = key[:-1], value[:-1]
        if key != value:
            self._rewrites.setdefault(key[0], {})[key] = value
        self.broken, self.pending, self._current = None, (), None
        return match + 1


class Drafter(DraftScore):
    """One request's text, indexed by n-gram, the copy the text is following, and the edits
    that copy has made so far."""

    __slots__ = ("_edits", "_index", "_scored", "source", "source_kind", "tokens")

    def __init__(self, prompt: list[int]) -> None:
        super().__init__((COPY, *NGRAMS))
        self.tokens: list[int] = []
        self._index: dict[tuple[int, ...], int] = {}
        self.source: int | None = None  # where the text so far is being copied from
        self.source_kind = COPY
        self._edits = CopyEdits(len(prompt))
        self._scored: set[int] = set()  # the kinds scored since the last step's proposal
        for token in prompt:
            self._append(token)

    def _append(self, token: int) -> None:
        tokens = self.tokens
        tokens.append(token)
        end = len(tokens) - 1  # the n-grams ending just before `token` now have a follower
        for n in NGRAMS:
            if end >= n:
                self._index[tuple(tokens[end - n : end])] = end

    def skipped(self, kind: int, token: int) -> None:
        """Nothing to keep: every token is scored against the copy, drafted or not."""

    def append(self, token: int) -> None:
        """`token` became part of the text: follow the copy, which scores it."""
        if self.source is not None:
            self._follow(token)
        self._append(token)
        if self._edits.broken is not None and self.source is None:
            source = self._edits.resync(self.tokens)
            if source is not None:
                self.source, self.source_kind = source, COPY

    def _follow(self, token: int) -> None:
        """Move the copy past `token`, or note where it broke off; either way, score the copy's
        kind by it (a draft sent only part of what the copy would have proposed)."""
        assert self.source is not None
        kind = self.source_kind
        source, expected = self._edits.enter(self.tokens, self.source)
        if token == expected:
            self.source, self.source_kind = self._edits.followed(source), COPY
            self._score(kind, True)
            return
        self._score(kind, False)
        self._edits.broke(source, len(self.tokens))
        self.source = None

    def _score(self, kind: int, followed: bool) -> None:
        """Count a token that did or did not follow a copy of `kind`; what was learned before
        fades once a step, so a step's long run counts as much as many short ones."""
        decay = 1.0 if kind in self._scored else DECAY
        self._scored.add(kind)
        self._learn(kind, followed, not followed, decay)

    def propose(self, limit: int) -> tuple[int, list[int]]:
        """(kind, up to `limit` tokens) that may follow the text: the copy it follows, with its
        edits made again, or what followed the text's last few tokens earlier on."""
        self._scored.clear()
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
        draft, position = list(self._edits.pending[:limit]), self.source
        while len(draft) < limit and position < len(tokens):
            found = self._edits.at(tokens, position)
            if found is None:
                draft.append(tokens[position])
                position += 1
            else:
                draft.extend(found[1])
                position += len(found[0])
        return self.source_kind, draft[:limit]

    def verified(self, kind: int, drafted: int, accepted: int) -> None:
        """Nothing to learn: the drafted tokens were scored as they joined the text."""


class DecodeCost:
    """How long a decode batch takes: `passes` forward passes, a cost per token (whole tiles of
    `TILE` tokens), and a step up for a batch of more than one token (llama.cpp leaves its
    one-token matrix-vector path).

    Learned from the decode steps themselves by least squares with forgetting; only the
    ratios of the costs matter for planning. A CPU reads every weight once per pass, so a
    pass costs far more than a token until the batch grows large.
    """

    def __init__(
        self,
        n_ubatch: int,
        unified: bool,
        per_token: float = PER_TOKEN,
        batched: float = BATCHED,
    ) -> None:
        self.n_ubatch = max(1, n_ubatch)
        self.unified = unified
        self.prior = per_token
        self.batched_prior = batched
        # The (decayed) normal equations of seconds = a*passes + b*tokens + c*batched.
        self._normal = [[0.0] * 3 for _ in range(3)]
        self._target = [0.0] * 3
        self.largest = 1.0  # the most tokens (in whole tiles) of a batch timed so far

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

    def _features(self, counts: list[int]) -> tuple[float, float, float]:
        tokens, passes = sum(counts), float(self.passes(counts))
        if tokens <= 1:  # the matrix-vector path
            return passes, float(tokens), 0.0
        return passes, float(-(-tokens // TILE) * TILE), 1.0

    def observe(self, counts: list[int], seconds: float) -> None:
        """Learn from a decode of `counts` tokens per sequence that took `seconds`."""
        x = self._features(counts)
        self.largest = max(self.largest, x[1])
        fit = self._fit()
        if fit is not None and fit[0] > 0:  # a stall of a busy machine is not the batch's cost
            seconds = min(seconds, STALL * sum(c * f for c, f in zip(fit, x, strict=True)))
        for i in range(3):
            self._target[i] = self._target[i] * FORGET + x[i] * seconds
            for j in range(3):
                self._normal[i][j] = self._normal[i][j] * FORGET + x[i] * x[j]

    def _fit(self) -> tuple[float, float, float] | None:
        """(seconds per pass, per token, per batch of more than one) by least squares, held
        near the priors by a penalty on b - prior*a and c - batched_prior*a worth a few steps,
        so a run of identical batches (or a noisy step) cannot carry it off; None before
        there is a fit."""
        r, q, w = self.prior, self.batched_prior, PRIOR_WEIGHT
        m = [row[:] for row in self._normal]
        m[0][0] += w * (r * r + q * q)
        m[0][1] -= w * r
        m[1][0] -= w * r
        m[0][2] -= w * q
        m[2][0] -= w * q
        m[1][1] += w
        m[2][2] += w
        solution = _solve(m, self._target)
        return None if solution is None else (solution[0], solution[1], solution[2])

    def ratios(self) -> tuple[float, float]:
        """A token's cost and a multi-token batch's step up, in passes."""
        fit = self._fit()
        if fit is None:
            return self.prior, self.batched_prior
        a, b, c = fit
        if a <= 0:
            return MAX_PER_TOKEN, MAX_BATCHED
        return (
            min(MAX_PER_TOKEN, max(MIN_PER_TOKEN, b / a)),
            min(MAX_BATCHED, max(0.0, c / a)),
        )

    def per_token(self) -> float:
        """A token's cost in passes."""
        return self.ratios()[0]

    def pass_seconds(self) -> float | None:
        """What one forward pass takes, as measured; None before any decode was timed."""
        fit = self._fit()
        return fit[0] if fit is not None and fit[0] > 0 and self._normal[0][0] > 0 else None

    def estimate(
        self, counts: list[int], ratios: tuple[float, float], explore: bool = True
    ) -> float:
        """The cost of a batch, in passes, for (per token, batched) costs `ratios`. To
        `explore`, tokens past the largest batch timed cost the prior's low guess (or less, as
        measured), so that a larger batch is tried once and measured: a CPU's batch cost
        rises ever more slowly with its size, so a line through small batches over-prices
        large ones, which would then never be sent (a code edit's fit from batches of 4 and 8
        tokens put 16 at 179 ms; they take 146)."""
        passes, tokens, batched = self._features(counts)
        timed = min(tokens, self.largest) if explore else tokens
        untimed = min(ratios[0], self.prior) * (tokens - timed)
        return passes + ratios[0] * timed + untimed + ratios[1] * batched


def _solve(m: list[list[float]], v: list[float]) -> list[float] | None:
    """x with m x = v, by Gaussian elimination with partial pivoting; None if m is singular."""
    n = len(v)
    rows = [[*m[i], v[i]] for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        scale = max(abs(value) for row in rows for value in row[:n])
        if abs(rows[pivot][col]) <= 1e-12 * scale:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / rows[col][col]
            rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    x = [0.0] * n
    for r in reversed(range(n)):
        x[r] = (rows[r][n] - sum(rows[r][c] * x[c] for c in range(r + 1, n))) / rows[r][r]
    return x


@dataclass
class Proposal:
    """A generating slot's draft candidates for one step."""

    kind: int
    tokens: list[int]
    acceptance: float


def plan(proposals: list[Proposal | None], cost: DecodeCost, fixed: bool = False) -> list[int]:
    """How many draft tokens each generating slot sends this step (0: none).

    `proposals[i]` belongs to the i-th sequence (None: not generating this step). Every slot
    sends at most `k` tokens, for the `k` that gives the most expected tokens per unit of
    batch cost; k = 0 (no drafts) is the plan to beat, by `PAYS_BY`. `fixed` plans with the
    prior costs, not the learned ones (a seeded request's batches must not depend on timings).
    """
    base = [0 if p is None else 1 for p in proposals]
    ratios = (cost.prior, cost.batched_prior) if fixed else cost.ratios()
    generating = sum(base)
    best_k, best_rate = 0, PAYS_BY * generating / cost.estimate(base, ratios, not fixed)
    longest = max((len(p.tokens) for p in proposals if p is not None), default=0)
    for k in range(1, longest + 1):
        counts, expected = list(base), float(generating)
        for i, p in enumerate(proposals):
            if p is None:
                continue
            n = min(k, len(p.tokens))
            counts[i] += n
            expected += sum(p.acceptance**j for j in range(1, n + 1))
        rate = expected / cost.estimate(counts, ratios, not fixed)
        if rate > best_rate:
            best_k, best_rate = k, rate
    return [0 if p is None else min(best_k, len(p.tokens)) for p in proposals]
