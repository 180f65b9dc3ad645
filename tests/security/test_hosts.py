"""Where the server listens, and which `Host` headers it answers (DNS rebinding)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pollama import config
from pollama.api.middleware import allowed_host, is_loopback_listener, machine_addresses
from tests.fixtures.app import asgi_client
from tests.fixtures.server import free_port, live_server, server_env, wait_until_serving


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        ("0.0.0.0:8080", "http://0.0.0.0:8080"),
        ("[::1]:9000", "http://[::1]:9000"),
        ("[::]", "http://[::]:11434"),
        ("http://[::1]", "http://[::1]:80"),
        ("https://example.com", "https://example.com:443"),
        ("http://10.0.0.2:1234/ollama/", "http://10.0.0.2:1234/ollama"),
        ('  "localhost:7777"  ', "http://localhost:7777"),
    ],
)
def test_ollama_host_is_read_as_ollama_reads_it(
    monkeypatch: pytest.MonkeyPatch, value: str, url: str
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", value)
    assert config.host().url == url


@pytest.mark.parametrize(
    ("listen", "checked"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.4", False)],
)  # fmt: skip
def test_only_a_loopback_listener_checks_hosts(listen: str, checked: bool) -> None:
    assert is_loopback_listener(listen) is checked


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST:11434", "127.0.0.1:11434", "127.9.9.9", "[::1]:11434", "[::1]",
     "0.0.0.0:11434", "10.1.2.3", "172.16.0.1", "192.168.0.10:80", "[fd00::1]:1",
     "printer.local", "box.internal:8080", "app.localhost", "", socket.gethostname()],
)  # fmt: skip
def test_names_of_this_machine_are_allowed(host: str) -> None:
    assert allowed_host(host, machine_addresses())


@pytest.mark.parametrize(
    "host",
    ["evil.example.com", "evil.example.com:11434", "8.8.8.8", "[2001:db8::1]:11434",
     "localhost.evil.example", "172.32.0.1", "169.254.1.1", "local", "internal"],
)  # fmt: skip
def test_other_hosts_are_refused(host: str) -> None:
    assert not allowed_host(host, machine_addresses())


async def test_a_foreign_host_gets_403_without_a_body(isolated_store: Path) -> None:
    async with asgi_client(isolated_store) as client:
        reply = await client.get("/api/tags", headers={"Host": "evil.example.com"})
        assert (reply.status_code, reply.content) == (403, b"")
        posted = await client.post(
            "/api/create", json={"model": "x", "from": "y"}, headers={"Host": "evil.example.com"}
        )
        assert posted.status_code == 403
        assert (
            await client.get("/api/tags", headers={"Host": "localhost:11434"})
        ).status_code == 200


async def test_plain_options_to_an_allowed_name_is_204(isolated_store: Path) -> None:
    async with asgi_client(isolated_store) as client:
        reply = await client.options("/api/chat", headers={"Host": "localhost"})
        assert reply.status_code == 204


async def test_a_preflight_to_localhost_gets_its_cors_headers(isolated_store: Path) -> None:
    """A page on http://localhost:3000 calling http://localhost:11434 asks first."""
    headers = {
        "Host": "localhost:11434",
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with asgi_client(isolated_store) as client:
        reply = await client.options("/api/chat", headers=headers)
        assert reply.status_code == 200
        assert reply.headers["access-control-allow-origin"] == "http://localhost:3000"
        foreign = await client.options("/api/chat", headers={**headers, "Host": "evil.example"})
        assert foreign.status_code == 403


async def test_a_public_listener_answers_any_host(isolated_store: Path) -> None:
    async with asgi_client(isolated_store, listen_host="0.0.0.0") as client:
        reply = await client.get("/api/tags", headers={"Host": "pollama.example.com"})
        assert reply.status_code == 200


def test_the_default_server_refuses_a_rebound_name(isolated_store: Path) -> None:
    """The issue's reproduction: `Host: evil.example.com` to a server on 127.0.0.1."""
    with live_server(isolated_store) as url:
        assert (
            httpx.get(url + "/api/version", headers={"Host": "evil.example.com"}).status_code == 403
        )
        assert httpx.get(url + "/api/version").status_code == 200


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_a_server_listens_on_ipv6_loopback(isolated_store: Path) -> None:
    port = free_port()
    env = server_env(isolated_store, port, OLLAMA_HOST=f"[::1]:{port}")
    proc = subprocess.Popen([sys.executable, "-m", "pollama", "serve"], env=env)
    url = f"http://[::1]:{port}"
    try:
        wait_until_serving(proc, url)
        assert httpx.get(url + "/api/version").json()["version"]
        assert httpx.get(url + "/", headers={"Host": "evil.example"}).status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=15)
