"""Names to registry URLs, Go's query encoding, challenges, credentials, the httpx table."""

from __future__ import annotations

import base64
import inspect
import json
from pathlib import Path

import httpx
import pytest

from pollama import config
from pollama.registry.auth import Challenge, Credentials, CredentialStore
from pollama.registry.errors import HTTPX_ERRORS, TransferFailed, map_httpx_errors
from pollama.registry.names import Repository
from pollama.store import ModelName


@pytest.mark.parametrize(
    ("name", "insecure", "manifest_url"),
    [
        ("llama3.2", False, "https://registry.ollama.ai/v2/library/llama3.2/manifests/latest"),
        ("me/model:q4", False, "https://registry.ollama.ai/v2/me/model/manifests/q4"),
        (
            "hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M",
            False,
            "https://hf.co/v2/bartowski/Llama-3.2-1B-GGUF/manifests/Q4_K_M",
        ),
        ("host:5000/ns/model:tag", True, "http://host:5000/v2/ns/model/manifests/tag"),
        # A scheme in the name is ignored: only `insecure` selects plain HTTP.
        ("http://host:5000/ns/model:tag", False, "https://host:5000/v2/ns/model/manifests/tag"),
        ("https://host:5000/ns/model", True, "http://host:5000/v2/ns/model/manifests/latest"),
    ],
)
def test_names_become_registry_urls(name: str, insecure: bool, manifest_url: str) -> None:
    repo = Repository.of(ModelName.parse(name), insecure=insecure)
    assert repo.manifest_url() == manifest_url
    digest = "sha256:" + "ab" * 32
    assert repo.blob_url(digest) == manifest_url.split("/manifests/")[0] + f"/blobs/{digest}"
    assert repo.uploads_url() == manifest_url.split("/manifests/")[0] + "/blobs/uploads/"


def test_token_url_is_encoded_as_gos_url_values() -> None:
    challenge = Challenge.parse(
        'Bearer realm="https://registry.ollama.ai/v2/token",service="registry.ollama.ai",'
        'scope="repository:library/llama3:pull"'
    )
    assert challenge == Challenge(
        "bearer",
        "https://registry.ollama.ai/v2/token",
        "registry.ollama.ai",
        "repository:library/llama3:pull",
    )
    url = challenge.token_url(now=1700000000, nonce="abc-_")
    assert url == (
        "https://registry.ollama.ai/v2/token?nonce=abc-_&scope=repository%3Alibrary%2Fllama3%3Apull"
        "&service=registry.ollama.ai&ts=1700000000"
    )


def test_basic_challenge_parses() -> None:
    assert Challenge.parse('Basic realm="Registry Realm"') == Challenge("basic", "Registry Realm")


def test_credentials_come_from_docker_config_then_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    auths = {
        "https://reg.example:5000/v1/": {"auth": base64.b64encode(b"alice:s3:cret").decode()},
        "other.example": {"username": "bob", "password": "pw"},
        "tok.example": {"registrytoken": "T0K"},
    }
    config.write_text(json.dumps({"auths": auths}))
    fallback = Credentials("env-user", "env-pw")
    store = CredentialStore(config, fallback)
    assert store.for_host("reg.example:5000") == Credentials("alice", "s3:cret")
    assert store.for_host("OTHER.example") == Credentials("bob", "pw")
    assert store.for_host("tok.example") == Credentials(token="T0K")
    assert store.for_host("elsewhere") == fallback
    assert CredentialStore(tmp_path / "missing.json").for_host("reg.example:5000") is None


def _httpx_errors() -> list[type[httpx.HTTPError]]:
    return [
        obj
        for obj in vars(httpx).values()
        if inspect.isclass(obj) and issubclass(obj, httpx.HTTPError)
    ]


def test_every_httpx_error_has_its_own_row() -> None:
    rows = [kind for kind, _ in HTTPX_ERRORS]
    assert set(_httpx_errors()) <= set(rows)
    # Most specific first: no row is shadowed by a base class above it.
    for i, kind in enumerate(rows):
        assert not any(issubclass(kind, earlier) for earlier in rows[:i]), kind


def test_httpx_errors_leave_the_boundary_as_transfer_failed() -> None:
    with pytest.raises(TransferFailed, match="stalled") as caught, map_httpx_errors():
        raise httpx.ReadTimeout("timed out")
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize(
    ("value", "rate"),
    [
        ("", 0),
        ("1000", 1000),
        ("500K", 500_000),
        ("10MB", 10_000_000),
        ("1.5g", 1_500_000_000),
        ("10MiB/s", 10 * 1024 * 1024),
        ("fast", 0),
    ],
)
def test_max_download_speed_reads_units(
    monkeypatch: pytest.MonkeyPatch, value: str, rate: int
) -> None:
    monkeypatch.setenv("OLLAMA_MAX_DOWNLOAD_SPEED", value)
    assert config.max_download_speed() == rate
