"""OpenAI ⇄ pipeline translation (Ollama's `openai/openai.go` and `middleware/openai.go`)."""

from pollama.api.compat.openai.replies import (
    ChatCompletions,
    Completions,
    chat_chunks,
    chat_completion,
    completion,
    completion_chunks,
    finish_reason,
    new_id,
    openai_tool_calls,
    usage,
)
from pollama.api.compat.openai.requests import chat_request, completion_request, sampling

__all__ = [
    "ChatCompletions",
    "Completions",
    "chat_chunks",
    "chat_completion",
    "chat_request",
    "completion",
    "completion_chunks",
    "completion_request",
    "finish_reason",
    "new_id",
    "openai_tool_calls",
    "sampling",
    "usage",
]
