"""Model management: `/`, `/api/version`, tags, show, create, blobs, copy, delete.

Each handler parses, makes one call into the store (or `pollama.create`), and renders. Store
work reads and hashes files, so it runs in a worker thread and the event loop stays free
for the requests being generated meanwhile.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from pollama import __version__
from pollama.api.deps import StoreDep, get_registry
from pollama.api.schemas.models import (
    CopyRequest,
    CreateRequest,
    DeleteRequest,
    ListResponse,
    ProgressResponse,
    ShowRequest,
    VersionResponse,
)
from pollama.api.show import list_entry, show_response
from pollama.api.streaming import json_response, ndjson_response
from pollama.api.transfers import wire_progress
from pollama.create import create_from_modelfile, create_from_request
from pollama.errors import BlobNotFound, InvalidModelName, InvalidRequest, ModelNotFound
from pollama.registry import Registry
from pollama.store import ModelName, Store

router = APIRouter()

RegistryDep = Annotated[Registry, Depends(get_registry)]

_DIGEST = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")


@router.get("/")
@router.head("/", include_in_schema=False)  # one operation id per path
async def root() -> Response:
    return PlainTextResponse("Ollama is running")


@router.get("/api/version")
@router.head("/api/version", include_in_schema=False)  # one operation id per path
async def version() -> Response:
    return json_response(VersionResponse(version=__version__))


@router.get("/api/tags")
@router.head("/api/tags", include_in_schema=False)  # one operation id per path
async def tags(store: StoreDep) -> Response:
    models = await run_in_threadpool(store.list_models)
    newest_first = sorted(models, key=lambda m: m.modified_at, reverse=True)
    return json_response(ListResponse(models=[list_entry(m) for m in newest_first]))


@router.post("/api/show")
async def show(body: ShowRequest, store: StoreDep) -> Response:
    if not body.model_name:
        raise InvalidRequest("model is required")
    name = _parse_name(body.model_name)
    with _not_found(f"model '{name.display_shortest()}' not found"):
        model = await run_in_threadpool(store.get_model, body.model_name)
    return json_response(await run_in_threadpool(show_response, model, body))


@router.post("/api/create")
async def create(
    request: Request, body: CreateRequest, store: StoreDep, registry: RegistryDep
) -> Response:
    building = _progress(iterate_in_threadpool(_create(store, body)))
    base = _pull_missing_base(store, registry, body.from_, body.insecure)
    statuses = _chain(base, building)
    if body.stream is False:
        last = ProgressResponse(status="success")
        async for progress in statuses:
            last = progress
        return json_response(last)
    return await ndjson_response(request, statuses)


def _create(store: Store, body: CreateRequest) -> Iterator[str]:
    """The create call for either request form.

    Relative FROM paths in the old Modelfile form are taken from the folder of its `path`,
    else from the server's cwd (the old Ollama server's behaviour).
    """
    _parse_name(body.model_name)
    if body.modelfile:
        base_dir = Path(body.path).parent if body.path else Path.cwd()
        return create_from_modelfile(
            store, body.model_name, body.modelfile, quantize=body.quantize_type, base_dir=base_dir
        )
    return create_from_request(
        store,
        body.model_name,
        from_=body.from_ or None,
        files=body.files,
        adapters=body.adapters,
        draft_files=body.draft_files,
        template=body.template,
        system=body.system,
        parameters=body.parameters,
        messages=[m.model_dump(exclude_none=True) for m in body.messages or []],
        license=body.license,
        quantize=body.quantize_type,
        draft_quantize=body.draft_quantize or None,
        renderer=body.renderer or "",
        parser=body.parser or "",
        requires=body.requires or "",
    )


async def _pull_missing_base(
    store: Store, registry: Registry, base: str, insecure: bool
) -> AsyncIterator[ProgressResponse]:
    """As Ollama's create: a `from` model that is not here is pulled first, its progress
    streamed ahead of the create's own."""
    try:
        name = ModelName.parse(base) if base else None
    except InvalidModelName:
        name = None  # not a model name: the create itself says what is wrong
    if name is None or await run_in_threadpool(_stored, store, name):
        return
    async for line in wire_progress(registry.pull(name, insecure=insecure)):
        yield line


def _stored(store: Store, name: ModelName) -> bool:
    try:
        store.read_manifest(name)
    except ModelNotFound:
        return False
    return True


async def _chain(*streams: AsyncIterator[ProgressResponse]) -> AsyncIterator[ProgressResponse]:
    for stream in streams:
        async for line in stream:
            yield line


async def _progress(statuses: AsyncIterator[str]) -> AsyncIterator[ProgressResponse]:
    async for status in statuses:
        yield ProgressResponse(status=status)


@router.head("/api/blobs/{digest}")
async def blob_exists(digest: str, store: StoreDep) -> Response:
    digest = _check_digest(digest)
    if not await run_in_threadpool(store.has_blob, digest):
        raise BlobNotFound(f'blob "{digest}" not found')
    return Response()


@router.post("/api/blobs/{digest}")
async def upload_blob(request: Request, digest: str, store: StoreDep) -> Response:
    digest = _check_digest(digest)
    if await run_in_threadpool(store.has_blob, digest):
        return Response()
    await anyio.to_thread.run_sync(store.write_blob, _pull(request.stream()), digest)
    return Response(status_code=201)


def _pull(chunks: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body as a blocking iterator, for the store's writer thread.

    Each chunk is awaited on the event loop, so a slow upload never holds it.
    """
    while True:
        try:
            yield anyio.from_thread.run(_next, chunks)
        except StopAsyncIteration:
            return


async def _next(chunks: AsyncIterator[bytes]) -> bytes:
    return await anext(chunks)


@router.post("/api/copy")
async def copy(body: CopyRequest, store: StoreDep) -> Response:
    _parse_name(body.source, f"source {_quote(body.source)} is invalid")
    _parse_name(body.destination, f"destination {_quote(body.destination)} is invalid")
    with _not_found(f"model {_quote(body.source)} not found"):
        await run_in_threadpool(store.copy, body.source, body.destination)
    return Response()


@router.delete("/api/delete")
async def delete(body: DeleteRequest, store: StoreDep) -> Response:
    if not body.model_name:
        raise InvalidRequest("model is required")
    _parse_name(body.model_name, f"name {_quote(body.model_name)} is invalid")
    with _not_found(f"model '{body.model_name}' not found"):
        await run_in_threadpool(store.delete, body.model_name)
    return Response()


def _parse_name(name: str, message: str | None = None) -> ModelName:
    """`name` parsed, or 400 with `message` (Ollama's wording differs per route)."""
    try:
        return ModelName.parse(name)
    except InvalidModelName:
        raise InvalidModelName(message) if message else InvalidModelName() from None


def _check_digest(digest: str) -> str:
    """A blob digest as the store writes it (`sha256:<hex>`), or 400."""
    if not _DIGEST.match(digest):
        raise InvalidRequest("invalid digest format")
    return "sha256:" + digest[7:].lower()


@contextmanager
def _not_found(message: str) -> Iterator[None]:
    """Say "not found" in the words of the route at hand (Ollama's differ per route)."""
    try:
        yield
    except ModelNotFound:
        raise ModelNotFound(message) from None


def _quote(text: str) -> str:
    """Go's `%q`."""
    return json.dumps(text, ensure_ascii=False)
