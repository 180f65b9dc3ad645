"""What the pipeline needs of its collaborators: the store's models and the scheduler's
runners. `pollama.store.Store` and `pollama.engine.scheduler.Scheduler` are these."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from pollama.engine.types import LoadSpec, Runner
from pollama.store import Model


class Models(Protocol):
    def get_model(self, name: str) -> Model:
        """The model `name` names; raises `ModelNotFound`."""
        ...


class Runners(Protocol):
    def runner(
        self, spec: LoadSpec, *, keep_alive: float | None = None
    ) -> AbstractAsyncContextManager[Runner]:
        """A runner for `spec` for the block's length, loaded if need be."""
        ...

    async def unload(self, spec: LoadSpec) -> bool:
        """Unload the runners of `spec`'s weights; False if none was loaded."""
        ...
