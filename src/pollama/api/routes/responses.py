"""`POST /v1/responses`: OpenAI's Responses API on the pipeline, with `previous_response_id`.

Errors are rendered in OpenAI's envelope (`pollama.api.errors`); an unknown or evicted
`previous_response_id` is a 400 that says which.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pollama.api import native
from pollama.api.compat.responses import Responses, chat_request, conversation
from pollama.api.deps import PipelineDep, ResponseStoreDep
from pollama.api.replies import respond
from pollama.api.schemas.responses import ResponsesRequest
from pollama.errors import PromptTooLong

router = APIRouter()


@router.post("/v1/responses")
async def responses(
    req: ResponsesRequest, request: Request, pipeline: PipelineDep, store: ResponseStoreDep
) -> Response:
    """A response, streamed as named events or as one object."""
    earlier = store.get(req.previous_response_id) if req.previous_response_id else ()
    messages = conversation(req, earlier)
    events = pipeline.run(native.chat_request(chat_request(req, messages)))
    try:
        return await respond(request, events, Responses(req, messages, store), stream=req.stream)
    except PromptTooLong as exc:  # said in this family's words: its field is `truncation`
        raise PromptTooLong(exc.tokens, exc.num_ctx, 'set truncation to "auto"') from None
