"""A pull's or push's progress as Ollama writes it on the wire, for every route that streams one
(`/api/pull`, `/api/push`, and `/api/create` when it pulls a missing base)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pollama.api.schemas.models import ProgressResponse
from pollama.registry import Progress


async def wire_progress(progress: AsyncIterator[Progress]) -> AsyncIterator[ProgressResponse]:
    """Progress as Ollama writes it: zero `total`/`completed` and empty digests left out."""
    try:
        async for p in progress:
            yield ProgressResponse(
                status=p.status,
                digest=p.digest or None,
                total=p.total or None,
                completed=p.completed or None,
            )
    finally:
        await progress.aclose()  # type: ignore[attr-defined]
