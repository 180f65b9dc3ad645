"""The limits that protect the machine from a request or a model file, named in one place.

README.md ("Limits") lists them for users; each is enforced where its input is read.
"""

from __future__ import annotations

# A JSON request body (everything but blob uploads, which stream to disk): 413 past it.
# Big enough for a chat carrying several base64 images.
MAX_BODY_BYTES = 64 << 20
# Nesting of arrays and objects in a request body: 400 past it. JSON schemas and tool
# parameters nest a few levels; a thousand would overflow the parser's stack.
MAX_JSON_DEPTH = 128
# Messages in one chat request (native, OpenAI, Anthropic): 400 past it.
MAX_MESSAGES = 10_000

# A prompt template (Go or a GGUF's Jinja chat template) renders at most this much text,
# within this much time; past either it fails with a 400 naming the limit.
MAX_PROMPT_BYTES = 16 << 20
TEMPLATE_TIME_S = 2.0
# {{template}} calls nested inside each other (Go's own limit, 100000, would overflow
# Python's stack long before).
MAX_TEMPLATE_DEPTH = 100

# GGUF headers: what a file may claim before it is believed. llama.cpp's own limits where
# it has them (GGML_MAX_DIMS); the rest far above any real model's.
GGUF_MAX_DIMS = 4
GGUF_MAX_ARRAY_NESTING = 4
GGUF_MAX_STRING_BYTES = 64 << 20
# Items of one array kept in memory (`show --verbose`); a 262k vocabulary is the largest seen.
GGUF_MAX_FULL_ARRAY = 1 << 21
