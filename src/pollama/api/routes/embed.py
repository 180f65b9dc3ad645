"""`/api/embed` and the legacy `/api/embeddings`: parse, call the embedding service, render."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pollama.api.embedding import EmbeddingService
from pollama.api.schemas.embed import EmbeddingsRequest, EmbedRequest
from pollama.api.streaming import json_response

router = APIRouter()


def embedding_service(request: Request) -> EmbeddingService:
    """The service over this app's store and scheduler (cheap: it holds only references)."""
    return EmbeddingService(request.app.state.store, request.app.state.scheduler)


@router.post("/api/embed")
async def embed(req: EmbedRequest, request: Request) -> JSONResponse:
    """Embed a string or a batch of strings; vectors are L2-normalised."""
    return json_response(await embedding_service(request).embed(req))


@router.post("/api/embeddings")
async def embeddings(req: EmbeddingsRequest, request: Request) -> JSONResponse:
    """Embed one prompt; the vector is returned as the model produced it (not normalised)."""
    return json_response(await embedding_service(request).embeddings(req))
