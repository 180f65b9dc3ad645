"""`POST /api/pull` and `POST /api/push`: progress streamed as NDJSON, or the last line alone.

As in Ollama, the stream always begins (`pulling manifest`, `retrieving manifest`), so every
failure after the name check arrives as the stream's last line, `{"error": "..."}`; with
`stream: false` it is a 500 with that body, and success is `{"status": "success"}`.
A pull keeps going while any client waits for it; a client that disconnects stops only its
own stream, and what it had fetched stays on disk for the next pull to resume.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pollama.api.deps import get_registry, get_store
from pollama.api.errors import error_response
from pollama.api.schemas.models import ProgressResponse
from pollama.api.schemas.registry import PullRequest, PushRequest
from pollama.api.streaming import json_response, ndjson_response
from pollama.api.transfers import wire_progress
from pollama.errors import InvalidRequest, PollamaError
from pollama.registry import Progress, Registry
from pollama.store import ModelName, Store

router = APIRouter()

RegistryDep = Annotated[Registry, Depends(get_registry)]
StoreDep = Annotated[Store, Depends(get_store)]


@router.post("/api/pull")
async def pull(
    request: Request, body: PullRequest, registry: RegistryDep, store: StoreDep
) -> Response:
    name = ModelName.parse(body.model_name)
    _refuse_request_credentials(body)
    name = await run_in_threadpool(store.resolve, name)
    return await _respond(request, registry.pull(name, insecure=body.insecure), body.stream)


@router.post("/api/push")
async def push(
    request: Request, body: PushRequest, registry: RegistryDep, store: StoreDep
) -> Response:
    if not body.model_name:
        raise InvalidRequest("model is required")
    _refuse_request_credentials(body)
    name = await run_in_threadpool(store.resolve, ModelName.parse(body.model_name))
    return await _respond(request, registry.push(name, insecure=body.insecure), body.stream)


def _refuse_request_credentials(body: PullRequest) -> None:
    """Ollama accepts `username`/`password` and ignores them; a request that sends them
    expects them used, so it is told where credentials go instead."""
    if body.username or body.password:
        raise InvalidRequest(
            "username and password are not read from requests: log in with `docker login` "
            "(~/.docker/config.json) or set OLLAMA_REGISTRY_USERNAME and OLLAMA_REGISTRY_PASSWORD"
        )


async def _respond(
    request: Request, progress: AsyncIterator[Progress], stream: bool | None
) -> Response:
    lines = wire_progress(progress)
    if stream is not False:
        return await ndjson_response(request, lines)
    last = ProgressResponse(status="success")
    try:
        async for line in lines:
            last = line
    except PollamaError as exc:
        return error_response(request, 500, exc.message)
    return json_response(last)
