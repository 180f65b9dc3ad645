"""`POST /api/generate` and `POST /api/chat`: parse, run the pipeline, render.

Both stream NDJSON unless the request says `"stream": false`, which gets the whole reply as
one object (text joined, tool calls collected, the final chunk's metrics).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pollama.api import native
from pollama.api.deps import PipelineDep
from pollama.api.replies import respond
from pollama.api.schemas.generate import ChatRequest, GenerateRequest

router = APIRouter()


@router.post("/api/generate")
async def generate(request: Request, body: GenerateRequest, pipeline: PipelineDep) -> Response:
    events = pipeline.run(native.generate_request(body))
    replies = native.GenerateReplies(body.model)
    return await respond(request, events, replies, stream=body.stream is not False)


@router.post("/api/chat")
async def chat(request: Request, body: ChatRequest, pipeline: PipelineDep) -> Response:
    events = pipeline.run(native.chat_request(body))
    replies = native.ChatReplies(body.model)
    return await respond(request, events, replies, stream=body.stream is not False)
