"""The app in-process: `create_app` over a store, reached through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from pollama.api import create_app
from pollama.engine.scheduler import Scheduler
from pollama.store import Store

BASE_URL = "http://127.0.0.1:11434"


@asynccontextmanager
async def app_client(
    root: Path, scheduler: Scheduler | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over the store at `root`, as if the server were bound to loopback
    and called at its own address (the host check refuses other names); its runners stop
    when the block ends."""
    scheduler = scheduler or Scheduler(max_loaded=2)
    app = create_app(Store(root), scheduler, listen_host="127.0.0.1")
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            yield http
    finally:
        await scheduler.shutdown()
