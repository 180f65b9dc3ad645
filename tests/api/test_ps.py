"""`GET /api/ps` in Ollama's shape, keep_alive on the wire, and the 503 of a full queue."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import ollama

from pollama.engine.scheduler import Scheduler
from tests.api.generate_helpers import create
from tests.api.inprocess import app_client
from tests.fixtures.app_server import app_server

PS_FIELDS = {
    "name",
    "model",
    "size",
    "digest",
    "details",
    "expires_at",
    "size_vram",
    "context_length",
    "num_parallel",
    "running",
    "waiting",
    "kv_cache_type",
    "kv_cache_size",
}


def _generate(url: str, **body: object) -> httpx.Response:
    return httpx.post(url + "/api/generate", json={"model": "tiny", **body}, timeout=60)


def _expires(model: dict) -> datetime:
    return datetime.fromisoformat(model["expires_at"])


def test_ps_shows_loaded_models_as_ollama_does(isolated_store: Path, tiny_gguf: Path) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    with app_server(isolated_store) as url:
        assert httpx.get(url + "/api/ps").json() == {"models": []}
        reply = _generate(
            url,
            prompt="hi",
            keep_alive="10m",
            stream=False,
            options={"num_predict": 2, "num_ctx": 512},
        )
        assert reply.status_code == 200, reply.text
        [model] = httpx.get(url + "/api/ps").json()["models"]
        [tag] = httpx.get(url + "/api/tags").json()["models"]
        assert set(model) == PS_FIELDS
        assert model["name"] == model["model"] == "tiny:latest"
        assert model["digest"] == tag["digest"]
        assert model["details"] == tag["details"]
        assert model["size"] > 0 and model["size_vram"] == 0
        assert model["context_length"] == 512
        assert model["num_parallel"] == 4  # OLLAMA_NUM_PARALLEL's default
        assert (model["running"], model["waiting"]) == (0, 0)
        assert model["kv_cache_type"] == "f16" and 0 < model["kv_cache_size"] < model["size"]
        left = _expires(model) - datetime.now(UTC)
        assert timedelta(minutes=9) < left <= timedelta(minutes=10)

        # keep_alive -1: forever, which Ollama writes as now + 2^63-1 ns (about 292 years).
        assert _generate(url, keep_alive=-1).json()["done_reason"] == "load"
        [model] = ollama.Client(host=url).ps().models
        assert model.expires_at is not None and model.expires_at.year > datetime.now().year + 290

        # keep_alive 0 with no prompt: unloaded at once (`pollama stop`).
        assert _generate(url, keep_alive=0).json()["done_reason"] == "unload"
        assert httpx.get(url + "/api/ps").json() == {"models": []}


def test_invalid_keep_alive_is_a_400(isolated_store: Path, tiny_gguf: Path) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    with app_server(isolated_store) as url:
        reply = _generate(url, keep_alive="5 minutes")
        assert reply.status_code == 400
        assert "duration" in reply.json()["error"]


def test_full_queue_answers_503_at_once(isolated_store: Path, tiny_gguf: Path) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    with app_server(isolated_store, OLLAMA_MAX_QUEUE="1", OLLAMA_NUM_PARALLEL="1") as url:
        body = {"prompt": "hi", "stream": False, "options": {"num_predict": 64}}

        def timed(_: int) -> tuple[int, float, dict]:
            start = time.monotonic()
            reply = _generate(url, **body)
            return reply.status_code, time.monotonic() - start, reply.json()

        # The first request waits (in the one queue place) for the model to load; while it
        # does, the others find the queue full.
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(timed, range(6)))
        busy = [r for r in results if r[0] == 503]
        served = [elapsed for status, elapsed, _ in results if status == 200]
        assert served and busy, results
        for _, elapsed, reply in busy:
            # Answered without waiting for the load and the reply (with slack for a busy
            # machine, where even a 503 takes a while).
            assert elapsed < max(0.5, min(served) / 2)
            assert reply == {
                "error": "server busy, please try again.  maximum pending requests exceeded"
            }


def test_a_model_that_generates_and_embeds_is_listed_once(
    isolated_store: Path, tiny_gguf: Path
) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    with app_server(isolated_store) as url:
        options = {"num_predict": 2, "num_ctx": 256}
        generated = _generate(url, prompt="hi", stream=False, keep_alive="1m", options=options)
        assert generated.status_code == 200
        [alone] = httpx.get(url + "/api/ps").json()["models"]
        embed = {"model": "tiny", "input": "hi", "keep_alive": "10m", "options": options}
        assert httpx.post(url + "/api/embed", json=embed, timeout=60).status_code == 200
        [both] = httpx.get(url + "/api/ps").json()["models"]
        assert both["size"] > alone["size"]
        assert _expires(both) - datetime.now(UTC) > timedelta(minutes=9)  # the later expiry
        assert both["context_length"] == 256


def test_a_derived_model_runs_on_its_base_runner(isolated_store: Path, tiny_gguf: Path) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    create(isolated_store, "tiny-terse", "FROM tiny\nSYSTEM Be terse.\n")
    with app_server(isolated_store, OLLAMA_MAX_LOADED_MODELS="1") as url:
        for name in ("tiny", "tiny-terse"):
            body = {"model": name, "prompt": "hi", "stream": False, "options": {"num_predict": 2}}
            assert httpx.post(url + "/api/generate", json=body, timeout=60).status_code == 200
        [model] = httpx.get(url + "/api/ps").json()["models"]
        assert model["name"] == "tiny:latest"  # not reloaded for tiny-terse
        stopped = {"model": "tiny-terse", "keep_alive": 0}
        assert httpx.post(url + "/api/generate", json=stopped).json()["done_reason"] == "unload"
        assert httpx.get(url + "/api/ps").json() == {"models": []}


async def test_a_draft_model_s_weights_count_in_size(
    isolated_store: Path, deep_tiny_gguf: Path, tiny_gguf: Path
) -> None:
    """The runner of a model with a DRAFT holds both models: its size is the two models'
    sizes loaded alone (weights, KV caches and buffers, all alike)."""
    create(isolated_store, "deep", f"FROM {deep_tiny_gguf}\nDRAFT {tiny_gguf}\n")
    create(isolated_store, "deep-alone", f"FROM {deep_tiny_gguf}\n")
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    async with app_client(isolated_store, Scheduler(max_loaded=3)) as http:
        for name in ("deep", "deep-alone", "tiny"):
            options = {"num_ctx": 256, "num_predict": 1}
            body = {"model": name, "prompt": "hi", "stream": False, "options": options}
            assert (await http.post("/api/generate", json=body)).is_success
        loaded = (await http.get("/api/ps")).json()["models"]
    size = {m["name"]: m["size"] for m in loaded}
    kv = {m["name"]: m["kv_cache_size"] for m in loaded}
    assert size["deep:latest"] == size["deep-alone:latest"] + size["tiny:latest"]
    assert kv["deep:latest"] == kv["deep-alone:latest"] + kv["tiny:latest"]
