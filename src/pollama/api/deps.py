"""FastAPI dependencies: the collaborators `create_app` put on `app.state`."""

from __future__ import annotations

from typing import Any

from fastapi import Request


def get_store(request: Request) -> Any:
    """The model store (`pollama.store.Store`)."""
    return request.app.state.store


def get_scheduler(request: Request) -> Any:
    """The scheduler (`pollama.engine.Scheduler`)."""
    return request.app.state.scheduler
