"""The runner process: load one model, then serve requests from the server's socket.

A reader thread turns incoming frames into a queue, so the main thread can decode without
blocking on the socket and pick up new requests and cancels between steps. The process exits
when its socket reaches end of stream (the server closed it or died) and, on Linux, also gets
SIGKILL from the kernel the moment its parent dies (PR_SET_PDEATHSIG), so no runner outlives
the server.
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import signal
import socket
import sys
import threading
from typing import Any

from pollama.engine.runner import model as native
from pollama.engine.runner import protocol
from pollama.engine.runner.draft_model import load_draft
from pollama.engine.runner.embed import embed
from pollama.engine.runner.engine import Engine, request_from_dict
from pollama.engine.types import LoadSpec
from pollama.errors import InvalidRequest, PollamaError

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGKILL when the server dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def _reader(sock: socket.socket, inbox: queue.SimpleQueue[Any]) -> None:
    try:
        while (message := protocol.read_frame_sync(sock)) is not None:
            inbox.put(message)
    except OSError:
        pass
    inbox.put(None)


class Server:
    """Dispatches the server's messages to the engine and writes replies, once per step."""

    def __init__(self, sock: socket.socket, spec: LoadSpec) -> None:
        self.sock = sock
        self.spec = spec
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def send(self, messages: list[dict[str, Any]]) -> None:
        """Write one frame; a broken socket means the server is gone."""
        try:
            self.sock.sendall(protocol.encode(messages))
        except OSError:
            os._exit(0)

    def run(self) -> None:
        """Load, report, serve until end of stream."""
        opts = self.spec.options
        draft_path = None if opts.embedding else self.spec.draft_path
        try:
            model, adapters = native.load_model(self.spec)
            ctx = native.new_context(model, opts, adapters)
            draft = load_draft(self.spec, draft_path, model) if draft_path else None
        except PollamaError as exc:
            self.send([{"op": "load_error", "message": exc.message}])
            return
        vocab = native.Vocab(model)
        self.engine = Engine(model, ctx, vocab, opts, draft)
        meta = native.metadata(model, ctx, opts.embedding, draft.ctx if draft else None)
        self.send([{"op": "ready", "metadata": meta.__dict__}])
        threading.Thread(target=_reader, args=(self.sock, self.inbox), daemon=True).start()
        self._loop()

    def _loop(self) -> None:
        engine = self.engine
        while True:
            block = not engine.busy
            while True:
                try:
                    message = self.inbox.get(block=block)
                except queue.Empty:
                    break
                if message is None or message.get("op") == "close":
                    return
                self._handle(message)
                block = False
            if engine.busy:
                engine.step()
            if engine.outbox:
                self.send(engine.outbox)
                engine.outbox = []

    def _handle(self, message: dict[str, Any]) -> None:
        engine, op, job_id = self.engine, message["op"], message.get("id", 0)
        try:
            if op == "complete":
                if self.spec.options.embedding:
                    raise InvalidRequest("this model was loaded for embeddings only")
                engine.submit(job_id, request_from_dict(message["request"]))
            elif op == "cancel":
                engine.cancel(job_id)
            elif op == "tokenize":
                tokens = engine.vocab.tokenize(message["text"], message.get("add_special", False))
                engine.outbox.append({"id": job_id, "result": tokens})
            elif op == "detokenize":
                text = engine.vocab.detokenize(message["tokens"])
                engine.outbox.append({"id": job_id, "result": text})
            elif op == "embed":
                if not self.spec.options.embedding:
                    raise InvalidRequest("this model was not loaded for embeddings")
                result = embed(
                    engine.ctx,
                    engine.vocab,
                    engine.batch,
                    message["inputs"],
                    self.spec.options.num_ctx,
                    message.get("truncate", True),
                )
                engine.outbox.append({"id": job_id, "result": result.__dict__})
            elif op == "stats":
                engine.outbox.append({"id": job_id, "result": engine.snapshot()})
        except (PollamaError, ValueError, TypeError) as exc:
            engine.answer_error(job_id, exc)


def main(argv: list[str] | None = None) -> None:
    """Entry point: `python -m pollama.engine.runner FD PARENT_PID`.

    Everything is imported by now (llama.cpp included), so the process waits, ready, for the
    `load` message naming its model; a server may start it well before it knows which.
    """
    fd, parent_pid = (argv or sys.argv[1:])[:2]
    die_with_parent(int(parent_pid))
    level = logging.DEBUG if os.environ.get("OLLAMA_DEBUG") else logging.WARNING
    logging.basicConfig(level=level, format="runner %(levelname)s %(name)s: %(message)s")
    sock = socket.socket(fileno=int(fd))
    sock.setblocking(True)
    first = protocol.read_frame_sync(sock)
    if first is not None and first.get("op") == "load":
        if first.get("wire") != protocol.WIRE:
            sock.sendall(protocol.encode([{"op": "load_error", "message": protocol.STALE_SERVER}]))
        else:
            Server(sock, protocol.spec_from_dict(first["spec"])).run()
    os._exit(0)
