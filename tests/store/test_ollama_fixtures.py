"""Creates reproduce the exact blobs Ollama's own create/delete tests expect.

The GGUF is Ollama's `createBinFile` (68 bytes: no tensors, one key); the digests are the
literals in Ollama's `server/routes_create_test.go` (`TestCreateFromBin`) and
`server/routes_delete_test.go` (`TestDelete`), both written with the config's `rootfs`.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from pollama.create import create_from_modelfile, create_from_request
from pollama.store import Store

MODEL = "89a2116c3a82d6a97f59f748d86ed4417214353fd178ee54df418fde32495fad"
CONFIG = "6bcdb8859d417753645538d7bbfbd7ca91a3f0c191aef5379c53c05e86b669dd"
TEMPLATE = "fe7ac77b725cda2ccad03f88a880ecdfd7a33192d6cae08fce2c0ee1455991ed"
CONFIG_WITH_TEMPLATE = "136bf7c76bac2ec09d6617885507d37829e04b41acc47687d45e512b544e893a"


def ollama_test_gguf() -> bytes:
    """`createBinFile(t, nil, nil)`: GGUF v3, 0 tensors, `general.architecture = "test"`."""
    key = b"general.architecture"
    return (
        b"GGUF"
        + struct.pack("<IQQ", 3, 0, 1)
        + struct.pack("<Q", len(key))
        + key
        + struct.pack("<IQ", 8, 4)
        + b"test"
    )


@pytest.fixture
def store(isolated_store: Path) -> Store:
    return Store(isolated_store)


def blobs(store: Store) -> set[str]:
    return {p.name.removeprefix("sha256-") for p in (store.root / "blobs").iterdir()}


def test_the_test_gguf_is_ollamas() -> None:
    data = ollama_test_gguf()
    assert len(data) == 68
    assert hashlib.sha256(data).hexdigest() == MODEL


def test_create_from_bin_writes_ollamas_blobs(store: Store) -> None:
    digest = store.write_blob([ollama_test_gguf()], f"sha256:{MODEL}")
    statuses = list(create_from_request(store, "test", files={"test.gguf": digest}))
    assert statuses == [
        "parsing GGUF",
        f"using existing layer sha256:{MODEL}",
        "writing manifest",
        "success",
    ]
    assert blobs(store) == {CONFIG, MODEL}
    model = store.get_model("test")
    assert model.config["model_type"] == "0" and model.config["file_type"] == "unknown"
    assert model.config["rootfs"] == {"type": "layers", "diff_ids": [f"sha256:{MODEL}"]}


def test_template_create_and_delete_match_ollamas_blobs(store: Store) -> None:
    digest = store.write_blob([ollama_test_gguf()])
    list(create_from_request(store, "test", files={"test.gguf": digest}))
    statuses = list(
        create_from_request(
            store, "test2", files={"test.gguf": digest}, template="{{ .System }} {{ .Prompt }}"
        )
    )
    assert f"creating new layer sha256:{TEMPLATE}" in statuses
    assert blobs(store) == {CONFIG_WITH_TEMPLATE, CONFIG, MODEL, TEMPLATE}
    store.delete("test")
    assert blobs(store) == {CONFIG_WITH_TEMPLATE, MODEL, TEMPLATE}
    store.delete("test2")
    assert blobs(store) == set()
    assert not any((store.root / "manifests").rglob("*"))


@pytest.mark.parametrize(
    ("modelfile_tail", "blob", "digest"),
    [
        # Digests from Ollama's `server/routes_create_test.go`.
        ("TEMPLATE {{ .Prompt }}", b"{{ .Prompt }}", "b507b9c2f6ca642bffcd06665ea7c91f"),
        ("SYSTEM Say hi!", b"Say hi!", "f29e82a8284dbdf5910b1555580ff60b"),
        (
            "PARAMETER stop USER:\nPARAMETER stop ASSISTANT:\nPARAMETER temperature 1\n"
            "PARAMETER top_k 10",
            b'{"stop":["USER:","ASSISTANT:"],"temperature":1,"top_k":10}\n',
            "1d0ad71299d48c2fb7ae2b98e683643e",
        ),
        (
            "PARAMETER temperature 0.123456789",  # float32 on the way, as Ollama's CLI sends it
            b'{"temperature":0.12345679}\n',
            "",
        ),
        (
            "MESSAGE user Is <b> & </b> bold?",  # `api.Message` field order, HTML escaped
            b'[{"role":"user","content":"Is \\u003cb\\u003e \\u0026 \\u003c/b\\u003e bold?"}]\n',
            "",
        ),
    ],
)
def test_modelfile_layers_hash_as_ollamas(
    store: Store, tmp_path: Path, modelfile_tail: str, blob: bytes, digest: str
) -> None:
    gguf = tmp_path / "test.gguf"
    gguf.write_bytes(ollama_test_gguf())
    list(create_from_modelfile(store, "m", f"FROM {gguf}\n{modelfile_tail}"))
    written = hashlib.sha256(blob).hexdigest()
    assert written.startswith(digest)
    assert written in blobs(store)
    assert store.blob_path(f"sha256:{written}").read_bytes() == blob


def test_renderer_parser_and_requires_go_to_the_config(store: Store, tmp_path: Path) -> None:
    gguf = tmp_path / "test.gguf"
    gguf.write_bytes(ollama_test_gguf())
    text = f"FROM {gguf}\nRENDERER qwen3-coder\nPARSER qwen3-coder\nREQUIRES v0.14.0"
    list(create_from_modelfile(store, "m", text))
    config = store.get_model("m").config
    assert (config["renderer"], config["parser"], config["requires"]) == (
        "qwen3-coder",
        "qwen3-coder",
        "0.14.0",
    )
    assert list(config)[-4:] == ["requires", "architecture", "os", "rootfs"]
