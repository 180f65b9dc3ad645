"""`POST /api/chat` against a live server: mechanics on the tiny model, behaviour on qwen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ollama
import pytest

from tests.api.generate_helpers import TINY_OPTIONS, WEATHER_TOOL, ndjson, post, server_with


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, tiny_gguf: Path) -> Iterator[str]:
    root = tmp_path_factory.mktemp("chat-models")
    with server_with(root, {"tiny": f"FROM {tiny_gguf}\n"}) as base:
        yield base


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def test_streams_assistant_chunks_ending_in_metrics(url: str) -> None:
    body = {"model": "tiny", "messages": [_user("hi")], "options": TINY_OPTIONS}
    response, chunks = ndjson(url, "/api/chat", body)
    assert response.headers["content-type"].startswith("application/x-ndjson")
    for chunk in chunks:
        assert chunk["message"]["role"] == "assistant"
        assert isinstance(chunk["message"]["content"], str)
    final = chunks[-1]
    assert final["done"] is True and final["done_reason"] == "length"
    assert final["eval_count"] == TINY_OPTIONS["num_predict"]
    assert final["prompt_eval_count"] > 0 and final["total_duration"] >= final["eval_duration"]
    assert "context" not in final


def test_multi_turn_history_with_every_role(url: str) -> None:
    messages = [
        {"role": "SYSTEM", "content": "be nice"},
        _user("what is the weather?"),
        {"role": "assistant", "content": "let me check"},
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
        _user("so?"),
    ]
    body = {"model": "tiny", "messages": messages, "stream": False, "options": TINY_OPTIONS}
    reply = post(url, "/api/chat", body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["done"] is True
    assert reply.json()["prompt_eval_count"] > len(messages)


def test_official_client_stream_equals_whole(url: str) -> None:
    client = ollama.Client(host=url)
    options = {**TINY_OPTIONS, "temperature": 0.9}
    parts = list(client.chat(model="tiny", messages=[_user("x")], stream=True, options=options))
    whole = client.chat(model="tiny", messages=[_user("x")], options=options)
    assert whole.message.content == "".join(p.message.content for p in parts)
    assert whole.done and whole.eval_count == parts[-1].eval_count


def test_empty_messages_load_and_unload(url: str) -> None:
    loaded = post(url, "/api/chat", {"model": "tiny", "messages": []}).json()
    assert loaded["done_reason"] == "load"
    assert loaded["message"] == {"role": "assistant", "content": ""}
    unloaded = post(url, "/api/chat", {"model": "tiny", "keep_alive": 0}).json()
    assert unloaded["done_reason"] == "unload"


def test_history_dropped_to_fit_is_reported(url: str) -> None:
    history = [_user("word " * 60), {"role": "assistant", "content": "ok " * 60}] * 3
    body = {
        "model": "tiny",
        "messages": [*history, _user("last")],
        "stream": False,
        "options": {**TINY_OPTIONS, "num_ctx": 128},
    }
    reply = post(url, "/api/chat", body)
    assert reply.status_code == 200, reply.text
    assert int(reply.headers["X-Pollama-Truncated"]) > 0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"model": "", "messages": [_user("x")]}, 400, "model is required"),
        ({"model": "nope", "messages": [_user("x")]}, 404, "model 'nope' not found"),
        (
            {"model": "tiny", "messages": [_user("x")], "options": {"stop": "x"}},
            400,
            'option "stop"',
        ),
        (
            {"model": "tiny", "messages": [{"role": "user", "content": "x", "images": ["aGk="]}]},
            400,
            "does not support vision",
        ),
        (
            {"model": "tiny", "messages": [_user("x")], "think": True},
            400,
            "does not support thinking",
        ),
        ({"model": "tiny", "messages": [_user("x")], "format": 3}, 400, "format"),
    ],
)
def test_errors_before_the_stream(url: str, body: dict, status: int, message: str) -> None:
    reply = post(url, "/api/chat", body)
    assert reply.status_code == status
    assert message in reply.json()["error"]


# --- behaviour on the real model ---------------------------------------------------------


@pytest.fixture(scope="module")
def qwen_url(
    tmp_path_factory: pytest.TempPathFactory, qwen_models: dict[str, str]
) -> Iterator[str]:
    with server_with(tmp_path_factory.mktemp("qwen-chat-models"), qwen_models) as base:
        yield base


@pytest.mark.starter
def test_qwen_remembers_the_conversation(qwen_url: str) -> None:
    client = ollama.Client(host=qwen_url)
    # Seeded as well as greedy: the whole prompt is evaluated, so the answer does not hang on
    # what earlier tests left in the cache.
    options = {"num_predict": 24, "num_ctx": 1024, "temperature": 0, "seed": 7, "stop": ["."]}
    messages = [
        _user("My name is Zorblat. Remember it."),
        {"role": "assistant", "content": "Got it, Zorblat."},
        _user("What is my name? Answer with the name only."),
    ]
    reply = client.chat(model="qwen2.5-coder:0.5b", messages=messages, options=options)
    assert "zorblat" in reply.message.content.lower()
    assert "." not in reply.message.content


CODE = "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n"


@pytest.mark.starter
def test_a_seeded_chat_reusing_its_replies_says_what_a_cold_runner_says(qwen_url: str) -> None:
    """Each turn reuses the last reply as it was generated, drafts and all, and its text and
    log-probabilities are those of the same messages evaluated from nothing."""
    options = {"num_predict": 80, "num_ctx": 2048, "temperature": 0.7, "seed": 5}
    messages: list[dict] = []
    for ask in (
        f"Rename each function to start with my_ and show the code:\n{CODE}",
        "Now add a docstring to each function and show all the code again.",
        "Show the code once more, exactly as last time.",
    ):
        messages.append(_user(ask))
        body = {"model": "qwen2.5-coder:0.5b", "messages": messages, "stream": False}
        warm = post(qwen_url, "/api/chat", body | {"logprobs": True, "options": options}).json()
        post(qwen_url, "/api/generate", {"model": "qwen2.5-coder:0.5b", "keep_alive": 0})
        cold = post(qwen_url, "/api/chat", body | {"logprobs": True, "options": options}).json()
        assert warm["logprobs"] and (warm["message"], warm["logprobs"]) == (
            cold["message"],
            cold["logprobs"],
        )
        if len(messages) > 1:  # the new turn, and the reply's last token
            assert warm["prompt_eval_count"] < 40 < cold["prompt_eval_count"]
        messages.append(warm["message"])


@pytest.mark.starter
def test_qwen_calls_a_tool_and_reads_its_result(qwen_url: str) -> None:
    client = ollama.Client(host=qwen_url)
    options = {"num_predict": 64, "num_ctx": 2048, "temperature": 0, "seed": 7}
    messages: list[dict] = [_user("What is the weather in Paris?")]
    reply = client.chat(
        model="qwen2.5-coder:0.5b", messages=messages, tools=[WEATHER_TOOL], options=options
    )
    (called,) = reply.message.tool_calls or []
    assert called.function.name == "get_weather"
    assert "paris" in str(called.function.arguments).lower()
    messages += [
        reply.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_name": "get_weather", "content": "Sunny, 24 degrees Celsius"},
    ]
    # The 0.5B model would call the tool again if offered it; without, it answers.
    answer = client.chat(model="qwen2.5-coder:0.5b", messages=messages, options=options)
    assert "24" in answer.message.content
