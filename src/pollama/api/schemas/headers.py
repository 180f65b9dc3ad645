"""Response headers pollama adds to Ollama's wire (Ollama has no field for what they say)."""

from __future__ import annotations

# Chat messages dropped (oldest first) to fit `num_ctx`.
TRUNCATED = "X-Pollama-Truncated"
# Prompt tokens the runner cut to fit `num_ctx` (keeping `num_keep` and the newest).
TRUNCATED_TOKENS = "X-Pollama-Truncated-Tokens"
# Seconds the request waited in the queue for a runner (a load, or a free slot); absent when
# it was served at once.
QUEUE_WAIT = "X-Pollama-Queue-Wait"
