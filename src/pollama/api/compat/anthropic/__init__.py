"""Anthropic ⇄ pipeline translation (Ollama's `anthropic/anthropic.go`)."""

from pollama.api.compat.anthropic.replies import (
    Messages,
    message_id,
    messages_response,
    stop_reason,
    stream_events,
)
from pollama.api.compat.anthropic.requests import chat_request, think

__all__ = [
    "Messages",
    "chat_request",
    "message_id",
    "messages_response",
    "stop_reason",
    "stream_events",
    "think",
]
