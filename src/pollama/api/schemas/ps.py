"""`GET /api/ps`: the loaded models, in Ollama's `ProcessResponse` shape."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pollama.api.schemas.base import GoTime, ReplyModel
from pollama.api.schemas.models import ModelDetails


class ProcessModelResponse(ReplyModel):
    """One loaded model. `size_vram` is 0 on a CPU; `context_length` is per slot.

    `num_parallel` is pollama's own: how many requests the model serves at once (its slots),
    so a client can size its concurrency. Ollama's entries have no such field.
    """

    name: str
    model: str
    size: int
    digest: str
    details: ModelDetails = Field(default_factory=ModelDetails)
    expires_at: GoTime
    size_vram: int
    context_length: int
    num_parallel: int


class ProcessResponse(BaseModel):
    """The loaded models, the one that stays longest first."""

    models: list[ProcessModelResponse] = Field(default_factory=list)
