"""Creating models writes Ollama's store: layers, config, manifest last, old blobs pruned."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pollama.capabilities import capabilities
from pollama.create import create_from_modelfile, create_from_request
from pollama.errors import InvalidRequest, ModelNotFound
from pollama.gguf import read_gguf
from pollama.store import Store


@pytest.fixture
def store(isolated_store: Path) -> Store:
    return Store(isolated_store)


def create(store: Store, name: str, text: str, **kw: object) -> list[str]:
    return list(create_from_modelfile(store, name, text, **kw))  # type: ignore[arg-type]


def test_create_from_gguf_then_read_back(store: Store, tiny_gguf: Path) -> None:
    statuses = create(
        store,
        "tiny",
        f"FROM {tiny_gguf}\nSYSTEM Be brief.\nPARAMETER stop <x>\nPARAMETER top_k 5\n"
        "LICENSE MIT\nMESSAGE user hi",
    )
    assert statuses[0] == "parsing modelfile" and statuses[-2:] == ["writing manifest", "success"]
    model = store.get_model("TINY:latest")
    assert model.short_name == "tiny:latest"
    assert model.system == "Be brief." and model.license == ["MIT"]
    assert model.parameters == {"stop": ["<x>"], "top_k": 5}
    assert model.messages == [{"role": "user", "content": "hi"}]
    assert model.model_path is not None
    assert model.model_path.read_bytes() == tiny_gguf.read_bytes()
    assert model.config["model_family"] == "llama" and model.config["model_format"] == "gguf"
    assert "completion" in capabilities(model)
    manifest = store.manifest_path(model.name).read_bytes()
    assert model.digest == hashlib.sha256(manifest).hexdigest()
    assert [m.short_name for m in store.list_models()] == ["tiny:latest"]


def test_from_existing_model_inherits_and_overrides(store: Store, tiny_gguf: Path) -> None:
    create(store, "base", f"FROM {tiny_gguf}\nSYSTEM one\nPARAMETER top_k 5")
    create(store, "child", "FROM base\nSYSTEM two\nPARAMETER temperature 0.5")
    child = store.get_model("child")
    assert child.system == "two"
    assert child.parameters == {"top_k": 5, "temperature": 0.5}
    assert child.parent_model == "base:latest"
    assert child.model_path == store.get_model("base").model_path


def test_copy_and_delete_prune_only_orphans(store: Store, tiny_gguf: Path) -> None:
    create(store, "a", f"FROM {tiny_gguf}\nSYSTEM only-a")
    store.copy("a", "b")
    assert (
        store.manifest_path(store.resolve("b")).read_bytes()
        == store.manifest_path(store.resolve("a")).read_bytes()
    )
    store.delete("a")
    model_b = store.get_model("b")
    assert model_b.model_path is not None and model_b.model_path.exists()
    store.delete("b")
    assert list((store.root / "blobs").iterdir()) == []
    with pytest.raises(ModelNotFound):
        store.delete("b")


def test_json_form_uses_uploaded_blobs(store: Store, tiny_gguf: Path) -> None:
    digest = store.write_blob([tiny_gguf.read_bytes()])
    list(create_from_request(store, "j", files={"tiny.gguf": digest}, template="{{ .Prompt }}"))
    assert store.get_model("j").template == "{{ .Prompt }}"
    with pytest.raises(InvalidRequest, match="neither 'from' or 'files'"):
        list(create_from_request(store, "k"))
    with pytest.raises(InvalidRequest, match="file path must be relative"):
        list(create_from_request(store, "k", files={"../x.gguf": digest}))


def test_bad_template_is_rejected_and_leaves_no_model(store: Store, tiny_gguf: Path) -> None:
    with pytest.raises(InvalidRequest, match="template error"):
        create(store, "bad", f"FROM {tiny_gguf}\nTEMPLATE {{{{ .Prompt")
    with pytest.raises(ModelNotFound):
        store.get_model("bad")


def test_unknown_base_model_is_not_found(store: Store) -> None:
    with pytest.raises(ModelNotFound):
        create(store, "x", "FROM nothing-here")


def test_non_gguf_file_is_rejected(store: Store, tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"\0" * 64)
    with pytest.raises(InvalidRequest, match="not in GGUF format"):
        create(store, "x", f"FROM {junk}")


def test_quantize_f32_to_q8_0_with_llama_cpp(store: Store, tiny_gguf: Path) -> None:
    statuses = create(store, "q", f"FROM {tiny_gguf}", quantize="q8_0")
    assert "quantizing F32 model to Q8_0" in statuses
    model = store.get_model("q")
    assert model.model_path is not None
    assert read_gguf(model.model_path).file_type == "Q8_0"
    assert model.config["file_type"] == "Q8_0"
    with pytest.raises(InvalidRequest, match="only supported for F16, BF16 and F32"):
        create(store, "qq", "FROM q", quantize="q4_K_M")
    with pytest.raises(InvalidRequest, match="unsupported quantization type"):
        create(store, "qq", f"FROM {tiny_gguf}", quantize="q3_bogus")


def test_reads_a_store_written_by_ollama(store: Store, tiny_gguf: Path) -> None:
    """A manifest and blobs laid out by hand exactly as Ollama writes them."""
    blobs = store.root / "blobs"
    blobs.mkdir(parents=True)

    def blob(data: bytes) -> tuple[str, int]:
        hexd = hashlib.sha256(data).hexdigest()
        (blobs / f"sha256-{hexd}").write_bytes(data)
        return f"sha256:{hexd}", len(data)

    model_digest, model_size = blob(tiny_gguf.read_bytes())
    tmpl_digest, tmpl_size = blob(b"{{ .Prompt }}")
    cfg = (
        b'{"model_format":"gguf","model_family":"llama","model_families":["llama"],'
        b'"model_type":"107K","file_type":"F32","architecture":"amd64","os":"linux"}\n'
    )
    cfg_digest, cfg_size = blob(cfg)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": cfg_digest,
            "size": cfg_size,
        },
        "layers": [
            {
                "mediaType": "application/vnd.ollama.image.model",
                "digest": model_digest,
                "size": model_size,
            },
            {
                "mediaType": "application/vnd.ollama.image.template",
                "digest": tmpl_digest,
                "size": tmpl_size,
            },
        ],
    }
    path = store.root / "manifests/registry.ollama.ai/library/handmade/7b"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(manifest))
    model = store.get_model("handmade:7b")
    assert model.template == "{{ .Prompt }}"
    assert model.config["model_type"] == "107K"
    assert model.size == model_size + tmpl_size + cfg_size
    assert store.list_models()[0].short_name == "handmade:7b"


@pytest.mark.parametrize("filename", ["./x.gguf", "a//b.gguf", "/abs.gguf", "a/../b.gguf", ""])
def test_file_names_must_be_go_valid_paths(store: Store, tiny_gguf: Path, filename: str) -> None:
    digest = store.write_blob([tiny_gguf.read_bytes()])
    with pytest.raises(InvalidRequest, match="file path must be relative"):
        list(create_from_request(store, "k", files={filename: digest}))


def test_empty_file_digest_is_invalid_format(store: Store) -> None:
    with pytest.raises(InvalidRequest, match="invalid digest format"):
        list(create_from_request(store, "k", files={"0.gguf": ""}))


def test_a_draft_model_is_a_draft_layer_inherited_and_checked(
    store: Store, tiny_gguf: Path, deep_tiny_gguf: Path, other_vocab_gguf: Path
) -> None:
    create(store, "deep", f"FROM {deep_tiny_gguf}\nDRAFT {tiny_gguf}")
    draft = store.get_model("deep").draft_path
    assert draft is not None and draft.read_bytes() == tiny_gguf.read_bytes()
    create(store, "child", "FROM deep\nSYSTEM hi")
    assert store.get_model("child").draft_path == draft
    with pytest.raises(InvalidRequest, match="the draft model must differ from the model"):
        create(store, "self", f"FROM {tiny_gguf}\nDRAFT {tiny_gguf}")
    with pytest.raises(InvalidRequest, match=r"draft 'nowhere\.gguf' not found"):
        create(store, "x", f"FROM {tiny_gguf}\nDRAFT nowhere.gguf")
    with pytest.raises(InvalidRequest, match="vocabulary does not match the model's: 460 tokens"):
        create(store, "x", f"FROM deep\nDRAFT {other_vocab_gguf}")
    with pytest.raises(ModelNotFound):
        store.get_model("x")
