"""Blobs serialise byte for byte as Go writes them: digests pinned from Ollama's tests."""

from __future__ import annotations

import hashlib

import pytest

from pollama.store import Layer, Manifest, gojson
from pollama.store.manifest import CONFIG_MEDIA_TYPE, MODEL, config_json


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("value", "digest"),
    [
        (
            {"stop": ["USER:", "ASSISTANT:"], "temperature": 1.0, "top_k": 10},
            "1d0ad71299d48c2fb7ae2b98e683643e771f8a5b72be34942af90d97a91c1e37",
        ),
        (
            {"top_p": 0.7, "stop": ["USER:", "ASSISTANT:"], "temperature": 0.6, "top_k": 10},
            "e29a7b3c47287a2489c895d21fe413c20f859a85d20e749492f52a838e36e1ba",
        ),
        (
            {"stop": ["<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]},
            "0d79f567714c62c048378f2107fb332dabee0135d080c302d884317da9433cc5",
        ),
    ],
)
def test_params_digests_match_ollama(value: dict[str, object], digest: str) -> None:
    assert sha(gojson.encode_line(value, sort_keys=True)) == digest


def test_manifest_bytes_match_ollama() -> None:
    manifest = Manifest(
        config=Layer(
            CONFIG_MEDIA_TYPE,
            "sha256:99759ad5b91e723db0393d698ffbb448b1b7df5ff6377a108c49254583b1bc8c",
            147,
        ),
        layers=(
            Layer(
                MODEL,
                "sha256:89a2116c3a82d6a97f59f748d86ed4417214353fd178ee54df418fde32495fad",
                68,
            ),
        ),
    )
    expected = (
        b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        b'"config":{"mediaType":"application/vnd.docker.container.image.v1+json",'
        b'"digest":"sha256:99759ad5b91e723db0393d698ffbb448b1b7df5ff6377a108c49254583b1bc8c",'
        b'"size":147},"layers":[{"mediaType":"application/vnd.ollama.image.model",'
        b'"digest":"sha256:89a2116c3a82d6a97f59f748d86ed4417214353fd178ee54df418fde32495fad",'
        b'"size":68}]}\n'
    )
    assert manifest.to_bytes() == expected
    assert Manifest.from_bytes(expected) == manifest


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.6, "0.6"),
        (1e-7, "1e-7"),
        (2.5e-7, "2.5e-7"),
        (1e21, "1e+21"),
        (1e-5, "0.00001"),
        (1e16, "10000000000000000"),
        (-0.0, "-0"),
        ("a&b", '"a\\u0026b"'),
        ("é\u2028", '"é\\u2028"'),
        ({"b": 1, "a": [gojson.Struct(z=1, y=2)]}, '{"a":[{"z":1,"y":2}],"b":1}'),
    ],
)
def test_go_number_and_string_formatting(value: object, text: str) -> None:
    assert gojson.encode(value, sort_keys=True) == text


def test_float32_rounding_matches_go_client() -> None:
    assert gojson.float32(0.123456789) == 0.12345679
    assert gojson.float32(0.7) == 0.7


@pytest.mark.parametrize(
    ("diff_ids", "expected"),
    [
        # The newest, rootfs-less config form (Ollama HEAD).
        (None, "99759ad5b91e723db0393d698ffbb448b1b7df5ff6377a108c49254583b1bc8c"),
        # `TestCreateFromBin` (server/routes_create_test.go) expects this config blob.
        (
            ["sha256:89a2116c3a82d6a97f59f748d86ed4417214353fd178ee54df418fde32495fad"],
            "6bcdb8859d417753645538d7bbfbd7ca91a3f0c191aef5379c53c05e86b669dd",
        ),
    ],
    ids=["rootfs-less", "with-rootfs"],
)
def test_config_blob_digests_match_ollama(diff_ids: list[str] | None, expected: str) -> None:
    cfg = config_json(
        model_format="gguf",
        model_family="test",
        model_families=["test"],
        model_type="0",
        file_type="unknown",
        diff_ids=diff_ids,
    )
    assert sha(gojson.encode_line(cfg)) == expected
