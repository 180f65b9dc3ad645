"""The scheduler's queue, sharing, eviction, keep_alive and reload rules.

The queue and eviction logic is tested with a small in-memory runner (passed through the
`runner_factory` seam) so each rule is checked exactly and fast; the rules that involve real
processes (keep_alive 0 stops the process, a killed runner is replaced, eviction between two
models, reloads) are checked against real runner processes on tiny GGUFs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from pollama.engine.runner import spawn_runner
from pollama.engine.scheduler import Scheduler, needs_reload
from pollama.engine.types import (
    CompletionRequest,
    LoadSpec,
    ModelMetadata,
    RunnerOptions,
    SamplingOptions,
)
from pollama.errors import Canceled, PollamaError, ServerBusy
from tests.fixtures.tiny_gguf import write_tiny_gguf


class FakeRunner:
    """A runner without a process: records whether it was closed, can be 'killed'."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.metadata = ModelMetadata(
            n_ctx_train=2048, n_embd=64, n_params=1, size=1234, chat_template=None
        )
        self.closed = False
        self.killed = False

    @property
    def alive(self) -> bool:
        return not (self.closed or self.killed)

    async def close(self) -> None:
        self.closed = True


class Factory:
    """Counts loads; each takes `delay` seconds; fails for specs named in `failing`."""

    def __init__(self, delay: float = 0.0, failing: tuple[str, ...] = ()) -> None:
        self.delay = delay
        self.failing = failing
        self.runners: list[FakeRunner] = []

    async def __call__(self, spec: LoadSpec) -> FakeRunner:
        await asyncio.sleep(self.delay)
        if spec.name in self.failing:
            raise PollamaError("llama runner process has terminated: exit status 1")
        runner = FakeRunner(spec)
        self.runners.append(runner)
        return runner


def spec(name: str = "a", num_ctx: int = 256, num_parallel: int = 1) -> LoadSpec:
    options = RunnerOptions(num_ctx=num_ctx, num_parallel=num_parallel, num_thread=1)
    return LoadSpec(name=name, digest=name * 4, model_path=Path(f"/m/{name}"), options=options)


async def hold(sched: Scheduler, s: LoadSpec, stack: AsyncExitStack, **kw: float) -> FakeRunner:
    """Take a slot and keep it until `stack` closes."""
    return await stack.enter_async_context(sched.runner(s, **kw))  # type: ignore[return-value]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# --- pure rules ---------------------------------------------------------------------------


def test_larger_num_ctx_needs_reload_smaller_does_not() -> None:
    assert needs_reload(spec(num_ctx=256), spec(num_ctx=512))
    assert not needs_reload(spec(num_ctx=512), spec(num_ctx=256))
    assert not needs_reload(spec(num_ctx=256), spec(num_ctx=256))


def test_embedding_runners_need_the_same_num_ctx() -> None:
    def embed(num_ctx: int) -> LoadSpec:
        return dataclasses.replace(spec(), options=RunnerOptions(num_ctx=num_ctx, embedding=True))

    assert needs_reload(embed(512), embed(256))
    assert not needs_reload(embed(256), embed(256))


def test_other_load_options_need_reload_sampling_cannot() -> None:
    base = spec()
    other = LoadSpec(
        name="a", digest="aaaa", model_path=Path("/m/a"), options=RunnerOptions(num_batch=64)
    )
    assert needs_reload(base, other)
    assert needs_reload(base, LoadSpec("a", "aaaa", Path("/m/other"), options=base.options))


# --- sharing and the queue ----------------------------------------------------------------


async def test_requests_share_one_runner_up_to_num_parallel() -> None:
    factory = Factory(delay=0.01)
    sched = Scheduler(runner_factory=factory, max_queue=8)
    s = spec(num_parallel=2)
    async with AsyncExitStack() as stack:
        first = await hold(sched, s, stack)
        second = await hold(sched, s, stack)
        assert first is second and len(factory.runners) == 1
        third = asyncio.create_task(hold(sched, s, AsyncExitStack()))
        await asyncio.sleep(0.05)
        assert not third.done(), "a third request waits for one of the two slots"
    await asyncio.wait_for(third, 1)
    assert len(factory.runners) == 1


async def test_concurrent_loads_of_one_model_are_shared() -> None:
    factory = Factory(delay=0.05)
    sched = Scheduler(runner_factory=factory, max_queue=16)

    async def use() -> None:
        async with sched.runner(spec(num_parallel=8)):
            await asyncio.sleep(0.01)

    await asyncio.gather(*(use() for _ in range(6)))
    assert len(factory.runners) == 1


async def test_full_queue_answers_busy_at_once() -> None:
    sched = Scheduler(runner_factory=Factory(), max_queue=2)
    async with AsyncExitStack() as stack:
        await hold(sched, spec(), stack)
        waiting = [asyncio.create_task(hold(sched, spec(), stack)) for _ in range(2)]
        await settle()
        start = time.monotonic()
        with pytest.raises(ServerBusy) as info:
            async with sched.runner(spec()):
                pass
        assert time.monotonic() - start < 0.5  # the held runner is never given back
        assert info.value.status_code == 503
        assert "maximum pending requests exceeded" in info.value.message
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)


async def test_requests_are_served_in_arrival_order() -> None:
    sched = Scheduler(runner_factory=Factory(), max_queue=16)
    order: list[int] = []

    async def use(i: int) -> None:
        async with sched.runner(spec()):
            order.append(i)
            await asyncio.sleep(0.001)

    async with AsyncExitStack() as stack:
        await hold(sched, spec(), stack)
        tasks = []
        for i in range(8):
            tasks.append(asyncio.create_task(use(i)))
            await settle()  # arrive one after another
    await asyncio.gather(*tasks)
    assert order == list(range(8))


async def test_cancelled_while_queued_raises_canceled_and_frees_its_place() -> None:
    sched = Scheduler(runner_factory=Factory(), max_queue=1)
    async with AsyncExitStack() as stack:
        await hold(sched, spec(), stack)
        queued = asyncio.create_task(hold(sched, spec(), stack))
        await settle()
        queued.cancel()
        with pytest.raises(Canceled) as info:
            await queued
        assert isinstance(info.value, asyncio.CancelledError)  # still a cancellation to asyncio
        # Its place is free again: another request may queue.
        again = asyncio.create_task(hold(sched, spec(), AsyncExitStack()))
        await settle()
        assert not again.done()
    await asyncio.wait_for(again, 1)


async def test_a_failed_load_fails_the_requests_waiting_for_it() -> None:
    sched = Scheduler(runner_factory=Factory(delay=0.01, failing=("bad",)), max_queue=8)

    async def use() -> None:
        async with sched.runner(spec("bad")):
            pass

    results = await asyncio.gather(use(), use(), return_exceptions=True)
    assert all(isinstance(r, PollamaError) for r in results)
    assert sched.loaded() == []


# --- eviction -----------------------------------------------------------------------------


async def test_eviction_takes_the_least_recently_used_idle_model() -> None:
    factory = Factory()
    sched = Scheduler(runner_factory=factory, max_loaded=2, max_queue=8)
    for name in ("a", "b", "a"):
        async with sched.runner(spec(name)):
            pass
    async with sched.runner(spec("c")):
        pass
    a, b, c = factory.runners
    assert b.closed and not a.closed and not c.closed
    assert [m.spec.name for m in sched.loaded()] == ["c", "a"]


async def test_eviction_waits_while_every_model_is_busy() -> None:
    factory = Factory()
    sched = Scheduler(runner_factory=factory, max_loaded=1, max_queue=8)
    async with AsyncExitStack() as stack:
        a = await hold(sched, spec("a"), stack)
        b_task = asyncio.create_task(hold(sched, spec("b"), AsyncExitStack()))
        await asyncio.sleep(0.05)
        assert not b_task.done() and not a.closed
        # The model to be evicted takes no new requests meanwhile.
        late_a = asyncio.create_task(hold(sched, spec("a"), AsyncExitStack()))
        await settle()
        assert not late_a.done()
    b = await asyncio.wait_for(b_task, 1)
    assert a.closed and b.spec.name == "b"
    late_a.cancel()


async def test_the_model_kept_for_eviction_serves_again_once_room_is_found_elsewhere() -> None:
    factory = Factory()
    sched = Scheduler(runner_factory=factory, max_loaded=2, max_queue=8)
    a_spec = spec("a", num_parallel=2)
    async with AsyncExitStack() as long_a:
        await hold(sched, a_spec, long_a)
        b_stack = AsyncExitStack()
        await hold(sched, spec("b"), b_stack)
        c_task = asyncio.create_task(hold(sched, spec("c"), AsyncExitStack()))
        await settle()
        assert not c_task.done()  # a and b are busy: a, used least recently, is to go
        await b_stack.aclose()  # b goes idle first: c takes its place instead
        await asyncio.wait_for(c_task, 1)
        # a has a free slot and nobody waits for room any more: it serves at once.
        second_a = await asyncio.wait_for(hold(sched, a_spec, long_a), 1)
        assert not second_a.closed
    assert sorted(m.spec.name for m in sched.loaded()) == ["a", "c"]


# --- keep_alive ---------------------------------------------------------------------------


async def test_keep_alive_zero_unloads_when_the_request_ends() -> None:
    factory = Factory()
    sched = Scheduler(runner_factory=factory)
    async with sched.runner(spec(), keep_alive=0) as r:
        assert sched.loaded()
    await settle()
    assert r.closed and sched.loaded() == []  # type: ignore[attr-defined]


async def test_keep_alive_expires_after_the_last_request() -> None:
    sched = Scheduler(runner_factory=Factory(), default_keep_alive=0.1)
    async with sched.runner(spec(num_parallel=2)) as r:
        async with sched.runner(spec(num_parallel=2)):
            pass
        await asyncio.sleep(0.2)
        assert not r.closed, "no countdown while a request is in flight"  # type: ignore[attr-defined]
    [model] = sched.loaded()
    assert model.expires_at is not None
    await asyncio.sleep(0.25)
    assert r.closed and sched.loaded() == []  # type: ignore[attr-defined]


async def test_negative_keep_alive_keeps_the_model_forever() -> None:
    sched = Scheduler(runner_factory=Factory(), default_keep_alive=0.05)
    async with sched.runner(spec(), keep_alive=-1):
        pass
    await asyncio.sleep(0.1)
    [model] = sched.loaded()
    assert model.expires_at is None


async def test_unload_stops_an_idle_model_and_a_busy_one_when_it_ends() -> None:
    sched = Scheduler(runner_factory=Factory(), max_queue=8)
    async with sched.runner(spec("idle")) as idle:
        pass
    assert await sched.unload(spec("idle"))
    assert idle.closed  # type: ignore[attr-defined]
    async with sched.runner(spec("busy")) as busy:
        assert await sched.unload(spec("busy"))
        assert not busy.closed  # type: ignore[attr-defined]
    await settle()
    assert busy.closed and not await sched.unload(spec("busy"))  # type: ignore[attr-defined]


# --- reloads and dead runners -------------------------------------------------------------


async def test_larger_num_ctx_reloads_smaller_reuses() -> None:
    factory = Factory()
    sched = Scheduler(runner_factory=factory, max_queue=8)
    async with sched.runner(spec(num_ctx=512)) as big:
        pass
    async with sched.runner(spec(num_ctx=256)) as small:
        assert small is big
    async with sched.runner(spec(num_ctx=1024)) as bigger:
        assert bigger is not big and big.closed  # type: ignore[attr-defined]
    assert len(factory.runners) == 2


async def test_dead_runner_is_replaced_on_the_next_request() -> None:
    factory = Factory()
    sched = Scheduler(runner_factory=factory)
    async with sched.runner(spec()) as first:
        pass
    first.killed = True  # type: ignore[attr-defined]
    async with sched.runner(spec()) as second:
        assert second is not first and second.alive
    assert len(factory.runners) == 2


async def test_shutdown_closes_runners_and_refuses_new_requests() -> None:
    factory = Factory()
    sched = Scheduler(runner_factory=factory)
    for name in ("a", "b"):
        async with sched.runner(spec(name)):
            pass
    await sched.shutdown()
    assert all(r.closed for r in factory.runners) and sched.loaded() == []
    with pytest.raises(ServerBusy):
        async with sched.runner(spec()):
            pass


async def test_embedding_and_generation_runners_of_one_model_coexist() -> None:
    factory = Factory()
    sched = Scheduler(runner_factory=factory, max_queue=8)
    embed = dataclasses.replace(spec(), options=RunnerOptions(num_ctx=256, embedding=True))
    for s in (spec(), embed, spec(), embed):
        async with sched.runner(s):
            pass
    assert len(factory.runners) == 2
    assert await sched.unload(spec()) and all(r.closed for r in factory.runners)


async def test_models_that_share_weights_share_a_runner() -> None:
    """A model that only adds a SYSTEM to a base (or a copy of it) runs on the base's runner."""
    factory = Factory()
    sched = Scheduler(runner_factory=factory, max_loaded=1, max_queue=8)
    derived = dataclasses.replace(spec("a"), name="a-terse", digest="other")
    for s in (spec("a"), derived, spec("a")):
        async with sched.runner(s):
            pass
    assert len(factory.runners) == 1
    [loaded] = sched.loaded()
    assert loaded.spec.name == "a"  # listed under the model that loaded it, as in Ollama
    assert await sched.unload(derived) and factory.runners[0].closed


# --- real runner processes ----------------------------------------------------------------


def _real_spec(path: Path, name: str, num_ctx: int = 256) -> LoadSpec:
    options = RunnerOptions(num_ctx=num_ctx, num_parallel=2, num_thread=1)
    return LoadSpec(name=name, digest=name, model_path=path, options=options)


async def _generate(sched: Scheduler, s: LoadSpec, **kw: float) -> bool:
    """Whether a short request through the scheduler ran to its end."""
    request = CompletionRequest(prompt="hello", sampling=SamplingOptions(num_predict=4, seed=1))
    async with sched.runner(s, **kw) as r:
        chunks = [c async for c in r.completion(request)]
    return chunks[-1].done


def _pid(runner: object) -> int:
    return runner.pid  # type: ignore[attr-defined]


def _gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
async def real_sched() -> AsyncIterator[Scheduler]:
    sched = Scheduler(runner_factory=spawn_runner, max_loaded=1, max_queue=8)
    yield sched
    await sched.shutdown()


async def test_real_keep_alive_zero_stops_the_runner_process(
    real_sched: Scheduler, tiny_gguf: Path
) -> None:
    s = _real_spec(tiny_gguf, "tiny")
    await _generate(real_sched, s, keep_alive=0)
    await settle()
    assert real_sched.loaded() == []
    async with real_sched.runner(s) as r:
        pid = _pid(r)
    assert await real_sched.unload(s)
    assert _gone(pid)


async def test_real_killed_runner_is_reloaded(real_sched: Scheduler, tiny_gguf: Path) -> None:
    s = _real_spec(tiny_gguf, "tiny")
    await _generate(real_sched, s)
    [model] = real_sched.loaded()
    pid = _pid(model.runner)
    os.kill(pid, signal.SIGKILL)
    assert _gone(pid)
    await asyncio.sleep(0.1)  # the handle notices the closed socket
    assert await _generate(real_sched, s)
    [model] = real_sched.loaded()
    assert _pid(model.runner) != pid


async def test_real_eviction_between_two_models(
    real_sched: Scheduler, tiny_gguf: Path, tmp_path: Path
) -> None:
    other = write_tiny_gguf(tmp_path / "other.gguf", seed=7)
    await _generate(real_sched, _real_spec(tiny_gguf, "tiny"))
    [first] = real_sched.loaded()
    await _generate(real_sched, _real_spec(other, "other"))
    [second] = real_sched.loaded()
    assert second.spec.name == "other"
    assert _gone(_pid(first.runner))


async def test_real_reload_on_larger_num_ctx_only(real_sched: Scheduler, tiny_gguf: Path) -> None:
    await _generate(real_sched, _real_spec(tiny_gguf, "tiny", num_ctx=512))
    pid = _pid(real_sched.loaded()[0].runner)
    await _generate(real_sched, _real_spec(tiny_gguf, "tiny", num_ctx=256))
    assert _pid(real_sched.loaded()[0].runner) == pid
    await _generate(real_sched, _real_spec(tiny_gguf, "tiny", num_ctx=1024))
    [model] = real_sched.loaded()
    assert _pid(model.runner) != pid and model.spec.options.num_ctx == 1024
    assert _gone(pid)


async def test_real_parallel_requests_share_one_runner_and_a_full_queue_is_busy(
    tiny_gguf: Path,
) -> None:
    sched = Scheduler(runner_factory=spawn_runner, max_loaded=1, max_queue=1)
    s = _real_spec(tiny_gguf, "tiny")  # num_parallel=2
    try:
        async with AsyncExitStack() as stack:
            first = await stack.enter_async_context(sched.runner(s))
            second = await stack.enter_async_context(sched.runner(s))
            assert _pid(first) == _pid(second) and len(sched.loaded()) == 1
            request = CompletionRequest(prompt="hi", sampling=SamplingOptions(num_predict=4))

            async def run(r: object) -> list[str]:
                return [c.text async for c in r.completion(request)]  # type: ignore[attr-defined]

            replies = await asyncio.gather(run(first), run(second))
            assert all(replies)
            queued = asyncio.create_task(_generate(sched, s))
            await settle()
            started = time.monotonic()
            with pytest.raises(ServerBusy):
                await _generate(sched, s)
            assert time.monotonic() - started < 2  # the slots are held until the end
        assert await queued  # served once the held slots were given back
    finally:
        await sched.shutdown()
