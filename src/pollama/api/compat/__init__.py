"""The OpenAI and Anthropic dialects at the pipeline's two ends.

As in Ollama's middleware, `/v1/*` requests become native `ChatRequest`/`GenerateRequest`s
(`requests`), so they take the native path through the pipeline, and the pipeline's events
become the dialect's replies (`replies`). Nothing here generates text itself.
"""
