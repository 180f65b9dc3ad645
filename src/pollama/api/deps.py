"""FastAPI dependencies: the collaborators `create_app` put on `app.state`."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from pollama.api.generation import GenerationService


def get_store(request: Request) -> Any:
    """The model store (`pollama.store.Store`)."""
    return request.app.state.store


def get_scheduler(request: Request) -> Any:
    """The scheduler (`pollama.engine.Scheduler`)."""
    return request.app.state.scheduler


def get_registry(request: Request) -> Any:
    """The registry client pulls and pushes go through (`pollama.registry.Registry`)."""
    return request.app.state.registry


def get_generation(request: Request) -> GenerationService:
    """The generation service every chat/generate route uses (`/api/*` and `/v1/*`)."""
    return GenerationService(request.app.state.store, request.app.state.scheduler)
