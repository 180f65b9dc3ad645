"""From the pipeline's events to an HTTP response, the same way for every API family.

A family (`api.native`, `api.compat.openai`, `api.compat.anthropic`) says how events become
its chunks, how a gathered reply becomes its one object, and how both are written (its
`Framing`). This module does the rest: wait for `Started` (a check that fails before it
gets its real status), report truncation and queue wait in headers, then stream or gather.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, Protocol, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from pollama.api.pipeline.events import Event, Reply, Started, Truncation, collect
from pollama.api.schemas import headers
from pollama.api.streaming import Framing, cancel_on_disconnect, stream_response

C = TypeVar("C")


class Family(Protocol[C]):
    """One API family's end of the pipeline."""

    @property
    def framing(self) -> Framing[C]: ...

    def chunks(self, events: AsyncIterator[Event]) -> AsyncIterator[C]:
        """The streamed chunks of a reply, from its events (`Started` first)."""
        ...

    def whole(self, reply: Reply) -> BaseModel:
        """The one object of a gathered reply (`stream: false`)."""
        ...

    def document(self, whole: Any) -> dict[str, Any]:
        """`whole` as its JSON body."""
        ...


def truncation_headers(truncation: Truncation) -> dict[str, str]:
    """Say beside the reply what the reply itself cannot: what was cut to fit num_ctx."""
    said: dict[str, str] = {}
    if truncation.dropped_messages:
        said[headers.TRUNCATED] = str(truncation.dropped_messages)
    if truncation.dropped_tokens:
        said[headers.TRUNCATED_TOKENS] = str(truncation.dropped_tokens)
    return said


async def respond(
    request: Request, events: AsyncIterator[Event], family: Family[Any], *, stream: bool
) -> Response:
    """The response to a pipeline run: streamed in `family`'s framing, or gathered."""
    async with cancel_on_disconnect(request):
        started = await anext(events)
    assert isinstance(started, Started), "a reply's events start with Started"
    said = truncation_headers(started.truncation)
    if started.queue_wait > 0:
        said[headers.QUEUE_WAIT] = f"{started.queue_wait:.3f}"
    if stream:
        chunks = _chunks(family, started, events)
        return await stream_response(request, chunks, family.framing, said)
    async with aclosing(events), cancel_on_disconnect(request):  # type: ignore[type-var]
        reply = await collect(events, started)
    return JSONResponse(family.document(family.whole(reply)), headers=said)


async def _chunks(
    family: Family[C], started: Started, events: AsyncIterator[Event]
) -> AsyncIterator[C]:
    """`family`'s chunks; closing them closes the events, and so the runner's stream."""
    async with aclosing(events), aclosing(family.chunks(_after(started, events))) as chunks:  # type: ignore[type-var]
        async for chunk in chunks:
            yield chunk


async def _after(started: Started, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """The whole event stream again, `Started` (read already) first."""
    yield started
    async for event in events:
        yield event
