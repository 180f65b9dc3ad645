"""A Modelfile DRAFT model through the API, in-process: created as Ollama stores it, shown in
the Modelfile, drafting for the model's replies; another vocabulary refused at create."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from pollama.engine.scheduler import Scheduler
from pollama.store import Store
from pollama.store import manifest as mt
from tests.api.generate_helpers import create
from tests.api.inprocess import app_client

MODEL = "registry.ollama.ai/library/deep:latest"
BODY = {"prompt": "abcabcabcabc", "stream": False, "options": {"temperature": 0, "num_ctx": 256}}


async def _upload(http: httpx.AsyncClient, path: Path) -> str:
    data = path.read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    reply = await http.post(f"/api/blobs/{digest}", content=data)
    assert reply.status_code in (200, 201)
    return digest


async def test_a_draft_model_is_stored_shown_and_drafts(
    isolated_store: Path, deep_tiny_gguf: Path, tiny_gguf: Path
) -> None:
    create(isolated_store, "deep", f"FROM {deep_tiny_gguf}\nDRAFT {tiny_gguf}\n")
    _, manifest, _, _ = Store(isolated_store).read_manifest("deep")
    (draft,) = [x for x in manifest.layers if x.media_type == mt.DRAFT]
    assert draft.media_type == "application/vnd.ollama.image.draft"
    assert draft.from_ == "tiny.gguf" and draft.size == tiny_gguf.stat().st_size
    async with app_client(isolated_store, Scheduler(max_loaded=1)) as http:
        shown = (await http.post("/api/show", json={"model": "deep"})).json()
        draft_line = next(x for x in shown["modelfile"].splitlines() if x.startswith("DRAFT "))
        assert draft_line.endswith(draft.digest.replace(":", "-"))
        before = await _drafts(http)
        on = (await http.post("/api/generate", json={"model": "deep", **BODY})).json()
        sent, kept = (a - b for a, b in zip(await _drafts(http), before, strict=True))
        off_body = {**BODY, "options": {**BODY["options"], "draft_num_predict": 0}}
        off = (await http.post("/api/generate", json={"model": "deep", **off_body})).json()
        assert on["response"] == off["response"]
        assert kept == sent > 0  # the tiny model drafts perfectly for its deep twin


async def _drafts(http: httpx.AsyncClient) -> tuple[float, float]:
    """The draft tokens sent and accepted for the model, from `/metrics`."""
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families((await http.get("/metrics")).text)
        for s in family.samples
        if s.labels.get("model") == MODEL
    }
    return (
        samples.get("pollama_speculative_draft_tokens_total", 0.0),
        samples.get("pollama_speculative_draft_accepted_tokens_total", 0.0),
    )


async def test_a_draft_of_another_vocabulary_is_refused_at_create(
    isolated_store: Path, tiny_gguf: Path, other_vocab_gguf: Path
) -> None:
    async with app_client(isolated_store) as http:
        files = {"tiny.gguf": await _upload(http, tiny_gguf)}
        drafts = {"other.gguf": await _upload(http, other_vocab_gguf)}
        body = {"model": "mixed", "files": files, "draft_files": drafts, "stream": False}
        reply = await http.post("/api/create", json=body)
        assert reply.status_code == 400
        assert reply.json() == {
            "error": "draft model vocabulary does not match the model's: "
            "460 tokens, the model's 260"
        }
        quantized = await http.post("/api/create", json={**body, "draft_quantize": "q8_0"})
        assert quantized.status_code == 400 and "safetensors" in quantized.json()["error"]
        alone = await http.post(
            "/api/create", json={"model": "m", "files": files, "draft_quantize": "q8_0"}
        )
        assert alone.json() == {"error": "--draft-quantize requires a DRAFT model"}
        assert (await http.get("/api/tags")).json()["models"] == []
