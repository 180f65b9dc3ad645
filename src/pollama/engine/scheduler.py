"""The scheduler: one admission queue, which models stay loaded, keep_alive timers.

(Interface fixed; implementation in progress.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from pollama.engine.types import LoadSpec, Runner

RunnerFactory = Callable[[LoadSpec], Awaitable[Runner]]


@dataclass(frozen=True)
class LoadedModel:
    """A loaded model as `/api/ps` shows it."""

    spec: LoadSpec
    runner: Runner
    expires_at: datetime | None
    size: int
    size_vram: int


class Scheduler:
    """Admits requests, loads runners, unloads them when their keep_alive runs out."""

    def __init__(
        self,
        *,
        runner_factory: RunnerFactory | None = None,
        max_loaded: int | None = None,
        max_queue: int | None = None,
        default_keep_alive: float | None = None,
    ) -> None:
        self._runner_factory = runner_factory

    @asynccontextmanager
    async def runner(
        self, spec: LoadSpec, *, keep_alive: float | None = None
    ) -> AsyncIterator[Runner]:
        """Yield a runner for `spec`, loading it (or reloading it) if needed.

        `keep_alive` in seconds: None uses the default, negative keeps it loaded forever,
        0 unloads it as soon as the request ends. Raises `ServerBusy` at once when the queue
        is full, `Canceled` when the caller is cancelled while waiting.
        """
        raise NotImplementedError
        yield  # pragma: no cover

    async def unload(self, name: str) -> bool:
        """Unload every runner of model `name`; False if none was loaded."""
        return False

    def loaded(self) -> list[LoadedModel]:
        """The loaded models, most recently used first."""
        return []

    async def shutdown(self) -> None:
        """Stop every runner; called when the server stops."""
