"""Auth against docker-registry: htpasswd Basic auth with `docker login` credentials, token
auth with credentials, and token auth answered with Ollama's ed25519-signed challenge."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pollama.registry import RegistrySettings
from pollama.registry.push import UploadSettings
from pollama.store import Store
from tests.fixtures.server import free_port
from tests.registry.conftest import create_tiny, pollama, progress, push_tiny
from tests.registry.front import ISSUER, SERVICE, Front, TokenSigner, front_of
from tests.registry.registries import docker_config, docker_registry, htpasswd_line

USER, PASSWORD = "alice", "wonderland"


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("basic-registry")
    (root / "htpasswd").write_text(htpasswd_line(USER, PASSWORD))
    auth = {"htpasswd": {"realm": "pollama-tests", "path": str(root / "htpasswd")}}
    with docker_registry(root, auth) as host:
        yield host


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Front, str]]:
    """docker-registry behind a front that is also its token endpoint (the same host, as
    registry.ollama.ai's realm is)."""
    root = tmp_path_factory.mktemp("token-registry")
    port = free_port()
    signer = TokenSigner(root)
    auth = {
        "token": {
            "realm": f"http://127.0.0.1:{port}/token",
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(signer.bundle),
        }
    }
    with docker_registry(root, auth) as upstream:
        front = Front(upstream, signer, {USER: PASSWORD})
        with front_of(front, port) as host:
            yield front, host


async def _round_trip(tmp_path: Path, gguf: Path, name: str, config: Path | None) -> None:
    create_tiny(tmp_path / "a", gguf, name)
    async with pollama(tmp_path / "a", tmp_path / "keys" / "id_ed25519", docker_config=config) as a:
        pushed = await progress(a, "/api/push", {"model": name, "insecure": True})
    assert pushed[-1] == {"status": "success"}, pushed[-1]
    async with pollama(tmp_path / "b", tmp_path / "keys" / "id_ed25519", docker_config=config) as b:
        pulled = await progress(b, "/api/pull", {"model": name, "insecure": True})
    assert pulled[-1] == {"status": "success"}, pulled[-1]


async def test_basic_auth_with_docker_login_credentials(
    basic_registry: str, tmp_path: Path, tiny_gguf: Path
) -> None:
    config = docker_config(tmp_path / "docker", basic_registry, USER, PASSWORD)
    await _round_trip(tmp_path, tiny_gguf, f"{basic_registry}/team/tiny:latest", config)


async def test_basic_auth_without_credentials_says_how_to_log_in(
    basic_registry: str, tmp_path: Path, tiny_gguf: Path
) -> None:
    name = f"{basic_registry}/team/tiny:latest"
    async with pollama(tmp_path / "b", tmp_path / "key") as b:
        lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    error = lines[-1]["error"]
    assert error.startswith("pull model manifest: unauthorized: access denied")
    assert "docker login" in error and "OLLAMA_REGISTRY_USERNAME" in error
    del tiny_gguf


async def test_basic_auth_with_a_wrong_password_is_unauthorized(
    basic_registry: str, tmp_path: Path, tiny_gguf: Path
) -> None:
    config = docker_config(tmp_path / "docker", basic_registry, USER, "not-it")
    create_tiny(tmp_path / "a", tiny_gguf, f"{basic_registry}/team/wrong:latest")
    async with pollama(tmp_path / "a", tmp_path / "key", docker_config=config) as a:
        lines = await progress(
            a, "/api/push", {"model": f"{basic_registry}/team/wrong:latest", "insecure": True}
        )
    assert lines[-1] == {"error": "unauthorized: access denied"}


async def test_token_auth_with_docker_login_credentials(
    token_registry: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    front, host = token_registry
    config = docker_config(tmp_path / "docker", host, USER, PASSWORD)
    await _round_trip(tmp_path, tiny_gguf, f"{host}/team/token-basic:latest", config)
    assert f"basic:{USER}" in front.token_grants


async def test_token_auth_answered_with_ollamas_signed_challenge(
    token_registry: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    front, host = token_registry
    front.token_grants.clear()
    await _round_trip(tmp_path, tiny_gguf, f"{host}/team/token-signed:latest", None)
    key = tmp_path / "keys" / "id_ed25519"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = (tmp_path / "keys" / "id_ed25519.pub").read_text().split()
    assert public[0] == "ssh-ed25519"
    assert front.token_grants and set(front.token_grants) == {f"ed25519:{public[1]}"}


async def test_token_auth_refused_is_unauthorized(
    token_registry: tuple[Front, str], tmp_path: Path
) -> None:
    _, host = token_registry
    config = docker_config(tmp_path / "docker", host, "mallory", "guess")
    async with pollama(tmp_path / "b", tmp_path / "key", docker_config=config) as b:
        lines = await progress(b, "/api/pull", {"model": f"{host}/team/x:latest", "insecure": True})
    assert lines[-1] == {"error": "pull model manifest: unauthorized: access denied"}


async def test_blobs_redirected_to_a_cdn_are_fetched_there_without_credentials(
    token_registry: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    front, host = token_registry
    name = f"{host}/team/cdn:latest"
    config = docker_config(tmp_path / "docker", host, USER, PASSWORD)
    await push_tiny(tmp_path, tiny_gguf, name, docker_config=config)
    front.cdn = host.replace("127.0.0.1", "localhost")  # another origin, the same front
    front.cdn_authorizations.clear()
    try:
        async with pollama(tmp_path / "b", tmp_path / "key", docker_config=config) as b:
            lines = await progress(b, "/api/pull", {"model": name, "insecure": True})
    finally:
        front.cdn = None
    assert lines[-1] == {"status": "success"}
    assert len(front.cdn_authorizations) == 2  # the model and the config
    assert set(front.cdn_authorizations) == {""}  # the registry's token stayed with it


async def test_upload_parts_redirected_to_storage_are_put_there_without_credentials(
    token_registry: tuple[Front, str], tmp_path: Path, tiny_gguf: Path
) -> None:
    front, host = token_registry
    name = f"{host}/team/storage:latest"
    config = docker_config(tmp_path / "docker", host, USER, PASSWORD)
    create_tiny(tmp_path / "a", tiny_gguf, name)
    settings = RegistrySettings(upload=UploadSettings(min_part=100_000, max_part=100_000))
    front.storage_host = host.replace("127.0.0.1", "localhost")
    front.storage_authorizations.clear()
    try:
        async with pollama(
            tmp_path / "a", tmp_path / "key", docker_config=config, settings=settings
        ) as a:
            pushed = await progress(a, "/api/push", {"model": name, "insecure": True})
    finally:
        front.storage_host = None
    assert pushed[-1] == {"status": "success"}
    assert len(front.storage_authorizations) == 5  # the model in 4 parts, and the config
    assert set(front.storage_authorizations) == {""}
    async with pollama(tmp_path / "b", tmp_path / "key", docker_config=config) as b:
        pulled = await progress(b, "/api/pull", {"model": name, "insecure": True})
    assert pulled[-1] == {"status": "success"}
    model = Store(tmp_path / "a").read_manifest(name)[1].layers[0]
    assert Store(tmp_path / "b").blob_is_whole(model.digest, model.size)
