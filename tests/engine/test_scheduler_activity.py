"""What the scheduler tells `/api/ps` and `/metrics`: requests running and waiting per model."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from pollama.engine.scheduler import Scheduler, queue_wait
from tests.engine.test_scheduler import Factory, hold, spec


async def test_loaded_models_count_their_running_and_waiting_requests() -> None:
    sched = Scheduler(runner_factory=Factory(), max_loaded=2)
    try:
        async with AsyncExitStack() as stack:
            await hold(sched, spec("a", num_parallel=2), stack)
            await hold(sched, spec("a", num_parallel=2), stack)
            queued = [asyncio.create_task(hold(sched, spec("a", num_parallel=2), stack))]
            queued.append(asyncio.create_task(hold(sched, spec("a", num_parallel=2), stack)))
            await asyncio.sleep(0.01)
            [model] = sched.loaded()
            assert (model.running, model.waiting) == (2, 2)
            assert sched.queue_depth == 2
            for task in queued:
                task.cancel()
            await asyncio.gather(*queued, return_exceptions=True)
            [model] = sched.loaded()
            assert (model.running, model.waiting) == (2, 0)
        [model] = sched.loaded()
        assert (model.running, model.waiting) == (0, 0) and sched.queue_depth == 0
    finally:
        await sched.shutdown()


async def test_a_request_learns_how_long_it_waited_in_the_queue() -> None:
    sched = Scheduler(runner_factory=Factory(delay=0.2))
    try:
        async with sched.runner(spec("a")):
            assert queue_wait.get() >= 0.15  # it waited for the load
        async with sched.runner(spec("a")):
            assert queue_wait.get() == 0.0  # loaded and free: served at once
    finally:
        await sched.shutdown()
