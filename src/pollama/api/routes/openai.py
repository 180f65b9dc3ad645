"""OpenAI-compatible routes: translate to native requests, run them, translate the replies.

Errors raised here or beneath are rendered in OpenAI's envelope by `pollama.api.errors`
(every `/v1/` path but `/v1/messages`).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pollama.api import native
from pollama.api.compat import openai as compat
from pollama.api.deps import EmbeddingDep, PipelineDep, StoreDep
from pollama.api.replies import respond
from pollama.api.schemas.embed import EmbedRequest
from pollama.api.schemas.openai import (
    ChatCompletionRequest,
    CompletionRequest,
    Embedding,
    EmbeddingList,
    EmbeddingRequest,
    EmbeddingUsage,
    Model,
    ModelList,
    StreamOptions,
    dump_openai,
)
from pollama.errors import InvalidRequest

router = APIRouter()


def _include_usage(options: StreamOptions | None) -> bool:
    return bool(options and options.include_usage)


@router.post("/v1/chat/completions")
async def chat_completions(
    req: ChatCompletionRequest, request: Request, pipeline: PipelineDep
) -> Response:
    """Chat through the pipeline; `stream` selects SSE chunks or one object."""
    events = pipeline.run(native.chat_request(compat.chat_request(req)))
    family = compat.ChatCompletions(req.model, _include_usage(req.stream_options))
    return await respond(request, events, family, stream=req.stream)


@router.post("/v1/completions")
async def completions(req: CompletionRequest, request: Request, pipeline: PipelineDep) -> Response:
    """Legacy text completion through the pipeline's generate path."""
    events = pipeline.run(native.generate_request(compat.completion_request(req)))
    family = compat.Completions(req.model, _include_usage(req.stream_options))
    return await respond(request, events, family, stream=req.stream)


def _model(name: str, modified_at: datetime, namespace: str) -> Model:
    return Model(id=name, created=int(modified_at.timestamp()), owned_by=namespace)


@router.get("/v1/models")
async def list_models(store: StoreDep) -> JSONResponse:
    """The local models, OpenAI-style (`owned_by` is the model's namespace)."""
    data = [
        _model(m.name.display_shortest(), m.modified_at, m.name.namespace)
        for m in await run_in_threadpool(store.list_models)
    ]
    return JSONResponse(dump_openai(ModelList(data=data)))


@router.get("/v1/models/{name:path}")
async def retrieve_model(name: str, store: StoreDep) -> JSONResponse:
    """One model; an unknown name is a 404 in OpenAI's envelope."""
    model = await run_in_threadpool(store.get_model, name)
    return JSONResponse(dump_openai(_model(name, model.modified_at, model.name.namespace)))


@router.post("/v1/embeddings")
async def embeddings(req: EmbeddingRequest, service: EmbeddingDep) -> JSONResponse:
    """Embeddings through the native embed service, as floats or base64 float32."""
    fmt = (req.encoding_format or "float").lower()
    if fmt not in ("float", "base64"):
        raise InvalidRequest(
            f"Invalid value for 'encoding_format' = {req.encoding_format}. "
            "Supported values: ['float', 'base64']."
        )
    native_req = EmbedRequest(model=req.model, input=_inputs(req.input), dimensions=req.dimensions)
    result = await service.embed(native_req)
    data = [
        Embedding(embedding=_encode(v) if fmt == "base64" else v, index=i)
        for i, v in enumerate(result.embeddings)
    ]
    tokens = result.prompt_eval_count or 0
    usage = EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
    return JSONResponse(dump_openai(EmbeddingList(data=data, model=req.model, usage=usage)))


def _inputs(value: Any) -> list[str]:
    """OpenAI's `input`: a string or a list of strings (`""` embeds the empty string)."""
    if isinstance(value, str):
        return [value]
    if not value:
        raise InvalidRequest("invalid input")
    if not all(isinstance(v, str) for v in value):
        raise InvalidRequest("token arrays are not supported as input; send strings instead")
    return list(value)


def _encode(vector: list[float]) -> str:
    """OpenAI's base64 form: little-endian float32 bytes."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
