"""OpenAI-compatible routes: translate to the native services, translate the replies back.

Errors raised here or beneath are rendered in OpenAI's envelope by `pollama.api.errors`
(every `/v1/` path but `/v1/messages`).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from pollama.api.compat import openai as compat
from pollama.api.compat.native import as_dicts
from pollama.api.deps import get_generation
from pollama.api.generation import GenerationService
from pollama.api.routes.embed import embedding_service
from pollama.api.schemas.embed import EmbedRequest
from pollama.api.schemas.generate import ChatRequest, GenerateRequest
from pollama.api.schemas.openai import (
    ChatCompletionRequest,
    CompletionRequest,
    Embedding,
    EmbeddingList,
    EmbeddingRequest,
    EmbeddingUsage,
    Model,
    ModelList,
    dump_openai,
)
from pollama.api.sse import data_frame, sse_response
from pollama.api.streaming import cancel_on_disconnect
from pollama.errors import InvalidRequest

router = APIRouter()

Service = Annotated[GenerationService, Depends(get_generation)]


async def _frames(chunks: AsyncIterator[BaseModel]) -> AsyncIterator[str]:
    """OpenAI's SSE framing: one `data:` event per chunk, then `data: [DONE]`."""
    async for chunk in chunks:
        yield data_frame(dump_openai(chunk))
    yield data_frame("[DONE]")


@router.post("/v1/chat/completions")
async def chat_completions(
    req: ChatCompletionRequest, request: Request, service: Service
) -> Response:
    """Chat through the native chat service; `stream` selects SSE chunks or one object."""
    native = ChatRequest.model_validate(compat.chat_request(req))
    chunks = as_dicts(service.chat(native))
    if req.stream:
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return await sse_response(
            request, _frames(compat.chat_chunks(chunks, req.model, include_usage))
        )
    async with cancel_on_disconnect(request):
        return JSONResponse(dump_openai(await compat.chat_completion(chunks, req.model)))


@router.post("/v1/completions")
async def completions(req: CompletionRequest, request: Request, service: Service) -> Response:
    """Legacy text completion through the native generate service."""
    native = GenerateRequest.model_validate(compat.completion_request(req))
    chunks = as_dicts(service.generate(native))
    if req.stream:
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return await sse_response(
            request, _frames(compat.completion_chunks(chunks, req.model, include_usage))
        )
    async with cancel_on_disconnect(request):
        return JSONResponse(dump_openai(await compat.completion(chunks, req.model)))


def _model(name: str, modified_at: Any, namespace: str) -> Model:
    return Model(id=name, created=int(modified_at.timestamp()), owned_by=namespace)


@router.get("/v1/models")
async def list_models(request: Request) -> JSONResponse:
    """The local models, OpenAI-style (`owned_by` is the model's namespace)."""
    data = [
        _model(m.name.display_shortest(), m.modified_at, m.name.namespace)
        for m in request.app.state.store.list_models()
    ]
    return JSONResponse(dump_openai(ModelList(data=data)))


@router.get("/v1/models/{name:path}")
async def retrieve_model(name: str, request: Request) -> JSONResponse:
    """One model; an unknown name is a 404 in OpenAI's envelope."""
    model = request.app.state.store.get_model(name)
    return JSONResponse(dump_openai(_model(name, model.modified_at, model.name.namespace)))


@router.post("/v1/embeddings")
async def embeddings(req: EmbeddingRequest, request: Request) -> JSONResponse:
    """Embeddings through the native embed service, as floats or base64 float32."""
    fmt = (req.encoding_format or "float").lower()
    if fmt not in ("float", "base64"):
        raise InvalidRequest(
            f"Invalid value for 'encoding_format' = {req.encoding_format}. "
            "Supported values: ['float', 'base64']."
        )
    native = EmbedRequest(model=req.model, input=_inputs(req.input), dimensions=req.dimensions)
    result = await embedding_service(request).embed(native)
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
