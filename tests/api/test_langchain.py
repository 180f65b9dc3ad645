"""LangChain's `ChatOllama` and `OllamaEmbeddings`, used as their docs show, on pollama."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_ollama import ChatOllama, OllamaEmbeddings

from tests.api.compat_helpers import create_model
from tests.fixtures.app_server import app_server


@pytest.fixture(scope="module")
def tiny_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("langchain-models")
    create_model(root, "tiny", tiny_gguf)
    with app_server(root) as url:
        yield url


def test_ollama_embeddings(tiny_server: str) -> None:
    embeddings = OllamaEmbeddings(model="tiny", base_url=tiny_server)
    docs = embeddings.embed_documents(["alpha", "beta", "gamma"])
    assert len(docs) == 3 and all(len(v) == 64 for v in docs)
    query = embeddings.embed_query("alpha")
    assert query == pytest.approx(docs[0], abs=1e-5)


def test_chat_ollama_invoke_and_stream(tiny_server: str) -> None:
    llm = ChatOllama(model="tiny", base_url=tiny_server, num_predict=4, temperature=0)
    reply = llm.invoke([("system", "You are terse."), ("human", "Hello")])
    assert isinstance(reply.content, str)
    assert reply.usage_metadata is not None and 0 < reply.usage_metadata["output_tokens"] <= 4
    pieces = [chunk.content for chunk in llm.stream("Hello")]
    assert len(pieces) >= 1


@pytest.mark.starter
def test_chat_ollama_on_starter(starter_ggufs: dict[str, Path], tmp_path: Path) -> None:
    create_model(tmp_path, "qwen2.5-coder:0.5b", starter_ggufs["qwen2.5-coder:0.5b"])
    with app_server(tmp_path) as url:
        llm = ChatOllama(model="qwen2.5-coder:0.5b", base_url=url, num_predict=8, temperature=0)
        reply = llm.invoke("Reply with the single word: yes")
        assert "yes" in str(reply.content).lower()
        vector = OllamaEmbeddings(model="qwen2.5-coder:0.5b", base_url=url).embed_query("hi")
        assert len(vector) == 896
