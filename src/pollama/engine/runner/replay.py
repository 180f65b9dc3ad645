"""A reply's tokens decoded again as its generation decoded them, step by step.

Each step of a seeded generation decodes its last token and the draft its drafter proposes
from the text so far (sized from that text alone, `plan(fixed=True)`), and keeps the draft
tokens the reply went on with. Given the reply, every step can be told in advance: the same
drafter, fed the same tokens, proposes the same drafts, and the reply says which of them
were kept. Decoding those steps gives each of the reply's tokens the numbers its generation
gave it (`chunks.py`), so a turn's reply, cached as it was generated, is what a fresh
evaluation of the next turn's prompt computes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pollama.engine.runner.speculate import Proposer, accept

# The draft a seeded drafter sends at a position: (kind, tokens), empty when none pays.
DraftFor = Callable[[Proposer, int], tuple[int, list[int]]]


@dataclass(frozen=True)
class Step:
    """One decode of a replay: the batch at `position` (the token there, then the draft) and
    the cache's length after it, at most the replay's end."""

    position: int
    tokens: list[int]
    kept: int


def replay_steps(
    tokens: list[int], start: int, end: int, drafter: Proposer | None, draft_for: DraftFor
) -> list[Step]:
    """The steps that decode `tokens[start:end]`, a reply generated after `tokens[:start]`
    with `drafter` (None: it did not draft), which has read `tokens[:start]`."""
    steps: list[Step] = []
    position = start
    if drafter is not None:  # the reply's first token was drawn from the prompt's output
        drafter.append(tokens[start])
    while position < end:
        kind, draft = (0, []) if drafter is None else draft_for(drafter, position)
        after = position + 1

        def drawn(i: int, after: int = after) -> int | None:
            return tokens[after + i] if after + i < end else None

        accepted = accept(draft, drawn, drafter)
        if draft and drafter is not None:
            drafter.verified(kind, len(draft), accepted)
        steps.append(Step(position, [tokens[position], *draft], min(after + accepted, end)))
        position = after + accepted
    return steps
