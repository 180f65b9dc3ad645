"""`/v2/`: the store served read-only to peers over the OCI distribution API.

Another pollama (or Ollama, or any registry client) pulls from here as from a registry:
`pollama pull thishost:11434/library/model:tag --insecure`. Manifests go out as the stored
bytes, verbatim, so the digest a peer computes is the one this store lists; blobs stream
from their files in chunks, whole or by `Range`, never read into memory. Nothing here
writes: uploads, manifest PUTs and deletes answer 405 `UNSUPPORTED`. `OLLAMA_NO_PEERS=1`
leaves the router out of the app altogether (`pollama.config.no_peers`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from pollama.api.deps import get_store
from pollama.errors import Unsupported
from pollama.registry.served import ServedBlob, ServedRepository
from pollama.store import Store

router = APIRouter()

StoreDep = Annotated[Store, Depends(get_store)]

READS = ["GET", "HEAD"]
WRITES = ["POST", "PUT", "PATCH", "DELETE"]
_API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}
# Blobs are content-addressed: what a digest names never changes.
_IMMUTABLE = "max-age=31536000"
# Large reads keep the per-chunk cost of the thread hop small against the bytes moved.
CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@router.api_route("/v2", methods=READS)
@router.api_route("/v2/", methods=READS)
async def api_version() -> Response:
    """The registry's base: 200 says "a registry, and no auth needed"."""
    return JSONResponse({}, headers=_API_VERSION)


@router.api_route("/v2/{namespace}/{model}/manifests/{reference}", methods=READS)
async def manifest(
    request: Request, namespace: str, model: str, reference: str, store: StoreDep
) -> Response:
    repository = await run_in_threadpool(ServedRepository, store, namespace, model)
    served = await run_in_threadpool(repository.manifest, reference)
    headers = {
        **_API_VERSION,
        "Docker-Content-Digest": served.digest,
        "ETag": f'"{served.digest}"',
        "Content-Length": str(len(served.raw)),
    }
    body = b"" if request.method == "HEAD" else served.raw
    return Response(body, media_type=served.media_type, headers=headers)


@router.api_route("/v2/{namespace}/{model}/blobs/{digest}", methods=READS)
async def blob(
    request: Request, namespace: str, model: str, digest: str, store: StoreDep
) -> Response:
    repository = await run_in_threadpool(ServedRepository, store, namespace, model)
    served = await run_in_threadpool(repository.blob, digest)
    return blob_response(served, request.headers.get("range"), request.method == "HEAD")


@router.get("/v2/{namespace}/{model}/tags/list")
async def tags(namespace: str, model: str, store: StoreDep) -> Response:
    repository = await run_in_threadpool(ServedRepository, store, namespace, model)
    return JSONResponse({"name": repository.name, "tags": repository.tags()})


@router.api_route("/v2/{rest:path}", methods=READS + WRITES)
async def unsupported(request: Request) -> Response:
    """Every other path and method: writes are refused, other reads are not served."""
    raise Unsupported(status_code=405 if request.method in WRITES else 404)


def blob_response(served: ServedBlob, range_header: str | None, head: bool) -> Response:
    """The blob whole (200), one byte range of it (206), or 416 for a range past its end."""
    headers = {
        **_API_VERSION,
        "Docker-Content-Digest": served.digest,
        "ETag": f'"{served.digest}"',
        "Accept-Ranges": "bytes",
        "Cache-Control": _IMMUTABLE,
    }
    try:
        span = byte_range(range_header, served.size)
    except ValueError:
        headers["Content-Range"] = f"bytes */{served.size}"
        return Response(status_code=416, headers=headers)
    start, end = span or (0, served.size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{served.size}"
    media_type = "application/octet-stream"
    if head:
        return Response(status_code=status, headers=headers, media_type=media_type)
    chunks = _file_chunks(served.path, start, end)
    return StreamingResponse(chunks, status_code=status, headers=headers, media_type=media_type)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The `[start, end)` one `Range: bytes=...` asks of `size` bytes; None for the whole.

    A header that is not a single byte range (several ranges, other units, garbage) is
    ignored, as RFC 9110 lets a server do; a range that starts past the end, or a suffix of
    zero bytes, raises ValueError (416).
    """
    match = _RANGE.match(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # a suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise ValueError("unsatisfiable range")
        return max(0, size - length), size
    start = int(first)
    if start >= size:
        raise ValueError("unsatisfiable range")
    end = size if not last else min(int(last) + 1, size)
    return (start, end) if end > start else None


def _file_chunks(path: Path, start: int, end: int) -> Iterator[bytes]:
    """The bytes of `path` from `start` to `end`, a chunk at a time (run in a worker thread)."""
    with path.open("rb") as file:
        file.seek(start)
        left = end - start
        while left > 0:
            chunk = file.read(min(CHUNK, left))
            if not chunk:  # the file shrank under us; the client sees a short body
                return
            left -= len(chunk)
            yield chunk
