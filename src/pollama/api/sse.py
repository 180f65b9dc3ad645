"""Server-sent events for the OpenAI and Anthropic streams, with the NDJSON stream's error rules.

`streaming.stream_response` writes them: an error raised before the first event becomes an
ordinary error response with its real status (in the family's shape, via
`pollama.api.errors`). Once the stream has begun the status is 200, so the error goes out
as one last event the SDKs raise: OpenAI's `data: {"error": {...}}` or Anthropic's
`event: error`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel

from pollama.api.errors import error_body
from pollama.api.schemas.openai import dump_openai

EVENT_STREAM = "text/event-stream"
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def data_frame(payload: dict[str, Any] | str) -> bytes:
    """One unnamed event (OpenAI): `data: <json>` and a blank line."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {text}\n\n".encode()


def named_frame(event: str, payload: dict[str, Any]) -> bytes:
    """One named event (Anthropic): `event: <name>`, `data: <json>`, a blank line."""
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


class OpenAIFraming:
    """OpenAI's stream: a `data:` event per chunk, then `data: [DONE]`."""

    media_type = EVENT_STREAM
    headers: Mapping[str, str] = _HEADERS

    def frame(self, chunk: BaseModel) -> bytes:
        return data_frame(dump_openai(chunk))

    def error(self, path: str, status: int, message: str) -> bytes:
        return data_frame(error_body(path, status, message))

    def end(self) -> bytes:
        return data_frame("[DONE]")


class NamedEvent(Protocol):
    """An event that names itself: Anthropic's, and the Responses API's."""

    @property
    def type(self) -> str: ...

    def wire(self) -> dict[str, Any]: ...


class NamedEventFraming:
    """Anthropic's and the Responses API's streams: each event named by its type; an error
    is `event: error` (which both SDKs raise)."""

    media_type = EVENT_STREAM
    headers: Mapping[str, str] = _HEADERS

    def frame(self, chunk: NamedEvent) -> bytes:
        return named_frame(chunk.type, chunk.wire())

    def error(self, path: str, status: int, message: str) -> bytes:
        return named_frame("error", error_body(path, status, message))

    def end(self) -> bytes:
        return b""


OPENAI_FRAMING = OpenAIFraming()
NAMED_FRAMING = NamedEventFraming()
