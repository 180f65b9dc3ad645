"""Wire types of the native embedding endpoints, as in Ollama's `api/types.go`.

`POST /api/embed` takes a batch and answers L2-normalised vectors with metrics;
the legacy `POST /api/embeddings` takes one `prompt` and answers the raw vector.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pollama.api.schemas.base import RequestModel
from pollama.api.schemas.generate import KeepAlive


class EmbedRequest(RequestModel):
    """`POST /api/embed` (Ollama's `EmbedRequest`)."""

    # Model is the model name.
    model: str = ""
    # Input is the input to embed: a string or a list of strings.
    input: str | list[str] | None = None
    # Truncate cuts inputs to fit the context; false makes an over-long input an error.
    truncate: bool | None = None
    # Dimensions truncates the output vectors to this many dimensions (then re-normalises them).
    dimensions: int | None = None
    # KeepAlive controls how long the model stays loaded after the request.
    keep_alive: KeepAlive = None
    # Options lists model-specific options.
    options: dict[str, Any] | None = None

    def inputs(self) -> list[str]:
        """The inputs as a list; an empty string or list means "just load the model"."""
        if self.input is None or self.input == "":
            return []
        return [self.input] if isinstance(self.input, str) else list(self.input)


class EmbedResponse(BaseModel):
    """`POST /api/embed`'s reply (Ollama's `EmbedResponse`)."""

    model: str
    embeddings: list[list[float]] = Field(default_factory=list)
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None


class EmbeddingsRequest(RequestModel):
    """`POST /api/embeddings`, the legacy single-prompt form (Ollama's `EmbeddingRequest`)."""

    model: str = ""
    prompt: str = ""
    keep_alive: KeepAlive = None
    options: dict[str, Any] | None = None


class EmbeddingsResponse(BaseModel):
    """`POST /api/embeddings`'s reply: one vector, not normalised."""

    embedding: list[float] = Field(default_factory=list)
