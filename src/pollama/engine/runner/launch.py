"""Starting runner processes: `spawn_runner`, and `RunnerLauncher`, which starts one ahead.

A runner process spends about 0.3 s starting Python and importing llama.cpp before it can
load anything, which is as long as loading a small model. The launcher keeps one such process
started and idle (a few tens of MB), so a cold request pays only for the load itself. The
spare is replaced a moment after it is used, not at once, so that its start does not compete
for the CPU with the prompt of the request that needed the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
from dataclasses import dataclass

from pollama import durations, errors
from pollama.engine.runner import protocol
from pollama.engine.runner.handle import ProcessRunner, read_frame
from pollama.engine.runner.layouts import explain_load_failure
from pollama.engine.types import LoadSpec, ModelMetadata

log = logging.getLogger(__name__)

# How long after using its spare the launcher starts the next one.
RESTOCK_DELAY_S = 2.0


@dataclass
class StartedProcess:
    """A runner process that has started and waits for its `load` message."""

    process: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and not self.writer.is_closing()

    async def stop(self) -> int:
        """Stop the process (it has no model, or never became ready); its exit status."""
        self.writer.close()
        if self.process.returncode is None:
            self.process.kill()
        return await self.process.wait()


async def start_process() -> StartedProcess:
    """Start a runner process with no model yet (`python -m pollama.engine.runner FD PID`)."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pollama.engine.runner",
            str(child.fileno()),
            str(os.getpid()),
            pass_fds=(child.fileno(),),
            stdin=subprocess.DEVNULL,
        )
    finally:
        child.close()
    try:
        reader, writer = await asyncio.open_unix_connection(sock=parent)
    except BaseException:  # cancelled (a spare called off): leave no process waiting for work
        parent.close()
        process.kill()
        await process.wait()
        raise
    return StartedProcess(process, reader, writer)


async def spawn_runner(spec: LoadSpec, started: StartedProcess | None = None) -> ProcessRunner:
    """Load `spec` in `started` (or a new process) and wait until the model is loaded.

    Raises `PollamaError` with llama.cpp's reason when loading fails, or when it takes longer
    than `OLLAMA_LOAD_TIMEOUT`; `RunnerCrashed` when the process exits without a word.
    """
    proc = started or await start_process()
    load = {"op": "load", "spec": protocol.spec_to_dict(spec), "wire": protocol.WIRE}
    proc.writer.write(protocol.encode(load))
    try:
        frame = await asyncio.wait_for(read_frame(proc.reader), durations.load_timeout())
    except TimeoutError:
        await proc.stop()
        raise errors.PollamaError("timed out waiting for llama runner to start") from None
    except BaseException:  # cancelled: never leave a half-started runner behind
        await proc.stop()
        raise
    first = frame[0] if frame else None
    if first is None or first.get("op") != "ready":
        status = await proc.stop()
        refused = first is not None and first.get("op") == "load_error"
        reason = first["message"] if refused else f"exit status {status}"
        # A file in one of Ollama's own layouts is named as the cause (`layouts.py`).
        message = await asyncio.to_thread(explain_load_failure, spec.model_path, reason)
        if refused:
            raise errors.PollamaError(message)
        raise errors.RunnerCrashed(f"llama runner process has terminated: {message}")
    metadata = ModelMetadata(**first["metadata"])
    log.info("runner for %s started (pid %d)", spec.name, proc.process.pid)
    return ProcessRunner(spec, proc.process, proc.reader, proc.writer, metadata)


class RunnerLauncher:
    """The scheduler's runner factory: `spawn_runner` with a process started ahead of need."""

    def __init__(self, restock_delay: float = RESTOCK_DELAY_S) -> None:
        self._restock_delay = restock_delay
        self._spare: asyncio.Task[StartedProcess] | None = None
        self._closed = False

    def prestart(self, delay: float = 0.0) -> None:
        """Start the spare process (after `delay` seconds) unless one is on its way."""
        if self._spare is None and not self._closed:
            self._spare = asyncio.get_running_loop().create_task(self._start_after(delay))

    async def __call__(self, spec: LoadSpec) -> ProcessRunner:
        started = await self._take_spare()
        try:
            if started is not None:
                try:
                    return await spawn_runner(spec, started)
                except errors.RunnerCrashed:  # the spare died while it waited: start anew
                    log.warning("the runner process started ahead had died; starting another")
            return await spawn_runner(spec)
        finally:
            self.prestart(self._restock_delay)

    async def aclose(self) -> None:
        """Stop the spare; later calls still work, without one."""
        self._closed = True
        spare, self._spare = self._spare, None
        if spare is None:
            return
        spare.cancel()
        with contextlib.suppress(BaseException):
            await (await spare).stop()

    async def _start_after(self, delay: float) -> StartedProcess:
        await asyncio.sleep(delay)
        return await start_process()

    async def _take_spare(self) -> StartedProcess | None:
        """The spare if it has started and is alive; one still on its way is called off."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        if not spare.done():
            spare.cancel()
            return None
        if spare.cancelled() or spare.exception() is not None:
            return None
        started = spare.result()
        if started.alive:
            return started
        await started.stop()
        return None
