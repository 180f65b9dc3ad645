"""OpenAI's logprob shapes: chat's per-token entries (which the Responses API's output text
carries too) and legacy completions' four lists."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TopLogprob(BaseModel):
    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(TopLogprob):
    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class ChoiceLogprobs(BaseModel):
    """A choice's `logprobs`: one entry per token of its content."""

    content: list[TokenLogprob]


class CompletionLogprobs(BaseModel):
    """The legacy completions' logprobs: four lists, one entry per token."""

    tokens: list[str]
    token_logprobs: list[float]
    top_logprobs: list[dict[str, float]]
    text_offset: list[int]
