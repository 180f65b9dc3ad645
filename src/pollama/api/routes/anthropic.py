"""Anthropic's `POST /v1/messages`: translated to a native chat, run, and translated back.

Errors on this path are rendered in Anthropic's `{"type": "error", "error": {...}}` shape by
`pollama.api.errors`, before a stream begins and (as `event: error`) after.
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pollama.api import native
from pollama.api.compat import anthropic as compat
from pollama.api.deps import PipelineDep
from pollama.api.replies import respond
from pollama.api.schemas.anthropic import MessagesRequest

router = APIRouter()


@router.post("/v1/messages")
async def messages(req: MessagesRequest, request: Request, pipeline: PipelineDep) -> Response:
    """Chat through the pipeline; `stream` selects named SSE events or one object."""
    chat = native.chat_request(compat.chat_request(req, think=compat.think(req)))
    events = pipeline.run(dataclasses.replace(chat, optional_think=True))
    return await respond(request, events, compat.Messages(req.model), stream=req.stream)
