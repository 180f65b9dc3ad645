"""Streamed replies, errors in-band once a stream has started; Ollama's NDJSON framing.

A `Framing` says how a family writes a stream (NDJSON here, server-sent events in `api.sse`).
An error raised before the first chunk becomes an ordinary error response with its real
status. After the first chunk the status is already 200, so the error goes out as a final
chunk the clients raise (`{"error": "..."}` for the `ollama` client). Closing the generator
(the client went away) cancels everything beneath it, down to the runner's slot.

Before the response starts, nothing else listens to the connection, so a request waiting in
the admission queue (or a `stream: false` reply being gathered) watches it itself:
`cancel_on_disconnect` ends the wait the moment the client goes away, so a request nobody will
read never keeps its queue place or its slot.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from pollama.api.errors import error_body, error_response
from pollama.errors import Canceled, PollamaError

log = logging.getLogger(__name__)

NDJSON = "application/x-ndjson"
T = TypeVar("T")
# How often a waiting request checks that its client is still there.
DISCONNECT_POLL_S = 0.1


@asynccontextmanager
async def cancel_on_disconnect(request: Request) -> AsyncIterator[None]:
    """Cancel the block if the client disconnects, raising `Canceled` (499) out of it.

    Only for code that runs before the response starts: the block's task is cancelled, which
    the scheduler turns into leaving the queue and the runner into freeing the slot.
    """
    task = asyncio.current_task()
    assert task is not None
    fired = False

    async def watch() -> None:
        nonlocal fired
        while not await request.is_disconnected():
            await asyncio.sleep(DISCONNECT_POLL_S)
        fired = True
        task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        yield
    except asyncio.CancelledError:
        if not fired:
            raise
        task.uncancel()
        raise Canceled() from None
    finally:
        watcher.cancel()


def dump(chunk: BaseModel) -> dict[str, Any]:
    """A wire model as Ollama writes it: unset and `None` fields are left out."""
    return chunk.model_dump(mode="json", exclude_none=True, by_alias=True)


C = TypeVar("C", contravariant=True)


class Framing(Protocol[C]):
    """How a family writes a stream: its media type, one chunk, an in-stream error, the end."""

    media_type: str
    headers: Mapping[str, str]

    def frame(self, chunk: C) -> bytes: ...

    def error(self, path: str, status: int, message: str) -> bytes: ...

    def end(self) -> bytes: ...


class NdjsonFraming:
    """Ollama's: one compact JSON object a line, unset fields left out; an error line last."""

    media_type = NDJSON
    headers: Mapping[str, str] = {}

    def frame(self, chunk: BaseModel) -> bytes:
        return chunk.model_dump_json(exclude_none=True, by_alias=True).encode() + b"\n"

    def error(self, path: str, status: int, message: str) -> bytes:
        """The last line of a failed stream, compact as Go writes it."""
        body = error_body(path, status, message)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    def end(self) -> bytes:
        return b""


NDJSON_FRAMING = NdjsonFraming()


async def stream_response(
    request: Request,
    chunks: AsyncIterator[T],
    framing: Framing[T],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Stream `chunks` in `framing`, with the error rules in the module docstring."""
    try:
        async with cancel_on_disconnect(request):
            first = await anext(chunks)
    except StopAsyncIteration:
        return StreamingResponse(iter(()), media_type=framing.media_type)
    except PollamaError as exc:
        return error_response(request, exc.status_code, exc.message)

    async def body() -> AsyncIterator[bytes]:
        try:
            yield framing.frame(first)
            async for chunk in chunks:
                yield framing.frame(chunk)
            yield framing.end()
        except PollamaError as exc:
            yield framing.error(request.url.path, exc.status_code, exc.message)
        except Exception as exc:  # the stream has begun: report rather than drop the line
            log.exception("stream failed")
            yield framing.error(request.url.path, 500, str(exc) or type(exc).__name__)
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    all_headers = {**framing.headers, **(headers or {})}
    return StreamingResponse(body(), media_type=framing.media_type, headers=all_headers)


async def ndjson_response(request: Request, chunks: AsyncIterator[BaseModel]) -> Response:
    """Stream `chunks` as NDJSON, with Ollama's error semantics (see the module docstring)."""
    return await stream_response(request, chunks, NDJSON_FRAMING)


def json_response(chunk: BaseModel, status_code: int = 200) -> JSONResponse:
    """A single (non-streamed) reply, fields left out as in a stream."""
    return JSONResponse(dump(chunk), status_code=status_code)
