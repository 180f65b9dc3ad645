"""The app in-process: `create_app` over a store, reached through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from pollama.api import create_app
from pollama.engine.scheduler import Scheduler
from pollama.store import Store


@asynccontextmanager
async def app_client(
    root: Path, scheduler: Scheduler | None = None, base_url: str = "http://pollama"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over the store at `root`; its runners stop when the block ends."""
    scheduler = scheduler or Scheduler(max_loaded=2)
    transport = httpx.ASGITransport(app=create_app(Store(root), scheduler))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http
    finally:
        await scheduler.shutdown()
