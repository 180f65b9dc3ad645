"""A field a family defines but pollama cannot honour is a 400 in the family's shape that
names it, before any model is looked up; its harmless values pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.inprocess import app_client

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/generate", {"model": "m", "prompt": "hi"}, "_debug_render_only"),
        ("/api/chat", CHAT, "_debug_render_only"),
        ("/v1/chat/completions", CHAT | {"logit_bias": {"7": 1}}, "logit_bias"),
        ("/v1/completions", {"model": "m", "prompt": "hi", "echo": True}, "echo"),
        ("/v1/responses", {"model": "m", "input": "hi", "background": True}, "background"),
    ],
)
async def test_refused_fields_are_named_in_the_familys_error(
    isolated_store: Path, path: str, body: dict[str, Any], field: str
) -> None:
    if field == "_debug_render_only":
        body = body | {field: True}
    async with app_client(isolated_store) as http:
        response = await http.post(path, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    if path.startswith("/api/"):
        assert error.startswith(f"{field}: pollama ")
    else:
        assert error["message"].startswith(f"{field}: pollama ")
        assert (error["param"], error["code"]) == (field, "unsupported_parameter")


async def test_anthropic_refusals_are_in_anthropics_shape(isolated_store: Path) -> None:
    body = CHAT | {"max_tokens": 4, "container": "cntr_1"}
    async with app_client(isolated_store) as http:
        response = await http.post("/v1/messages", json=body)
    assert response.status_code == 400
    reply = response.json()
    assert reply["type"] == "error" and reply["error"]["type"] == "invalid_request_error"
    assert reply["error"]["message"] == "container: pollama has no code-execution containers"


async def test_harmless_values_get_past_the_check(isolated_store: Path) -> None:
    async with app_client(isolated_store) as http:
        chat = await http.post("/api/chat", json=CHAT | {"_debug_render_only": False})
        openai = await http.post("/v1/chat/completions", json=CHAT | {"user": "u", "store": True})
    # Past the field check, the model itself is what is missing.
    assert chat.status_code == openai.status_code == 404
