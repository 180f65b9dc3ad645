"""The store reads Ollama's layout as Ollama writes it and writes blobs as Ollama does."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from pollama.create import create_from_modelfile
from pollama.errors import InvalidRequest, ModelNotFound
from pollama.store import Store
from tests.store.test_ollama_fixtures import ollama_test_gguf


@pytest.fixture
def store(isolated_store: Path) -> Store:
    return Store(isolated_store)


def test_write_blob_verifies_the_digest(store: Store) -> None:
    data = b"hello"
    real = f"sha256:{hashlib.sha256(data).hexdigest()}"
    wrong = "sha256:" + "0" * 64
    with pytest.raises(InvalidRequest, match=f'digest mismatch, expected "{wrong}", got "{real}"'):
        store.write_blob([data], wrong)
    assert store.has_blob(real)  # Ollama keeps the data under its real digest
    assert store.write_blob([data], real.replace(":", "-")) == real
    with pytest.raises(InvalidRequest, match=r"^invalid digest format$"):
        store.blob_path("sha256:../../etc/passwd")
    with pytest.raises(InvalidRequest, match="invalid digest format"):
        store.has_blob("md5:" + "0" * 32)


def test_local_files_are_copied_and_the_source_left_alone(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "model.gguf"
    source.write_bytes(ollama_test_gguf())
    os.utime(source, (1_000_000, 1_000_000))
    for expect_created in (True, False):
        digest, size, created = store.blobs.import_file(source)
        assert (created, size) == (expect_created, 68)
    blob = store.blob_path(digest)
    assert blob.stat().st_ino != source.stat().st_ino
    assert blob.read_bytes() == source.read_bytes()
    assert source.stat().st_mtime == 1_000_000
    assert [p.name for p in store.blobs.root.iterdir()] == [digest.replace(":", "-")]


def test_an_interrupted_create_leaves_no_model(store: Store, tmp_path: Path) -> None:
    gguf = tmp_path / "test.gguf"
    gguf.write_bytes(ollama_test_gguf())
    statuses = create_from_modelfile(store, "half", f"FROM {gguf}\nSYSTEM s")
    for status in statuses:
        if status.startswith("creating new layer"):
            break
    statuses.close()  # the client went away: the generator never reaches the manifest
    with pytest.raises(ModelNotFound):
        store.get_model("half")
    assert store.list_models() == []


def _blob(root: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / f"sha256-{digest}").write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def test_reads_a_pulled_ollama_model_with_extra_fields(store: Store) -> None:
    """A registry manifest: raw bytes without newline, a legacy prompt layer, an unknown
    media type, a config with rootfs and fields pollama does not know."""
    root = store.root
    config = _blob(
        root,
        b'{"model_format":"gguf","model_family":"test","model_families":["test"],'
        b'"model_type":"0","file_type":"Q4_0","architecture":"amd64","os":"linux",'
        b'"rootfs":{"type":"layers","diff_ids":[]},"remote_host":""}',
    )
    layers = [
        {"mediaType": "application/vnd.ollama.image.model", **_blob(root, ollama_test_gguf())},
        {"mediaType": "application/vnd.ollama.image.prompt", **_blob(root, b"{{ .Prompt }}")},
        {"mediaType": "application/vnd.ollama.image.embed", **_blob(root, b"old")},
        {"mediaType": "application/vnd.ollama.image.license", **_blob(root, b"MIT")},
        {"mediaType": "application/vnd.ollama.image.license", **_blob(root, b"Apache")},
        {
            "mediaType": "application/vnd.ollama.image.params",
            **_blob(root, b'{"stop":["\\u003c|end|\\u003e"],"temperature":0.7}\n'),
        },
    ]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **config},
        "layers": layers,
    }
    raw = json.dumps(manifest, separators=(",", ":")).encode()
    path = root / "manifests/registry.ollama.ai/Me/Pulled/Q4"
    path.parent.mkdir(parents=True)
    path.write_bytes(raw)
    (root / "manifests/registry.ollama.ai/library/broken").mkdir(parents=True)
    (root / "manifests/registry.ollama.ai/library/broken/latest").write_text("{not json")
    (root / "manifests/registry.ollama.ai/library/bad name").mkdir(parents=True)
    (root / "manifests/registry.ollama.ai/library/bad name/latest").write_bytes(raw)

    model = store.get_model("me/pulled:q4")
    assert model.short_name == "Me/Pulled:Q4"
    assert model.digest == hashlib.sha256(raw).hexdigest()
    assert model.template == "{{ .Prompt }}"
    assert model.license == ["MIT", "Apache"]
    assert model.parameters == {"stop": ["<|end|>"], "temperature": 0.7}
    assert model.config["file_type"] == "Q4_0"
    assert model.size == sum(int(x["size"]) for x in [config, *layers])
    assert [m.short_name for m in store.list_models()] == ["Me/Pulled:Q4"]

    store.copy("me/pulled:q4", "copied")
    copied = store.manifest_path(store.resolve("copied"))
    assert copied.read_bytes() == raw  # byte for byte, so the digest is the same
    with pytest.raises(ModelNotFound, match="model 'nothing' not found"):
        store.delete("nothing")
