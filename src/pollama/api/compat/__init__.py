"""Translation between the OpenAI and Anthropic dialects and the native chat/generate API.

As in Ollama's middleware, `/v1/*` requests become native `ChatRequest`/`GenerateRequest`s,
run through the same generation service as `/api/chat` and `/api/generate`, and the native
reply chunks are translated back. Nothing here generates text itself.
"""
