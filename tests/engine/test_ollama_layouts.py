"""GGUFs in the layouts only Ollama's patched llama.cpp loads fail at load, naming the cause.

Each fixture is the tiny GGUF changed the way Ollama's library files differ from stock
llama.cpp's, and stock llama.cpp really refuses each one (its reason is kept in the error).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from gguf import GGUFWriter

from pollama.api import create_app
from pollama.create import create_from_modelfile
from pollama.engine.runner import spawn_runner
from pollama.engine.runner.layouts import ollama_layout
from pollama.engine.scheduler import Scheduler
from pollama.engine.types import LoadSpec, RunnerOptions
from pollama.errors import PollamaError
from pollama.store import Store
from tests.fixtures.tiny_gguf import write_tiny_gguf


def _bundled_vision(writer: GGUFWriter) -> None:
    """Ollama's gemma3: the vision encoder and projector packed into the model file."""
    writer.add_tensor("v.blk.0.attn_q.weight", np.zeros((8, 8), dtype=np.float32))
    writer.add_tensor("mm.input_projection.weight", np.zeros((8, 8), dtype=np.float32))


def _three_rope_sections(writer: GGUFWriter) -> None:
    """Ollama's qwen3.5: three rope sections where llama.cpp reads four."""
    writer.add_array("qwen35.rope.dimension_sections", [4, 2, 2])


LAYOUTS: dict[str, tuple[dict[str, object], str, str]] = {
    # name: (write_tiny_gguf arguments, what the message must say, llama.cpp's own reason)
    "gemma3-vision": (
        {"architecture": "gemma3", "extend": _bundled_vision},
        "vision encoder and vision projector (2 tensors named v.*, mm.*)",
        "llama_model_load",
    ),
    "gpt-oss": (
        {"architecture": "gptoss"},
        "its architecture is 'gptoss', which llama.cpp calls 'gpt-oss'",
        "unknown model architecture: 'gptoss'",
    ),
    "qwen3.5": (
        {"architecture": "qwen35", "extend": _three_rope_sections},
        "it has 3 rope.dimension_sections where llama.cpp reads 4",
        "expected 4, got 3",
    ),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def layout(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, str]:
    arguments, cause, reason = LAYOUTS[request.param]
    path = tmp_path_factory.mktemp("layouts") / f"{request.param}.gguf"
    write_tiny_gguf(path, **arguments)  # type: ignore[arg-type]
    return path, cause, reason


def _spec(path: Path) -> LoadSpec:
    options = RunnerOptions(num_ctx=256, num_parallel=1, num_thread=1)
    return LoadSpec(name="layout", digest="0" * 64, model_path=path, options=options)


async def test_the_runner_refuses_with_the_cause_and_llama_cpps_reason(
    layout: tuple[Path, str, str],
) -> None:
    path, cause, reason = layout
    with pytest.raises(PollamaError) as failure:
        await spawn_runner(_spec(path))
    message = failure.value.message
    assert "layout only Ollama's patched llama.cpp loads" in message
    assert cause in message
    assert reason in message


def test_a_file_stock_llama_cpp_loads_is_no_ollama_layout(tiny_gguf: Path) -> None:
    assert ollama_layout(tiny_gguf) is None


@pytest.fixture
async def app_client(isolated_store: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    store = Store(isolated_store)
    app = create_app(store, Scheduler())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client, store


def _create(store: Store, name: str, gguf: Path) -> None:
    for _status in create_from_modelfile(store, name, f"FROM {gguf}\n"):
        pass


def _generate(model: str) -> dict[str, object]:
    return {"model": model, "prompt": "hi", "stream": False, "options": {"num_predict": 2}}


async def test_the_server_answers_the_cause_and_keeps_serving(
    app_client: tuple[httpx.AsyncClient, Store],
    layout: tuple[Path, str, str],
    tiny_gguf: Path,
) -> None:
    client, store = app_client
    _create(store, "ollama-layout", layout[0])
    _create(store, "stock", tiny_gguf)
    refused = await client.post("/api/generate", json=_generate("ollama-layout"), timeout=60)
    assert refused.status_code == 500
    assert layout[1] in refused.json()["error"]
    served = await client.post("/api/generate", json=_generate("stock"), timeout=60)
    assert served.status_code == 200
    assert served.json()["done"] is True
