"""`GET /api/ps`: the loaded models, in Ollama's `ProcessResponse` shape."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pollama.api.schemas.base import GoTime, ReplyModel
from pollama.api.schemas.models import ModelDetails


class ProcessModelResponse(ReplyModel):
    """One loaded model. `size_vram` is 0 on a CPU; `context_length` is per slot.

    `num_parallel` is pollama's own: how many requests the model serves at once (its slots),
    so a client can size its concurrency; Ollama's entries have no such field, so a client
    reading one of theirs finds 1, the one safe assumption.
    So are `running` and `waiting` (requests it serves now, requests queued for it) and
    `kv_cache_type` and `kv_cache_size` (bytes, part of `size`); Ollama's clients ignore
    fields they do not know.
    """

    name: str
    model: str
    size: int
    digest: str
    details: ModelDetails = Field(default_factory=ModelDetails)
    expires_at: GoTime
    size_vram: int
    context_length: int
    num_parallel: int = 1
    running: int = 0
    waiting: int = 0
    kv_cache_type: str = "f16"
    kv_cache_size: int = 0


class ProcessResponse(BaseModel):
    """The loaded models, the one that stays longest first."""

    models: list[ProcessModelResponse] = Field(default_factory=list)
