"""The runner process: load one model, then serve requests from the server's socket.

A reader thread turns incoming frames into a queue, so the main thread can decode without
blocking on the socket and pick up new requests and cancels between steps. The reader answers
`tokenize` and `detokenize` itself, at once: they need only the vocabulary, which llama.cpp
lets any thread read while another decodes (llama-server tokenizes in its HTTP threads). The
server tokenizes every chat prompt before it sends it, so an answer that waited for the step
in progress (up to a whole prompt chunk) would hold up, by a step, every request that arrives
while others run.

The process exits when its socket reaches end of stream (the server closed it or died) and,
on Linux, also gets SIGKILL from the kernel the moment its parent dies (PR_SET_PDEATHSIG), so
no runner outlives the server.
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
import time
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
# Requests sent together should start in one batch, but the server handles them one after
# another (tokenizing each chat prompt through the runner first), so they reach the runner up
# to several milliseconds apart. An idle runner therefore waits for the requests of prompts it
# has just tokenized, and once two have come (a burst), for more until none came for QUIET_S;
# GATHER_S at most. A request that comes alone waits for nothing: its prompt was tokenized
# just before it (a chat cut to fit num_ctx is tokenized more than once, and waits GATHER_S).
GATHER_S = 0.02
QUIET_S = 0.005
TOKENIZED = {"op": "tokenized"}  # the reader's note to the loop: a request is on its way


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGKILL when the server dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


class Server:
    """Dispatches the server's messages to the engine and writes replies, once per step."""

    def __init__(self, sock: socket.socket, spec: LoadSpec) -> None:
        self.sock = sock
        self.spec = spec
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._sending = threading.Lock()  # the reader thread answers too

    def send(self, messages: list[dict[str, Any]]) -> None:
        """Write one frame; a broken socket means the server is gone."""
        frame = protocol.encode(messages)
        try:
            with self._sending:
                self.sock.sendall(frame)
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
        threading.Thread(target=self._read, daemon=True).start()
        self._loop()

    def _read(self) -> None:
        """Queue the server's messages for the loop, answering the vocabulary's at once."""
        try:
            while (message := protocol.read_frame_sync(self.sock)) is not None:
                op = message.get("op")
                if op in ("tokenize", "detokenize"):
                    self.send([self._vocabulary_answer(message)])
                    if op == "tokenize":
                        self.inbox.put(TOKENIZED)
                else:
                    self.inbox.put(message)
        except OSError:
            pass
        finally:  # whatever ended the reading, the loop must see the end
            self.inbox.put(None)

    def _vocabulary_answer(self, message: dict[str, Any]) -> dict[str, Any]:
        vocab, job_id = self.engine.vocab, message.get("id", 0)
        try:
            if message["op"] == "tokenize":
                result: Any = vocab.tokenize(message["text"], message.get("add_special", False))
            else:
                result = vocab.detokenize(message["tokens"])
        except Exception as exc:  # a bad request must not end the reader
            return protocol.error_reply(job_id, exc)
        return {"id": job_id, "result": result}

    def _loop(self) -> None:
        engine = self.engine
        while True:
            for message in self._arrived(idle=not engine.busy):
                if message is None or message.get("op") == "close":
                    return
                self._handle(message)
            if engine.busy:
                engine.step()
            if engine.outbox:
                self.send(engine.outbox)
                engine.outbox = []

    def _arrived(self, idle: bool) -> list[Any]:
        """The messages that came since the last step, `TOKENIZED` notes left out; an `idle`
        runner blocks for the first and gathers the burst it may begin (`GATHER_S`)."""
        messages: list[Any] = []
        coming = requests = 0
        deadline = 0.0
        while True:
            left = deadline - time.monotonic()
            try:
                if idle and not messages and not coming:
                    message = self.inbox.get()
                    deadline = time.monotonic() + GATHER_S
                elif idle and coming and left > 0:
                    message = self.inbox.get(timeout=left)
                elif idle and requests > 1 and left > 0:
                    message = self.inbox.get(timeout=min(QUIET_S, left))
                else:
                    message = self.inbox.get_nowait()
            except queue.Empty:
                return messages
            if message is TOKENIZED:
                coming += 1
                continue
            if message is not None and message.get("op") == "complete":
                coming, requests = max(coming - 1, 0), requests + 1
            messages.append(message)
            if message is None or message.get("op") == "close":
                return messages

    def _handle(self, message: dict[str, Any]) -> None:
        engine, op, job_id = self.engine, message["op"], message.get("id", 0)
        try:
            if op == "complete":
                if self.spec.options.embedding:
                    raise InvalidRequest("this model was loaded for embeddings only")
                engine.submit(job_id, request_from_dict(message["request"]))
            elif op == "cancel":
                engine.cancel(job_id)
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
