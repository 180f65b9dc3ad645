"""Around the routes: bodies read as JSON whatever their type, foreign origins refused, and
gin's plain answers for routes that do not exist."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.app_server import app_server

SHOW_NOPE = b'{"model": "nope"}'


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("middleware-models")
    with app_server(root, OLLAMA_ORIGINS="https://friend.example") as base:
        yield base


@pytest.mark.parametrize(
    "content_type",
    [None, "application/x-www-form-urlencoded", "text/plain", "application/json"],
)
def test_a_body_is_json_whatever_its_content_type(url: str, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    reply = httpx.post(url + "/api/show", content=SHOW_NOPE, headers=headers)
    assert reply.status_code == 404
    assert reply.json() == {"error": "model 'nope:latest' not found"}


def test_a_request_from_a_foreign_origin_is_refused(url: str) -> None:
    headers = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
    reply = httpx.post(url + "/api/show", content=SHOW_NOPE, headers=headers)
    assert reply.status_code == 403
    assert "access-control-allow-origin" not in reply.headers


@pytest.mark.parametrize("origin", ["http://localhost:3000", "https://friend.example"])
def test_local_and_configured_origins_are_served(url: str, origin: str) -> None:
    reply = httpx.get(url + "/api/version", headers={"Origin": origin})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == origin
    preflight = httpx.options(
        url + "/api/chat",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-stainless-os",
        },
    )
    assert preflight.status_code == 200


def test_requests_without_an_origin_are_served(url: str) -> None:
    assert httpx.get(url + "/api/version").status_code == 200


def test_unknown_routes_and_methods_answer_as_gin_does(url: str) -> None:
    missing = httpx.get(url + "/api/nothing")
    assert (missing.status_code, missing.text) == (404, "404 page not found")
    wrong = httpx.get(url + "/api/chat")
    assert (wrong.status_code, wrong.text) == (405, "405 method not allowed")
