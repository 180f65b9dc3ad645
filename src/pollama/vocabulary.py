"""Whether a draft model speaks its target's vocabulary, checked at create and at load.

A draft model proposes token ids that the target verifies, so both must mean the same text by
each id. The rules are llama.cpp's own (`common_speculative_are_compatible`): the same kind of
tokenizer and special tokens, sizes at most `MAX_SIZE_DIFFERENCE` apart (the sizes of one
family's models differ by padding: Qwen2.5 0.5B has 151936 ids, 7B 152064), and the same text
for every id both have. `create` reads the facts from the GGUF headers, the runner from
llama.cpp's loaded vocabularies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_SIZE_DIFFERENCE = 128


@dataclass(frozen=True)
class VocabFacts:
    """What identifies a vocabulary: its tokenizer kind, special tokens and token texts."""

    kind: str
    bos: int | None
    eos: int | None
    tokens: Sequence[str]


def draft_mismatch(target: VocabFacts, draft: VocabFacts) -> str | None:
    """Why `draft` cannot draft for `target`, as an error message; None when it can."""
    reason = _difference(target, draft)
    if reason is None:
        return None
    return f"draft model vocabulary does not match the model's: {reason}"


def _difference(target: VocabFacts, draft: VocabFacts) -> str | None:
    if draft.kind != target.kind:
        return f"tokenizer {draft.kind!r}, the model's {target.kind!r}"
    if (draft.bos, draft.eos) != (target.bos, target.eos):
        return f"BOS/EOS tokens {draft.bos}/{draft.eos}, the model's {target.bos}/{target.eos}"
    n_target, n_draft = len(target.tokens), len(draft.tokens)
    if abs(n_target - n_draft) > MAX_SIZE_DIFFERENCE:
        return f"{n_draft} tokens, the model's {n_target}"
    for i in range(min(n_target, n_draft)):
        if draft.tokens[i] != target.tokens[i]:
            return f"token {i} is {draft.tokens[i]!r}, the model's {target.tokens[i]!r}"
    return None
