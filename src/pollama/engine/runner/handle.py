"""The server's side of a runner: a process handle speaking the framed protocol.

One reader task per runner routes replies by request id: text pieces to the completion
iterators' queues, answers to futures. When the runner's socket reaches end of stream (it
exited, was killed, crashed), every waiter is failed with `RunnerCrashed` at once, so a
client sees the error in milliseconds rather than at a timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from pollama import errors, metrics
from pollama.engine.runner import protocol
from pollama.engine.types import (
    CompletionChunk,
    CompletionRequest,
    EmbedResult,
    LoadSpec,
    Logprob,
    ModelMetadata,
    TokenLogprob,
)

log = logging.getLogger(__name__)

CRASHED = (
    "model runner has unexpectedly stopped, this may be due to resource limitations "
    "or an internal error, check ollama server logs for details"
)
UNLOADED = "the model was unloaded"
CLOSE_GRACE_S = 5.0


def _error(message: dict[str, Any]) -> errors.PollamaError:
    cls = getattr(errors, str(message.get("kind")), errors.PollamaError)
    if not (isinstance(cls, type) and issubclass(cls, errors.PollamaError)):
        cls = errors.PollamaError
    return cls(message["error"])


def _logprobs(wire: list[list[Any]]) -> list[Logprob]:
    """Logprobs as `runner.logprobs` sends them: [token, logprob, bytes, [top entries]]."""
    return [
        Logprob(token, logprob, tuple(data), tuple(TokenLogprob(t, v, tuple(b)) for t, v, b in top))
        for token, logprob, data, top in wire
    ]


async def read_frame(reader: asyncio.StreamReader) -> Any | None:
    """The next frame from the runner; None at end of stream."""
    try:
        header = await reader.readexactly(protocol.HEADER_SIZE)
        body = await reader.readexactly(protocol.decode_header(header))
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return json.loads(body)


class ProcessRunner:
    """A loaded model in its own process (implements `pollama.engine.types.Runner`)."""

    def __init__(
        self,
        spec: LoadSpec,
        process: asyncio.subprocess.Process,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        metadata: ModelMetadata,
    ) -> None:
        self.spec = spec
        self.metadata = metadata
        self._process = process
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._streams: dict[int, asyncio.Queue[dict[str, Any] | Exception]] = {}
        self._calls: dict[int, asyncio.Future[Any]] = {}
        self._dead = False
        self._closing = False
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())

    @property
    def alive(self) -> bool:
        """False once the process has exited (or its socket closed)."""
        return not self._dead and self._process.returncode is None

    @property
    def pid(self) -> int:
        """The runner process id."""
        return self._process.pid

    async def _read_loop(self) -> None:
        while (frame := await read_frame(self._reader)) is not None:
            for message in frame:
                self._route(message)
        # Closed on purpose (unloaded, evicted, the server stopping), the end is no crash.
        self._on_exit(errors.RunnerCrashed(UNLOADED if self._closing else CRASHED))

    def _route(self, message: dict[str, Any]) -> None:
        job_id = message.get("id")
        stream = self._streams.get(job_id)
        if stream is not None:
            stream.put_nowait(message)
            return
        future = self._calls.pop(job_id, None)
        if future is None or future.done():
            return
        if "error" in message:
            future.set_exception(_error(message))
        else:
            future.set_result(message.get("result"))

    def _on_exit(self, exc: errors.PollamaError) -> None:
        if not self._dead:
            self._dead = True
            if not self._closing:
                log.warning("runner for %s (pid %d) stopped unexpectedly", self.spec.name, self.pid)
                metrics.runner_crashes.labels(self.spec.name).inc()
        for stream in self._streams.values():
            stream.put_nowait(exc)
        for future in self._calls.values():
            if not future.done():
                future.set_exception(exc)
        self._calls.clear()
        self._writer.close()

    def _send(self, message: dict[str, Any]) -> None:
        if not self.alive:
            raise errors.RunnerCrashed(CRASHED)
        self._writer.write(protocol.encode(message))

    async def _call(self, op: str, **fields: Any) -> Any:
        job_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._calls[job_id] = future
        try:
            self._send({"op": op, "id": job_id, **fields})
            return await future
        finally:
            self._calls.pop(job_id, None)

    async def completion(self, request: CompletionRequest) -> AsyncIterator[CompletionChunk]:
        """Stream a generation; closing the iterator early cancels it in the runner."""
        job_id = next(self._ids)
        queue: asyncio.Queue[dict[str, Any] | Exception] = asyncio.Queue()
        self._streams[job_id] = queue
        finished = False
        prompt: dict[str, int] = {}  # prompt_tokens and truncated, sent with the first text
        sent = time.perf_counter()
        try:
            self._send({"op": "complete", "id": job_id, "request": dataclasses.asdict(request)})
            while True:
                message = await queue.get()
                if isinstance(message, Exception):
                    finished = True
                    raise message
                if "t" in message:
                    if "prompt_tokens" in message:
                        prompt = {k: message[k] for k in ("prompt_tokens", "truncated")}
                        metrics.time_to_first_token.labels(self.spec.name).observe(
                            time.perf_counter() - sent
                        )
                    logprobs = _logprobs(message.get("lp", ()))
                    yield CompletionChunk(text=message["t"], logprobs=logprobs, **prompt)
                elif "done" in message:
                    finished = True
                    done = message["done"]
                    done["logprobs"] = _logprobs(done.get("logprobs", ()))
                    final = CompletionChunk(done=True, **done)
                    self._count(final, first_seen=bool(prompt), sent=sent)
                    yield final
                    return
                else:
                    finished = True
                    raise _error(message)
        finally:
            self._streams.pop(job_id, None)
            if not finished and self.alive:
                self._send({"op": "cancel", "id": job_id})

    def _count(self, final: CompletionChunk, *, first_seen: bool, sent: float) -> None:
        """Record a finished generation in the metrics."""
        model = self.spec.name
        if not first_seen:  # no text came before the end: the first token was this
            metrics.time_to_first_token.labels(model).observe(time.perf_counter() - sent)
        metrics.prompt_tokens.labels(model).inc(final.prompt_tokens)
        metrics.prompt_cache_reused.labels(model).inc(
            max(0, final.prompt_tokens - final.prompt_eval_count)
        )
        metrics.generated_tokens.labels(model).inc(final.eval_count)
        metrics.draft_tokens.labels(model).inc(final.draft_tokens)
        metrics.draft_accepted.labels(model).inc(final.draft_accepted)
        if final.eval_count > 1:
            metrics.token_latency.labels(model).observe(
                final.eval_duration / 1e9 / (final.eval_count - 1)
            )

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        """Tokens of `text`, parsing special tokens such as `<|im_start|>`."""
        return await self._call("tokenize", text=text, add_special=add_special)

    async def detokenize(self, tokens: list[int]) -> str:
        """Text of `tokens`."""
        return await self._call("detokenize", tokens=list(tokens))

    async def embed(self, inputs: list[str], *, truncate: bool = True) -> EmbedResult:
        """Pooled, unnormalised embeddings of `inputs`, decoded together."""
        result = await self._call("embed", inputs=list(inputs), truncate=truncate)
        return EmbedResult(**result)

    async def stats(self) -> dict[str, Any]:
        """The runner's counters: decodes, tokens, max_seqs_per_decode, cached_tokens, ..."""
        return await self._call("stats")

    async def close(self) -> None:
        """Ask the runner to exit; kill it if it has not within a grace period."""
        self._closing = True
        if self.alive:
            self._writer.write(protocol.encode({"op": "close"}))
        try:
            await asyncio.wait_for(self._process.wait(), CLOSE_GRACE_S)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        self._on_exit(errors.RunnerCrashed(UNLOADED))
        await self._read_task
