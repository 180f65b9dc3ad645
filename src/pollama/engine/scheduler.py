"""The scheduler: one admission queue, which models stay loaded, keep_alive timers.

Every request asks `Scheduler.runner(spec)` for a runner. One that can be served at once (its
model is loaded with compatible options and a slot is free) never waits. Every other request
waits in one FIFO queue shared by all models, bounded by `OLLAMA_MAX_QUEUE`; when it is full
the answer is `ServerBusy` (503) at once. Unlike Ollama, requests to an already loaded but busy
model count against that bound too (Ollama's #7758).

Order is FIFO per model and for load capacity: a waiting request never overtakes an earlier
one for the same model, and a request that needs a load never takes the place an earlier one
is waiting for. A request for another model that can proceed does not wait behind them.

A runner has `num_parallel` slots, so up to that many requests share it at once. Loads of the
same model are shared. When `max_loaded` runners are loaded, the least recently used idle one
is evicted; if all are busy, the least recently used stops taking requests and is evicted once
its last request ends. A runner whose process died is replaced on the next request.

Everything runs on the event loop thread, so the bookkeeping needs no locks: `_dispatch` is
synchronous and is the only place requests are granted runners.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pollama import config, durations, metrics
from pollama.engine.runner.launch import RunnerLauncher
from pollama.engine.types import LoadSpec, ModelFiles, ModelMetadata, Runner
from pollama.errors import Canceled, ServerBusy

log = logging.getLogger(__name__)

RunnerFactory = Callable[[LoadSpec], Awaitable[Runner]]
_Key = tuple[ModelFiles, bool]  # (files, embedding)
# How long `shutdown` lets a load in progress finish before cancelling it.
_LOAD_SHUTDOWN_WAIT_S = 10.0

# How long the current task's latest request waited in the queue for its runner, in seconds
# (0 when it was served at once): set as `Scheduler.runner` grants it, for the API to report.
queue_wait: ContextVar[float] = ContextVar("queue_wait", default=0.0)


class QueueCanceled(Canceled, asyncio.CancelledError):
    """A request cancelled while it waited in the queue.

    It is both pollama's `Canceled` (499) and asyncio's `CancelledError`, so callers may catch
    either and task cancellation (anyio cancel scopes, `TaskGroup`) still works.
    """


@dataclass(frozen=True)
class LoadedModel:
    """A loaded model as `/api/ps` shows it."""

    spec: LoadSpec
    runner: Runner
    expires_at: datetime | None
    size: int
    size_vram: int
    running: int = 0  # requests it is serving now
    waiting: int = 0  # requests queued for it


def needs_reload(loaded: LoadSpec, wanted: LoadSpec) -> bool:
    """Whether a runner loaded for `loaded` cannot serve a request for `wanted`.

    A larger `num_ctx` or `num_parallel` needs a reload; a smaller one is served by the bigger
    runner. Every other load-time option (and the files) must match exactly, and so must an
    embedding runner's `num_ctx`: it is where inputs are truncated, so it changes the result.
    """
    if loaded.files != wanted.files:
        return True
    have, want = loaded.options, wanted.options
    if want.embedding and want.num_ctx != have.num_ctx:
        return True
    if want.num_ctx > have.num_ctx or want.num_parallel > have.num_parallel:
        return True
    return dataclasses.replace(have, num_ctx=0, num_parallel=0) != dataclasses.replace(
        want, num_ctx=0, num_parallel=0
    )


def _key(spec: LoadSpec) -> _Key:
    """Which runner serves `spec`: one per set of weights, as Ollama keys them, so models
    that only add a SYSTEM or TEMPLATE to a base (or a `cp` of one) share its runner; and a
    second one for embeddings.

    A runner is loaded either for generation or for embeddings (llama.cpp's context differs),
    so a model used both ways keeps both rather than reloading at every switch.
    """
    return (spec.files, spec.options.embedding)


def _memory(metadata: ModelMetadata) -> int:
    """What a runner holds, as Ollama sums it: weights, KV cache and compute buffers."""
    return metadata.size + metadata.kv_cache_size + metadata.compute_size


def _expiry(keep_alive: float) -> datetime | None:
    """When a model idle from now on unloads; None for forever."""
    if keep_alive < 0:
        return None
    return datetime.now(UTC) + timedelta(seconds=keep_alive)


@dataclass(eq=False)
class _Entry:
    """One runner, loaded or loading, and its bookkeeping."""

    spec: LoadSpec
    keep_alive: float
    runner: Runner | None = None  # None while loading
    in_flight: int = 0
    last_used: float = field(default_factory=time.monotonic)
    expires_at: datetime | None = None
    # Chosen for a reload: takes no new requests, goes once idle.
    draining: bool = False
    # The runner to evict once idle, while a request waits for room and every runner is busy:
    # takes no new requests meanwhile. Worked out afresh by each dispatch, so the mark goes
    # as soon as the room is found elsewhere.
    wanted_for_room: bool = False
    timer: asyncio.TimerHandle | None = None

    @property
    def key(self) -> _Key:
        return _key(self.spec)

    @property
    def alive(self) -> bool:
        return self.runner is not None and self.runner.alive

    @property
    def free_slots(self) -> int:
        return max(1, self.spec.options.num_parallel) - self.in_flight

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


@dataclass(eq=False)
class _Waiter:
    spec: LoadSpec
    keep_alive: float
    future: asyncio.Future[_Entry]

    @property
    def key(self) -> _Key:
        return _key(self.spec)


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
        # The real runners come from a launcher, which keeps a process started ahead of need.
        self._launcher = RunnerLauncher() if runner_factory is None else None
        self._runner_factory = runner_factory or self._launcher
        self._max_loaded = max(1, max_loaded or config.max_loaded_models())
        self._max_queue = max(1, max_queue or config.max_queue())
        self._default_keep_alive = (
            durations.default_keep_alive() if default_keep_alive is None else default_keep_alive
        )
        self._entries: dict[_Key, _Entry] = {}
        self._queue: deque[_Waiter] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # --- the public interface -----------------------------------------------------------

    @asynccontextmanager
    async def runner(
        self, spec: LoadSpec, *, keep_alive: float | None = None
    ) -> AsyncIterator[Runner]:
        """Yield a runner for `spec`, loading it (or reloading it) if needed.

        `keep_alive` in seconds: None uses the default, negative keeps it loaded forever,
        0 unloads it as soon as the request ends. Raises `ServerBusy` at once when the queue
        is full, `Canceled` when the caller is cancelled while waiting.
        """
        entry = await self._admit(
            spec, self._default_keep_alive if keep_alive is None else keep_alive
        )
        try:
            assert entry.runner is not None
            yield entry.runner
        finally:
            self._release(entry)

    async def unload(self, spec: LoadSpec) -> bool:
        """Unload every runner of `spec`'s weights; False if none was loaded.

        An idle runner is stopped before this returns; a busy one is stopped as soon as its
        last request ends (its keep_alive becomes 0, as Ollama's `keep_alive: 0` does).
        """
        found = [e for e in self._entries.values() if e.spec.files == spec.files]
        idle = []
        for entry in found:
            entry.keep_alive = 0
            entry.expires_at = datetime.now(UTC)
            if entry.runner is not None and entry.in_flight == 0:
                self._forget(entry, "requested")
                idle.append(entry)
        await asyncio.gather(*(self._close(e) for e in idle))
        self._dispatch()
        return bool(found)

    def loaded(self) -> list[LoadedModel]:
        """The loaded models, most recently used first."""
        ready = [e for e in self._entries.values() if e.runner is not None and e.alive]
        ready.sort(key=lambda e: e.last_used, reverse=True)
        waiting: dict[_Key, int] = {}
        for waiter in self._queue:
            waiting[waiter.key] = waiting.get(waiter.key, 0) + 1
        return [
            LoadedModel(
                spec=e.spec,
                runner=e.runner,
                expires_at=e.expires_at,
                size=_memory(e.runner.metadata),
                size_vram=0,  # llama.cpp runs on the CPU here
                running=e.in_flight,
                waiting=waiting.get(e.key, 0),
            )
            for e in ready
            if e.runner is not None
        ]

    @property
    def queue_depth(self) -> int:
        """Requests waiting for a runner, all models together."""
        return len(self._queue)

    def start(self) -> None:
        """Start a runner process ahead of the first load; called when the server starts."""
        if self._launcher is not None:
            self._launcher.prestart()

    async def shutdown(self) -> None:
        """Stop every runner; called when the server stops. Safe to call twice."""
        self._closed = True
        if self._launcher is not None:
            await self._launcher.aclose()
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.future.done():
                waiter.future.set_exception(ServerBusy("server is shutting down"))
        loading = [t for t in self._tasks if not t.done()]
        if loading:
            _, pending = await asyncio.wait(loading, timeout=_LOAD_SHUTDOWN_WAIT_S)
            for task in pending:
                task.cancel()
        entries = list(self._entries.values())
        for entry in entries:
            self._forget(entry, "shutdown")
        await asyncio.gather(*(self._close(e) for e in entries if e.runner is not None))
        if entries:
            log.info("stopped %d runner(s)", len(entries))

    # --- admission ----------------------------------------------------------------------

    async def _admit(self, spec: LoadSpec, keep_alive: float) -> _Entry:
        """Grant `spec` a slot now, or queue for one; the returned entry holds the slot."""
        if self._closed:
            raise ServerBusy("server is shutting down")
        waiter = _Waiter(spec, keep_alive, asyncio.get_running_loop().create_future())
        entry = self._entries.get(waiter.key)
        if (
            entry is not None
            and self._grantable(entry, spec)
            and not any(w.key == waiter.key for w in self._queue)
        ):
            self._grant(waiter, entry)
            metrics.queue_wait.observe(0.0)
            queue_wait.set(0.0)
            return entry
        if len(self._queue) >= self._max_queue:
            raise ServerBusy()
        self._queue.append(waiter)
        queued = time.monotonic()
        self._dispatch()
        try:
            entry = await waiter.future
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise QueueCanceled() from None
        waited = time.monotonic() - queued
        metrics.queue_wait.observe(waited)
        queue_wait.set(waited)
        return entry

    def _abandon(self, waiter: _Waiter) -> None:
        """Give back a cancelled waiter's place (or the slot it was granted as it went)."""
        if waiter in self._queue:
            self._queue.remove(waiter)
        fut = waiter.future
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            self._release(fut.result())
        self._dispatch()

    def _grantable(self, entry: _Entry, spec: LoadSpec) -> bool:
        return (
            entry.alive
            and not entry.draining
            and not entry.wanted_for_room
            and entry.free_slots > 0
            and not needs_reload(entry.spec, spec)
        )

    def _grant(self, waiter: _Waiter, entry: _Entry) -> None:
        entry.in_flight += 1
        entry.cancel_timer()
        entry.keep_alive = waiter.keep_alive  # the last request's keep_alive wins, as in Ollama
        entry.expires_at = _expiry(waiter.keep_alive)
        entry.last_used = time.monotonic()
        if not waiter.future.done():
            waiter.future.set_result(entry)

    def _release(self, entry: _Entry) -> None:
        entry.in_flight -= 1
        entry.last_used = time.monotonic()
        if self._entries.get(entry.key) is not entry:
            return  # already dropped (died, or shut down)
        self._dispatch()
        if entry.in_flight == 0:
            self._on_idle(entry)

    # --- the dispatch pass --------------------------------------------------------------

    def _dispatch(self) -> None:
        """Grant queued requests whatever they can have now, in FIFO order."""
        blocked: set[_Key] = set()
        capacity_blocked = False
        for entry in self._entries.values():
            entry.wanted_for_room = False
        for waiter in list(self._queue):
            if waiter.future.done():
                self._queue.remove(waiter)
                continue
            key = waiter.key
            if key in blocked:
                continue
            blocked.add(key)  # later requests for this model wait behind this one
            entry = self._entries.get(key)
            if entry is not None and entry.runner is None:
                continue  # loading: served when the load ends
            if entry is not None and not entry.alive:
                self._drop(entry, "crashed")
                entry = None
            if entry is not None:
                if not needs_reload(entry.spec, waiter.spec):
                    if entry.draining and entry.in_flight == 0:
                        entry.draining = False  # nobody earlier claimed it after all
                    if not entry.draining and not entry.wanted_for_room and entry.free_slots > 0:
                        self._queue.remove(waiter)
                        self._grant(waiter, entry)
                        blocked.discard(key)
                    continue
                entry.draining = True  # reload: let its requests finish first
                if entry.in_flight:
                    continue
                self._forget(entry, "reload")
                self._start_load(waiter, victim=entry)
                continue
            if capacity_blocked:
                continue
            if self._loaded_count() < self._max_loaded:
                self._start_load(waiter, victim=None)
                continue
            victim = self._pick_victim()
            if victim is None:
                capacity_blocked = True
                continue
            self._forget(victim, "evicted")
            self._start_load(waiter, victim=victim)

    def _loaded_count(self) -> int:
        return len(self._entries)

    def _pick_victim(self) -> _Entry | None:
        """The idle runner to evict (dead first, then least recently used).

        With none idle, the least recently used stops taking requests so it soon is.
        """
        ready = [e for e in self._entries.values() if e.runner is not None]
        idle = [e for e in ready if e.in_flight == 0]
        if idle:
            return min(idle, key=lambda e: (e.alive, e.last_used))
        if ready and not any(e.wanted_for_room for e in ready):
            min(ready, key=lambda e: e.last_used).wanted_for_room = True
        return None

    # --- loading and unloading ----------------------------------------------------------

    def _start_load(self, waiter: _Waiter, victim: _Entry | None) -> None:
        entry = _Entry(spec=waiter.spec, keep_alive=waiter.keep_alive)
        self._entries[entry.key] = entry
        self._spawn(self._load(entry, victim))

    async def _load(self, entry: _Entry, victim: _Entry | None) -> None:
        """Load `entry`'s runner (after stopping `victim`, whose place it takes)."""
        if victim is not None:
            log.info("stopping the runner of %s to load %s", victim.spec.name, entry.spec.name)
            await self._close(victim)
        try:
            runner = await self._runner_factory(entry.spec)
        except Exception as exc:
            log.warning("loading %s failed: %s", entry.spec.name, exc)
            metrics.loads.labels(entry.spec.name, "failed").inc()
            self._forget(entry)
            self._fail_waiters(entry.spec, exc)
            self._dispatch()
            return
        if self._closed or self._entries.get(entry.key) is not entry:
            await runner.close()
            return
        entry.runner = runner
        entry.last_used = time.monotonic()
        metrics.loads.labels(entry.spec.name, "ok").inc()
        self._dispatch()
        if entry.in_flight == 0:
            self._on_idle(entry)

    def _fail_waiters(self, spec: LoadSpec, exc: Exception) -> None:
        """Fail the queued requests that the failed load was meant to serve."""
        for waiter in list(self._queue):
            if waiter.key == _key(spec) and not needs_reload(spec, waiter.spec):
                self._queue.remove(waiter)
                if not waiter.future.done():
                    waiter.future.set_exception(exc)

    def _on_idle(self, entry: _Entry) -> None:
        """Start the keep_alive countdown of a runner whose last request ended."""
        entry.cancel_timer()
        if entry.keep_alive == 0 or not entry.alive:
            self._drop(entry, "expired" if entry.alive else "crashed")
            self._dispatch()
            return
        entry.expires_at = _expiry(entry.keep_alive)
        if entry.keep_alive > 0:
            loop = asyncio.get_running_loop()
            entry.timer = loop.call_later(entry.keep_alive, self._expire, entry)

    def _expire(self, entry: _Entry) -> None:
        entry.timer = None
        if self._entries.get(entry.key) is entry and entry.in_flight == 0:
            log.info("keep_alive of %s ran out", entry.spec.name)
            self._drop(entry, "expired")
            self._dispatch()

    def _forget(self, entry: _Entry, reason: str | None = None) -> None:
        """Take `entry` off the books (its runner is closed by whoever called this); a
        `reason` counts a loaded runner's unload in the metrics."""
        entry.cancel_timer()
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]
            if reason is not None and entry.runner is not None:
                metrics.unloads.labels(entry.spec.name, reason).inc()

    def _drop(self, entry: _Entry, reason: str) -> None:
        """Forget `entry` and close its runner in the background."""
        self._forget(entry, reason)
        if entry.runner is not None:
            self._spawn(self._close(entry))

    async def _close(self, entry: _Entry) -> None:
        if entry.runner is None:
            return
        try:
            await entry.runner.close()
        except Exception:
            log.exception("closing the runner of %s failed", entry.spec.name)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
