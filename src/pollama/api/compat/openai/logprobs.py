"""Logprobs in OpenAI's two shapes: chat's `{"content": [...]}` and legacy completions' four
lists (`tokens`, `token_logprobs`, `top_logprobs` as token → logprob maps, `text_offset`)."""

from __future__ import annotations

from collections.abc import Sequence

from pollama.api.schemas.openai_logprobs import (
    ChoiceLogprobs,
    CompletionLogprobs,
    TokenLogprob,
    TopLogprob,
)
from pollama.engine.types import Logprob


def chat_logprobs(values: Sequence[Logprob]) -> ChoiceLogprobs | None:
    """A chat choice's logprobs; None (left out) when the request did not ask."""
    if not values:
        return None
    content = [
        TokenLogprob(
            token=lp.token,
            logprob=lp.logprob,
            bytes=list(lp.bytes),
            top_logprobs=[
                TopLogprob(token=t.token, logprob=t.logprob, bytes=list(t.bytes))
                for t in lp.top_logprobs
            ],
        )
        for lp in values
    ]
    return ChoiceLogprobs(content=content)


def completion_logprobs(values: Sequence[Logprob], offset: int = 0) -> CompletionLogprobs | None:
    """A completion choice's logprobs; `offset` is where its text starts in the reply."""
    if not values:
        return None
    offsets = []
    for lp in values:
        offsets.append(offset)
        offset += len(lp.token)
    return CompletionLogprobs(
        tokens=[lp.token for lp in values],
        token_logprobs=[lp.logprob for lp in values],
        top_logprobs=[{t.token: t.logprob for t in lp.top_logprobs} for lp in values],
        text_offset=offsets,
    )
