"""OpenAI's Responses API ⇄ the pipeline, with the conversations behind previous_response_id."""

from pollama.api.compat.responses.replies import Responses
from pollama.api.compat.responses.requests import Conversation, chat_request, conversation

__all__ = ["Conversation", "Responses", "chat_request", "conversation"]
