"""GGUF headers are read without the tensor data, fast, with Ollama's derived details."""

from __future__ import annotations

from pathlib import Path

import pytest

from pollama.errors import InvalidRequest
from pollama.gguf import LongArray, human_number, read_gguf, read_metadata


def test_tiny_gguf_metadata(tiny_gguf: Path) -> None:
    info = read_gguf(tiny_gguf)
    assert info.architecture == "llama"
    assert info.file_type == "F32" or info.file_type == "unknown"
    assert info.metadata["llama.context_length"] == 2048
    assert isinstance(info.metadata["tokenizer.ggml.tokens"], LongArray)
    assert len(read_metadata(tiny_gguf, full_arrays=True)["tokenizer.ggml.tokens"]) == 260
    assert info.parameter_count == sum(t.elements for t in info.tensors) > 0


def test_not_a_gguf_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(b"not a model at all")
    with pytest.raises(InvalidRequest, match="not in GGUF format"):
        read_gguf(path)


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (494_032_768, "494.03M"),
        (7_000_000_000, "7B"),
        (8_030_261_248, "8.0B"),
        (107_000, "107K"),
        (12, "12"),
        (1_500_000_000_000, "1.5T"),
    ],
)
def test_parameter_sizes_print_as_ollama(count: int, text: str) -> None:
    assert human_number(count) == text


def test_the_block_table_is_the_gguf_packages() -> None:
    from gguf.constants import GGML_QUANT_SIZES

    from pollama.gguf import _BLOCKS

    assert {int(kind): size for kind, size in GGML_QUANT_SIZES.items()} == _BLOCKS
