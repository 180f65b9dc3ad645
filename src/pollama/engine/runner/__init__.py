"""Runner processes: one per loaded model, llama.cpp's low-level API inside.

The server only uses `RunnerLauncher`, `spawn_runner` (in `launch.py`) and `ProcessRunner` (in
`handle.py`); everything else in this package runs in the child process
(`python -m pollama.engine.runner`). They are loaded on first use so the child, which imports
this package too, does not pay for asyncio and the handle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pollama.engine.runner.handle import ProcessRunner
    from pollama.engine.runner.launch import RunnerLauncher, spawn_runner

__all__ = ["ProcessRunner", "RunnerLauncher", "spawn_runner"]


def __getattr__(name: str) -> Any:
    if name == "ProcessRunner":
        from pollama.engine.runner.handle import ProcessRunner

        return ProcessRunner
    if name in __all__:
        from pollama.engine.runner import launch

        return getattr(launch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
