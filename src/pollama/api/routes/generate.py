"""`POST /api/generate` and `POST /api/chat`: parse, one service call, render.

Both stream NDJSON unless the request says `"stream": false`, which gets the whole reply as
one object (text joined, tool calls collected, the final chunk's metrics).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pollama.api.deps import get_generation
from pollama.api.generation import (
    TRUNCATED_HEADER,
    TRUNCATED_TOKENS_HEADER,
    Generation,
    GenerationService,
    assistant,
)
from pollama.api.schemas.generate import (
    ChatRequest,
    ChatResponse,
    GenerateRequest,
    GenerateResponse,
    ToolCall,
)
from pollama.api.streaming import cancel_on_disconnect, json_response, ndjson_response

router = APIRouter()

Service = Annotated[GenerationService, Depends(get_generation)]


def _report(response: Response, gen: Generation[object]) -> Response:
    """Say beside the reply what the reply itself cannot: what was cut to fit num_ctx."""
    if gen.dropped_messages:
        response.headers[TRUNCATED_HEADER] = str(gen.dropped_messages)
    if gen.truncated_tokens:
        response.headers[TRUNCATED_TOKENS_HEADER] = str(gen.truncated_tokens)
    return response


@router.post("/api/generate")
async def generate(
    request: Request,
    body: GenerateRequest,
    service: Service,
) -> Response:
    gen = service.generate(body)
    if body.stream is False:
        async with cancel_on_disconnect(request):
            reply = await collect_generate(gen)
        return _report(json_response(reply), gen)  # type: ignore[arg-type]
    return _report(await ndjson_response(request, gen), gen)  # type: ignore[arg-type]


@router.post("/api/chat")
async def chat(
    request: Request,
    body: ChatRequest,
    service: Service,
) -> Response:
    gen = service.chat(body)
    if body.stream is False:
        async with cancel_on_disconnect(request):
            reply = await collect_chat(gen)
        return _report(json_response(reply), gen)  # type: ignore[arg-type]
    return _report(await ndjson_response(request, gen), gen)  # type: ignore[arg-type]


async def collect_generate(chunks: AsyncIterator[GenerateResponse]) -> GenerateResponse:
    """A whole `/api/generate` reply as one object (`stream: false`): the text joined, the
    last chunk's metrics and context."""
    parts: list[str] = []
    thinking: list[str] = []
    last: GenerateResponse | None = None
    async for chunk in chunks:
        parts.append(chunk.response)
        thinking.append(chunk.thinking or "")
        last = chunk
    assert last is not None, "a reply always ends with a done chunk"
    return last.model_copy(
        update={"response": "".join(parts), "thinking": "".join(thinking) or None}
    )


async def collect_chat(chunks: AsyncIterator[ChatResponse]) -> ChatResponse:
    """A whole `/api/chat` reply as one object: content joined, tool calls collected."""
    parts: list[str] = []
    thinking: list[str] = []
    calls: list[ToolCall] = []
    last: ChatResponse | None = None
    async for chunk in chunks:
        parts.append(chunk.message.content)
        thinking.append(chunk.message.thinking or "")
        calls.extend(chunk.message.tool_calls or ())
        last = chunk
    assert last is not None, "a reply always ends with a done chunk"
    message = assistant("".join(parts), calls)
    message.thinking = "".join(thinking) or None
    return last.model_copy(update={"message": message})
