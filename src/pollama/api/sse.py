"""Server-sent events for the OpenAI and Anthropic streams, with the NDJSON stream's error rules.

An error raised before the first event becomes an ordinary error response with its real
status (in the family's shape, via `pollama.api.errors`). Once the stream has begun the
status is 200, so the error goes out as one last event the SDKs raise: OpenAI's
`data: {"error": {...}}` or Anthropic's `event: error`. Closing the response (the client went
away) closes the event iterator and, through it, the generation beneath.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from pollama.api.errors import error_body, error_response
from pollama.api.streaming import cancel_on_disconnect
from pollama.errors import PollamaError

log = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"


def data_frame(payload: dict[str, Any] | str) -> str:
    """One unnamed event (OpenAI): `data: <json>` and a blank line."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {text}\n\n"


def named_frame(event: str, payload: dict[str, Any]) -> str:
    """One named event (Anthropic): `event: <name>`, `data: <json>`, a blank line."""
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def sse_response(
    request: Request, frames: AsyncIterator[str], *, named_errors: bool = False
) -> Response:
    """Stream `frames` (already formatted events) as `text/event-stream`.

    `named_errors` writes an in-stream error as `event: error` (Anthropic) instead of a bare
    `data:` line (OpenAI).
    """
    try:
        async with cancel_on_disconnect(request):
            first = await anext(frames)
    except StopAsyncIteration:
        return StreamingResponse(iter(()), media_type=EVENT_STREAM)
    except PollamaError as exc:
        return error_response(request, exc.status_code, exc.message)

    def error_frame(status: int, message: str) -> str:
        body = error_body(request.url.path, status, message)
        return named_frame("error", body) if named_errors else data_frame(body)

    async def body() -> AsyncIterator[str]:
        try:
            yield first
            async for frame in frames:
                yield frame
        except PollamaError as exc:
            yield error_frame(exc.status_code, exc.message)
        except Exception as exc:  # the stream has begun: report rather than drop the event
            log.exception("event stream failed")
            yield error_frame(500, str(exc) or type(exc).__name__)
        finally:
            await frames.aclose()  # type: ignore[attr-defined]

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type=EVENT_STREAM, headers=headers)
