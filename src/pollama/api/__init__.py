"""The HTTP API: Ollama's native routes, OpenAI's `/v1` and Anthropic's `/v1/messages`."""

from __future__ import annotations

from pollama.api.app import create_app

__all__ = ["create_app"]
