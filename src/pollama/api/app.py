"""The application factory: collaborators go on `app.state`, routers are listed once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from pollama import __version__, config
from pollama.api.errors import install_error_handlers
from pollama.api.middleware import (
    BodiesAreJson,
    LimitBodies,
    RefuseForeignHosts,
    RejectForeignOrigins,
    origin_pattern,
)
from pollama.api.request_metrics import CountRequests
from pollama.api.response_store import ResponseStore
from pollama.api.routes import ROUTERS, peers
from pollama.api.schemas.generate import Message
from pollama.engine.scheduler import Scheduler
from pollama.registry import Registry
from pollama.store import Store

log = logging.getLogger(__name__)

# Headers the OpenAI and Anthropic SDKs send from browsers (Ollama's list).
_ALLOWED_HEADERS = [
    "Authorization",
    "Content-Type",
    "User-Agent",
    "Accept",
    "X-Requested-With",
    "OpenAI-Beta",
    "x-stainless-arch",
    "x-stainless-async",
    "x-stainless-custom-poll-interval",
    "x-stainless-helper-method",
    "x-stainless-lang",
    "x-stainless-os",
    "x-stainless-package-version",
    "x-stainless-poll-helper",
    "x-stainless-retry-count",
    "x-stainless-runtime",
    "x-stainless-runtime-version",
    "x-stainless-timeout",
]


def create_app(
    store: Store,
    scheduler: Scheduler,
    registry: Registry | None = None,
    listen_host: str | None = None,
) -> FastAPI:
    """Build the app around a model store, a scheduler and a registry client (test seams;
    the registry defaults to one configured from the environment).

    `listen_host` is the address the server is bound to (`OLLAMA_HOST`'s by default): bound to
    loopback, it answers only requests addressed to this machine. The scheduler's
    `shutdown()` runs when the app stops, so runners never outlive the server.
    """
    registry = registry or Registry.from_config(store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        try:
            yield
        finally:
            await scheduler.shutdown()
            await registry.aclose()

    app = FastAPI(title="pollama", version=__version__, lifespan=lifespan)
    app.state.store = store
    app.state.scheduler = scheduler
    app.state.responses = ResponseStore[Message]()  # behind `previous_response_id`
    app.state.registry = registry
    _add_middleware(app, listen_host or config.host().host)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    if not config.no_peers():
        # /v2/: the store, read-only, for other servers; its API is the OCI distribution
        # spec's, so it is left out of pollama's OpenAPI schema.
        app.include_router(peers.router, include_in_schema=False)
    return app


def _add_middleware(app: FastAPI, listen_host: str) -> None:
    allowed = origin_pattern(config.origins())
    # The last added runs first: foreign hosts, then foreign origins, are refused before
    # anything else; bodies are measured before any route reads them.
    # Requests are counted innermost, where the routed scope (its path template) is seen.
    app.add_middleware(CountRequests)
    app.add_middleware(BodiesAreJson)
    app.add_middleware(LimitBodies)
    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=allowed.pattern,
        allow_methods=["*"],
        allow_headers=_ALLOWED_HEADERS,
    )
    app.add_middleware(RejectForeignOrigins, allowed=allowed)
    app.add_middleware(RefuseForeignHosts, listen_host=listen_host)
