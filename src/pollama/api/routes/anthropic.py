"""Anthropic's `POST /v1/messages`: translated to a native chat and back.

Errors on this path are rendered in Anthropic's `{"type": "error", "error": {...}}` shape by
`pollama.api.errors`, before a stream begins and (as `event: error`) after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from pollama.api.compat import anthropic as compat
from pollama.api.compat.native import as_dicts
from pollama.api.routes.openai import Service
from pollama.api.schemas.anthropic import MessagesRequest
from pollama.api.schemas.generate import ChatRequest
from pollama.api.sse import named_frame, sse_response
from pollama.api.streaming import cancel_on_disconnect

router = APIRouter()


def _think(req: MessagesRequest, request: Request) -> bool | None:
    """The native `think`: asked-for thinking is dropped on a model that cannot think."""
    if req.thinking is None:
        return None
    if req.thinking.type != "enabled":
        return False
    model = request.app.state.store.get_model(req.model)
    return "thinking" in model.capabilities() or None


async def _frames(events: AsyncIterator[compat.Event]) -> AsyncIterator[str]:
    async for name, payload in events:
        yield named_frame(name, payload)


@router.post("/v1/messages")
async def messages(req: MessagesRequest, request: Request, service: Service) -> Response:
    """Chat through the native chat service; `stream` selects named SSE events or one object."""
    native = ChatRequest.model_validate(compat.chat_request(req, think=_think(req, request)))
    chunks = as_dicts(service.chat(native))
    if req.stream:
        events = compat.stream_events(chunks, req.model)
        return await sse_response(request, _frames(events), named_errors=True)
    async with cancel_on_disconnect(request):
        return JSONResponse((await compat.messages_response(chunks, req.model)).wire())
