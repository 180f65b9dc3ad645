"""`/api/embed` and the legacy `/api/embeddings`: parse, call the embedding service, render."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pollama.api.deps import EmbeddingDep
from pollama.api.schemas.embed import EmbeddingsRequest, EmbedRequest
from pollama.api.streaming import json_response

router = APIRouter()


@router.post("/api/embed")
async def embed(req: EmbedRequest, service: EmbeddingDep) -> JSONResponse:
    """Embed a string or a batch of strings; vectors are L2-normalised."""
    return json_response(await service.embed(req))


@router.post("/api/embeddings")
async def embeddings(req: EmbeddingsRequest, service: EmbeddingDep) -> JSONResponse:
    """Embed one prompt; the vector is returned as the model produced it (not normalised)."""
    return json_response(await service.embeddings(req))
