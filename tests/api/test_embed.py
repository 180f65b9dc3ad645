"""`/api/embed` and `/api/embeddings`: normalisation, then the endpoints on a live server."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from pollama.api.embedding import normalize
from pollama.errors import PollamaError
from tests.api.compat_helpers import create_model
from tests.fixtures.app_server import app_server


def _norm(v: list[float]) -> float:
    return math.sqrt(sum(x * x for x in v))


def test_normalize_unit_length_and_dimensions() -> None:
    assert normalize([3.0, 4.0]) == pytest.approx([0.6, 0.8])
    short = normalize([3.0, 4.0, 12.0], dimensions=2)
    assert short == pytest.approx([0.6, 0.8])
    assert normalize([1.0, 0.0], dimensions=5) == [1.0, 0.0]
    assert normalize([0.0, 0.0]) == [0.0, 0.0]


def test_normalize_rejects_nan() -> None:
    with pytest.raises(PollamaError, match="NaN or Inf"):
        normalize([math.nan, 1.0])


@pytest.fixture(scope="module")
def tiny_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("embed-models")
    create_model(root, "tiny", tiny_gguf)
    with app_server(root) as url:
        # Loaded here, with time to spare on a busy machine, so the tests' calls find it ready.
        httpx.post(url + "/api/embed", json={"model": "tiny", "input": []}, timeout=60)
        yield url


def test_embed_batch_normalised(tiny_server: str) -> None:
    body = httpx.post(
        tiny_server + "/api/embed", json={"model": "tiny", "input": ["a b", "c"]}
    ).json()
    assert body["model"] == "tiny"
    assert len(body["embeddings"]) == 2 and len(body["embeddings"][0]) == 64
    assert all(_norm(v) == pytest.approx(1.0, abs=1e-5) for v in body["embeddings"])
    assert body["embeddings"][0] != body["embeddings"][1]
    assert body["prompt_eval_count"] > 0
    assert body["total_duration"] >= body["load_duration"] > 0


def test_embed_string_and_dimensions(tiny_server: str) -> None:
    one = httpx.post(tiny_server + "/api/embed", json={"model": "tiny", "input": "a b"}).json()
    batch = httpx.post(tiny_server + "/api/embed", json={"model": "tiny", "input": ["a b"]}).json()
    assert one["embeddings"][0] == pytest.approx(batch["embeddings"][0], abs=1e-5)
    short = httpx.post(
        tiny_server + "/api/embed", json={"model": "tiny", "input": "a b", "dimensions": 16}
    ).json()
    assert len(short["embeddings"][0]) == 16
    assert _norm(short["embeddings"][0]) == pytest.approx(1.0, abs=1e-5)


def test_embed_empty_input_loads_only(tiny_server: str) -> None:
    body = httpx.post(tiny_server + "/api/embed", json={"model": "tiny", "input": []}).json()
    assert body == {"model": "tiny", "embeddings": []}


def test_embed_truncate_false_too_long(tiny_server: str) -> None:
    long_input = "word " * 5000
    response = httpx.post(
        tiny_server + "/api/embed",
        json={"model": "tiny", "input": long_input, "truncate": False, "options": {"num_ctx": 64}},
        timeout=60,  # a smaller context than the loaded one: the runner reloads
    )
    assert response.status_code == 400
    assert "exceeds the context length" in response.json()["error"]
    ok = httpx.post(
        tiny_server + "/api/embed",
        json={"model": "tiny", "input": long_input, "options": {"num_ctx": 64}},
    )
    assert ok.status_code == 200 and ok.json()["prompt_eval_count"] <= 64


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"model": "nope", "input": "x"}, 404, 'model "nope" not found, try pulling it first'),
        ({"input": "x"}, 404, "model '' not found"),
    ],
)
def test_embed_errors(tiny_server: str, body: dict[str, str], status: int, error: str) -> None:
    response = httpx.post(tiny_server + "/api/embed", json=body)
    assert response.status_code == status
    assert response.json() == {"error": error}


def test_legacy_embeddings_unnormalised(tiny_server: str) -> None:
    body = httpx.post(
        tiny_server + "/api/embeddings", json={"model": "tiny", "prompt": "a b"}
    ).json()
    assert len(body["embedding"]) == 64
    assert _norm(body["embedding"]) != pytest.approx(1.0, abs=1e-3)
    modern = httpx.post(tiny_server + "/api/embed", json={"model": "tiny", "input": "a b"}).json()
    scale = _norm(body["embedding"])
    assert [x / scale for x in body["embedding"]] == pytest.approx(
        modern["embeddings"][0], abs=1e-4
    )
    empty = httpx.post(tiny_server + "/api/embeddings", json={"model": "tiny", "prompt": ""})
    assert empty.json() == {"embedding": []}
    missing = httpx.post(tiny_server + "/api/embeddings", json={"prompt": "x"})
    assert missing.status_code == 400 and missing.json() == {"error": "model is required"}


def test_ollama_client_embed(tiny_server: str) -> None:
    client = ollama.Client(host=tiny_server)
    result = client.embed(model="tiny", input=["hello", "world"])
    assert len(result.embeddings) == 2
    legacy = client.embeddings(model="tiny", prompt="hello")
    assert len(legacy.embedding) == 64
