"""The route table, grouped as Ollama's `GenerateRoutes` is: one router per concern."""

from __future__ import annotations

from fastapi import APIRouter

from pollama.api.routes import (
    anthropic,
    embed,
    generate,
    metrics,
    models,
    openai,
    ps,
    registry,
    responses,
)

ROUTERS: list[APIRouter] = [
    models.router,  # /, /api/version, tags, show, create, blobs, copy, delete
    generate.router,  # /api/generate, /api/chat
    embed.router,  # /api/embed, /api/embeddings
    ps.router,  # /api/ps
    registry.router,  # /api/pull, /api/push
    openai.router,  # /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models
    anthropic.router,  # /v1/messages
    responses.router,  # /v1/responses
    metrics.router,  # /metrics
]

__all__ = ["ROUTERS"]
