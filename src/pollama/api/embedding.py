"""The embedding service: model lookup, scheduling, one batched `embed()` call, post-processing.

Every embedding endpoint (`/api/embed`, `/api/embeddings`, `/v1/embeddings`) goes through
here, so the error texts, normalisation and `dimensions` handling are written once. The
runner pools (the GGUF's declared pooling, mean for decoder models that declare none); this
module only normalises and shortens the vectors it gets back.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import anyio
import numpy as np

from pollama.api.options import runner_options
from pollama.api.pipeline.seams import Models, Runners
from pollama.api.schemas.embed import (
    EmbeddingsRequest,
    EmbeddingsResponse,
    EmbedRequest,
    EmbedResponse,
)
from pollama.durations import parse_keep_alive
from pollama.engine.types import EmbedResult, LoadSpec
from pollama.errors import InvalidRequest, ModelNotFound, PollamaError

log = logging.getLogger(__name__)


def normalize(vector: list[float], dimensions: int | None = None) -> list[float]:
    """`vector` shortened to `dimensions` (when fewer than it has), then scaled to unit length.

    Matryoshka-style shortening only keeps meaning if the shortened vector is re-normalised,
    which is why both steps are one function (Ollama's `normalize(e[:dims])`).
    """
    arr = np.asarray(vector, dtype=np.float32)
    if dimensions is not None and 0 < dimensions < arr.size:
        arr = arr[:dimensions]
    if not np.all(np.isfinite(arr)):
        raise PollamaError("embedding contains NaN or Inf values")
    norm = float(np.linalg.norm(arr))
    if norm > 0:
        arr = arr / norm
    return [float(x) for x in arr]


class EmbeddingService:
    """Embeds inputs with the model a request names, loading it through the scheduler."""

    def __init__(self, store: Models, scheduler: Runners) -> None:
        self._store = store
        self._scheduler = scheduler

    async def embed(self, req: EmbedRequest) -> EmbedResponse:
        """`/api/embed`: a batch of inputs, L2-normalised vectors, metrics.

        An empty input only loads the model, as Ollama's does, so clients can warm it up.
        """
        start = time.monotonic_ns()
        if not req.model:
            raise ModelNotFound("model '' not found")
        result, load_ns = await self._run(
            req.model,
            req.inputs(),
            truncate=req.truncate is not False,
            keep_alive=req.keep_alive,
            options=req.options,
        )
        if result is None:
            return EmbedResponse(model=req.model, embeddings=[])
        vectors = [normalize(v, req.dimensions) for v in result.embeddings]
        return EmbedResponse(
            model=req.model,
            embeddings=vectors,
            total_duration=time.monotonic_ns() - start,
            load_duration=load_ns,
            prompt_eval_count=result.prompt_eval_count,
        )

    async def embeddings(self, req: EmbeddingsRequest) -> EmbeddingsResponse:
        """`/api/embeddings` (legacy): one prompt, the raw (unnormalised) vector."""
        if not req.model:
            raise InvalidRequest("model is required")
        inputs = [req.prompt] if req.prompt else []
        result, _ = await self._run(
            req.model, inputs, truncate=True, keep_alive=req.keep_alive, options=req.options
        )
        if result is None:
            return EmbeddingsResponse(embedding=[])
        return EmbeddingsResponse(embedding=result.embeddings[0])

    async def _run(
        self,
        name: str,
        inputs: list[str],
        *,
        truncate: bool,
        keep_alive: float | int | str | None,
        options: dict[str, Any] | None,
    ) -> tuple[EmbedResult | None, int]:
        """Embed `inputs` in one runner call; (None, load ns) when there is nothing to embed."""
        spec = await anyio.to_thread.run_sync(self._load_spec, name, options)  # reads the store
        start = time.monotonic_ns()
        async with self._scheduler.runner(spec, keep_alive=parse_keep_alive(keep_alive)) as r:
            load_ns = time.monotonic_ns() - start
            if not inputs:
                return None, load_ns
            result: EmbedResult = await r.embed(inputs, truncate=truncate)
        log.debug("embedded %d inputs (%d tokens)", len(inputs), result.prompt_eval_count)
        return result, load_ns

    def _load_spec(self, name: str, options: dict[str, Any] | None) -> LoadSpec:
        """What to load for embedding `name`: its GGUF with the runner in embedding mode."""
        try:
            model = self._store.get_model(name)
        except ModelNotFound:
            # Ollama's scheduler words it this way for embeddings, pointing at the fix.
            raise ModelNotFound(f'model "{name}" not found, try pulling it first') from None
        if model.model_path is None:
            raise InvalidRequest(f'"{name}" has no model weights to embed with')
        opts = runner_options(model.parameters, options or {})
        return LoadSpec(
            name=str(model.name),
            digest=model.digest,
            model_path=model.model_path,
            adapters=model.adapters,
            projectors=model.projectors,
            options=dataclasses.replace(opts, embedding=True),
            draft_path=model.draft_path,  # not loaded to embed; named so ps shows one model
        )
