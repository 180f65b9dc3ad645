"""`GET /metrics`: Prometheus' text format, fed by real requests on the tiny model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pollama.api import create_app
from pollama.engine.scheduler import Scheduler
from pollama.store import Store
from tests.api.generate_helpers import create

MODEL = "registry.ollama.ai/library/tiny:latest"


@pytest.fixture
async def client(isolated_store: Path, tiny_gguf: Path) -> AsyncIterator[httpx.AsyncClient]:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    app = create_app(Store(isolated_store), Scheduler())
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as c,
        app.router.lifespan_context(app),
    ):
        yield c


async def _samples(client: httpx.AsyncClient) -> dict[tuple[str, frozenset], float]:
    reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_generations_show_in_the_metrics(client: httpx.AsyncClient) -> None:
    before = await _samples(client)
    body = {
        "model": "tiny",
        "prompt": "abcabcabcabcabc",
        "stream": False,
        "options": {"num_predict": 40, "temperature": 0, "num_ctx": 256},
    }
    first = (await client.post("/api/generate", json=body)).json()
    second = (await client.post("/api/generate", json=body)).json()
    assert (await client.post("/api/generate", json={"model": "nope"})).status_code == 404
    after = await _samples(client)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert (
        grew("pollama_http_requests_total", endpoint="/api/generate", method="POST", status="200")
        == 2
    )
    assert (
        grew("pollama_http_requests_total", endpoint="/api/generate", method="POST", status="404")
        == 1
    )
    assert (
        grew("pollama_generated_tokens_total", model=MODEL)
        == first["eval_count"] + second["eval_count"]
    )
    prompt = first["prompt_eval_count"]
    assert grew("pollama_prompt_tokens_total", model=MODEL) == 2 * prompt
    assert grew("pollama_prompt_cache_reused_tokens_total", model=MODEL) == prompt - 1
    assert grew("pollama_time_to_first_token_seconds_count", model=MODEL) == 2
    assert grew("pollama_token_latency_seconds_count", model=MODEL) == 2
    assert grew("pollama_speculative_draft_accepted_tokens_total", model=MODEL) > 0
    assert grew("pollama_model_loads_total", model=MODEL, outcome="ok") == 1
    assert grew("pollama_queue_wait_seconds_count") >= 2
    assert _value(after, "pollama_slots", model=MODEL) == 4
    assert _value(after, "pollama_slots_busy", model=MODEL) == 0
    assert _value(after, "pollama_queue_depth") == 0
    assert _value(after, "pollama_models_loaded") == 1


async def test_an_unload_is_counted_with_its_reason(client: httpx.AsyncClient) -> None:
    await client.post("/api/generate", json={"model": "tiny"})
    before = await _samples(client)
    await client.post("/api/generate", json={"model": "tiny", "keep_alive": 0})
    after = await _samples(client)
    labels = {"model": MODEL, "reason": "requested"}
    assert _value(after, "pollama_model_unloads_total", **labels) == (
        _value(before, "pollama_model_unloads_total", **labels) + 1
    )
    assert _value(after, "pollama_models_loaded") == 0


async def test_unknown_paths_share_one_label(client: httpx.AsyncClient) -> None:
    for path in ("/nope/1", "/nope/2"):
        assert (await client.get(path)).status_code == 404
    samples = await _samples(client)
    assert (
        _value(
            samples, "pollama_http_requests_total", endpoint="unmatched", method="GET", status="404"
        )
        >= 2
    )
    assert not any("/nope" in str(labels) for _, labels in samples)


async def test_a_request_that_waited_says_how_long(isolated_store: Path, tiny_gguf: Path) -> None:
    create(isolated_store, "one", f"FROM {tiny_gguf}\nPARAMETER num_parallel 1\n")
    app = create_app(Store(isolated_store), Scheduler())
    transport = httpx.ASGITransport(app=app)
    body = {"model": "one", "prompt": "hi", "stream": False}
    options = {"num_ctx": 256, "num_predict": 200, "temperature": 0}
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as c,
        app.router.lifespan_context(app),
    ):
        one_token = {**body, "options": {**options, "num_predict": 1}}
        # Sent together to a model not yet loaded, with one slot: both wait for the load, and
        # one of them for the other's slot too, however fast the machine.
        first = asyncio.create_task(c.post("/api/generate", json=one_token))
        second = await c.post("/api/generate", json={**body, "options": options})
        loading = await first
        alone = await c.post("/api/generate", json=one_token)
        [model] = (await c.get("/api/ps")).json()["models"]
    assert float(loading.headers["x-pollama-queue-wait"]) > 0
    assert float(second.headers["x-pollama-queue-wait"]) > 0
    assert "x-pollama-queue-wait" not in alone.headers
    assert model["num_parallel"] == 1
    assert float(second.headers["x-pollama-queue-wait"]) > 0
