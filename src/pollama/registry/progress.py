"""A progress report of a pull or a push, as Ollama's `api.ProgressResponse` carries it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """`status`, and for a blob its `digest`, `total` and `completed` bytes."""

    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0


def blob_status(verb: str, digest: str) -> str:
    """`pulling 1a2b3c4d5e6f`: the verb and the first 12 hex digits of the digest."""
    return f"{verb} {digest[7:19]}"
