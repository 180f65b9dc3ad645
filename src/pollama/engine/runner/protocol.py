"""The wire between the server and a runner process: length-prefixed JSON frames.

Each frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. A frame
from the server is one message; a frame from the runner is a list of messages, because one
decode step produces a token for every active sequence and one write per step keeps the
per-token cost to a single syscall.

Server -> runner messages (`op` selects):
    {"op": "load", "spec": {...LoadSpec...}, "wire": str}   first, once: load this model
    {"op": "complete", "id": n, "request": {...CompletionRequest as a dict...}}
    {"op": "cancel", "id": n}
    {"op": "tokenize", "id": n, "text": str, "add_special": bool}
    {"op": "detokenize", "id": n, "tokens": [int]}
    {"op": "embed", "id": n, "inputs": [str], "truncate": bool}
    {"op": "stats", "id": n}
    {"op": "close"}
Runner -> server messages:
    {"op": "ready", "metadata": {...ModelMetadata...}} once the model is loaded
    {"op": "load_error", "message": str} instead, then the runner exits
    {"id": n, "t": str, "lp"?: [...]}    a piece of generated text, and the logprobs of the
                                         tokens it completes (when asked, `runner.logprobs`)
    {"id": n, "done": {...}}             the final CompletionChunk's fields
    {"id": n, "result": any}             the answer to tokenize/detokenize/embed/stats
    {"id": n, "error": str, "kind": str} a request failed; kind names a pollama.errors class
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import struct
from pathlib import Path
from typing import Any

from pollama.engine import types
from pollama.engine.types import LoadSpec, RunnerOptions
from pollama.errors import PollamaError

# A digest of the code that defines this wire, as it was when the process started. A runner
# started from newer code than its server's (pollama upgraded under a running server) sees
# a different one in the `load` message and says so, rather than fail on a message it
# cannot read.
WIRE = hashlib.sha256(Path(__file__).read_bytes() + Path(types.__file__).read_bytes()).hexdigest()[
    :16
]
STALE_SERVER = "pollama was upgraded while the server ran; restart `pollama serve`"

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size
MAX_FRAME = 1 << 30


def error_reply(job_id: int, exc: Exception) -> dict[str, Any]:
    """The `error` message for request `job_id`, which raised `exc`: in pollama's error
    terms (any other exception is a PollamaError)."""
    kind = type(exc).__name__ if isinstance(exc, PollamaError) else "PollamaError"
    return {"id": job_id, "error": str(exc), "kind": kind}


def spec_to_dict(spec: LoadSpec) -> dict[str, Any]:
    """`spec` as JSON-ready data, for the `load` message."""
    data = dataclasses.asdict(spec)
    data["model_path"] = str(spec.model_path)
    data["adapters"] = [str(p) for p in spec.adapters]
    data["projectors"] = [str(p) for p in spec.projectors]
    data["draft_path"] = str(spec.draft_path) if spec.draft_path else None
    return data


def spec_from_dict(data: dict[str, Any]) -> LoadSpec:
    """The LoadSpec a `load` message carries."""
    return LoadSpec(
        name=data["name"],
        digest=data["digest"],
        model_path=Path(data["model_path"]),
        adapters=tuple(Path(p) for p in data.get("adapters", ())),
        projectors=tuple(Path(p) for p in data.get("projectors", ())),
        options=RunnerOptions(**data.get("options", {})),
        draft_path=Path(data["draft_path"]) if data.get("draft_path") else None,
    )


def encode(message: Any) -> bytes:
    """One frame holding `message` as compact JSON."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    return _HEADER.pack(len(body)) + body


def decode_header(header: bytes) -> int:
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes is too large")
    return length


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return bytes(buf)


def read_frame_sync(sock: socket.socket) -> Any | None:
    """The next message from a blocking socket; None at end of stream."""
    header = _recv_exactly(sock, _HEADER.size)
    if header is None:
        return None
    body = _recv_exactly(sock, decode_header(header))
    return None if body is None else json.loads(body)
