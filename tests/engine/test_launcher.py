"""The runner launcher: a process started ahead of need takes the next load."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from pollama.engine.runner import RunnerLauncher, protocol
from pollama.engine.runner.handle import read_frame
from pollama.engine.runner.launch import start_process
from pollama.engine.types import LoadSpec, RunnerOptions


def _spec(path: Path) -> LoadSpec:
    opts = RunnerOptions(num_ctx=128, num_parallel=1, num_thread=1)
    return LoadSpec(name="tiny", digest="0" * 64, model_path=path, options=opts)


def _runner_children() -> set[int]:
    """Pids of this process's children that are runner processes."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"pollama.engine.runner" in cmdline:
            found.add(int(entry))
    return found


async def _spare_started(launcher: RunnerLauncher) -> set[int]:
    """The spare's pid, once its start is complete (one still starting would be called off)."""
    for _ in range(100):
        await asyncio.sleep(0.02)
        spare = launcher._spare
        if spare is not None and spare.done():
            return _runner_children()
    return set()


async def test_the_load_goes_to_the_process_started_ahead(tiny_gguf: Path) -> None:
    launcher = RunnerLauncher(restock_delay=0.0)
    launcher.prestart()
    spare = await _spare_started(launcher)
    assert len(spare) == 1
    runner = await launcher(_spec(tiny_gguf))
    try:
        assert {runner.pid} == spare
        # ... and the next spare is started in its place.
        for _ in range(100):
            await asyncio.sleep(0.02)
            if len(_runner_children()) == 2:
                break
        assert len(_runner_children() - {runner.pid}) == 1
    finally:
        await runner.close()
        await launcher.aclose()
    assert _runner_children() == set()


async def test_without_a_spare_a_load_starts_its_own_process(tiny_gguf: Path) -> None:
    launcher = RunnerLauncher(restock_delay=60.0)
    runner = await launcher(_spec(tiny_gguf))
    try:
        assert runner.alive
        assert _runner_children() == {runner.pid}  # the next spare waits for its delay
    finally:
        await runner.close()
        await launcher.aclose()


async def test_a_spare_that_died_is_replaced_by_a_new_process(tiny_gguf: Path) -> None:
    launcher = RunnerLauncher(restock_delay=60.0)
    launcher.prestart()
    [spare] = await _spare_started(launcher)
    os.kill(spare, signal.SIGKILL)
    runner = await launcher(_spec(tiny_gguf))
    try:
        assert runner.alive and runner.pid != spare
    finally:
        await runner.close()
        await launcher.aclose()


async def test_a_runner_from_other_code_than_the_servers_refuses_to_load(tiny_gguf: Path) -> None:
    started = await start_process()
    load = {"op": "load", "spec": protocol.spec_to_dict(_spec(tiny_gguf)), "wire": "older"}
    started.writer.write(protocol.encode(load))
    frame = await read_frame(started.reader)
    assert frame == [{"op": "load_error", "message": protocol.STALE_SERVER}]
    assert await started.process.wait() == 0
