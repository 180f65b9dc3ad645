"""`GET /api/ps`: what the scheduler has loaded, described with the store's details."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pollama.api.deps import SchedulerDep, StoreDep
from pollama.api.schemas.models import ModelDetails
from pollama.api.schemas.ps import ProcessModelResponse, ProcessResponse
from pollama.api.show import details
from pollama.api.streaming import json_response
from pollama.engine.scheduler import LoadedModel
from pollama.engine.types import ModelFiles
from pollama.errors import PollamaError
from pollama.store import ModelName, Store

log = logging.getLogger(__name__)

router = APIRouter()

# Ollama keeps a model "forever" for `time.Duration(math.MaxInt64)`, about 292 years, so its
# `expires_at` for such a model lies in the year 2318. Clients expect that, not a null.
_FOREVER = timedelta(microseconds=(2**63 - 1) // 1000)


def _describe(store: Store, name: str) -> tuple[str, ModelDetails]:
    """The short name and details of model `name` (empty details if it left the store)."""
    try:
        model = store.get_model(name)
    except PollamaError:
        log.debug("loaded model %s is no longer in the store", name)
        try:
            return ModelName.parse(name).display_shortest(), ModelDetails()
        except PollamaError:
            return name, ModelDetails()
    return model.short_name, details(model.config)


def _entry(store: Store, loaded: LoadedModel, now: datetime) -> ProcessModelResponse:
    short, model_details = _describe(store, loaded.spec.name)
    expires = loaded.expires_at or now + _FOREVER
    return ProcessModelResponse(
        name=short,
        model=short,
        size=loaded.size,
        digest=loaded.spec.digest,
        details=model_details,
        expires_at=expires.astimezone(),  # Go writes local time
        size_vram=loaded.size_vram,
        context_length=loaded.spec.options.num_ctx,
        num_parallel=max(1, loaded.spec.options.num_parallel),
        running=loaded.running,
        waiting=loaded.waiting,
        kv_cache_type=loaded.spec.options.kv_cache_type,
        kv_cache_size=loaded.runner.metadata.kv_cache_size,
    )


def _one_per_model(loaded: list[LoadedModel]) -> list[LoadedModel]:
    """Weights that both generate and embed have two runners here, one in Ollama: show them
    once, with both sizes added, the later expiry and the generation runner's name and
    context."""
    merged: dict[ModelFiles, LoadedModel] = {}
    for model in sorted(loaded, key=lambda m: m.spec.options.embedding):  # generation first
        seen = merged.get(model.spec.files)
        if seen is None:
            merged[model.spec.files] = model
            continue
        forever = seen.expires_at is None or model.expires_at is None
        merged[model.spec.files] = dataclasses.replace(
            seen,
            size=seen.size + model.size,
            size_vram=seen.size_vram + model.size_vram,
            running=seen.running + model.running,
            waiting=seen.waiting + model.waiting,
            expires_at=None if forever else max(seen.expires_at, model.expires_at),  # type: ignore[type-var]
        )
    return list(merged.values())


@router.get("/api/ps")
async def ps(store: StoreDep, scheduler: SchedulerDep) -> JSONResponse:
    """The loaded models, sorted as Ollama sorts them: latest `expires_at` first."""
    now = datetime.now().astimezone()
    models = [_entry(store, m, now) for m in _one_per_model(scheduler.loaded())]
    models.sort(key=lambda m: m.expires_at, reverse=True)
    return json_response(ProcessResponse(models=models))
