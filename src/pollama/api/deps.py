"""FastAPI dependencies: the collaborators `create_app` put on `app.state`, and the services
built over them. Every route reaches its collaborators through these, and only these."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pollama.api.embedding import EmbeddingService
from pollama.api.pipeline import Pipeline
from pollama.api.response_store import ResponseStore
from pollama.api.schemas.generate import Message
from pollama.engine.scheduler import Scheduler
from pollama.registry import Registry
from pollama.store import Store


def get_store(request: Request) -> Store:
    """The model store."""
    store: Store = request.app.state.store
    return store


def get_scheduler(request: Request) -> Scheduler:
    """The scheduler, which hands out runners."""
    scheduler: Scheduler = request.app.state.scheduler
    return scheduler


def get_registry(request: Request) -> Registry:
    """The registry client pulls and pushes go through."""
    registry: Registry = request.app.state.registry
    return registry


def get_pipeline(request: Request) -> Pipeline:
    """The generation pipeline every chat/generate route uses (`/api/*` and `/v1/*`)."""
    return Pipeline(request.app.state.store, request.app.state.scheduler)


def get_response_store(request: Request) -> ResponseStore[Message]:
    """The conversations `/v1/responses` may continue (`previous_response_id`)."""
    store: ResponseStore[Message] = request.app.state.responses
    return store


def get_embedding(request: Request) -> EmbeddingService:
    """The embedding service every embedding route uses."""
    return EmbeddingService(request.app.state.store, request.app.state.scheduler)


StoreDep = Annotated[Store, Depends(get_store)]
SchedulerDep = Annotated[Scheduler, Depends(get_scheduler)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
EmbeddingDep = Annotated[EmbeddingService, Depends(get_embedding)]
ResponseStoreDep = Annotated[ResponseStore[Message], Depends(get_response_store)]
