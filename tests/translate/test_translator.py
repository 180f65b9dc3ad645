"""The client loop on a real server with the tiny model, whose answers are never Chinese:
every check fails, every retry is made, and nothing is dropped or moved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from pollama.client import AsyncClient, ClientError
from pollama.translate import Settings, read_document, translate_text
from pollama.translate.translator import server_parallel
from pollama.translate.units import split_cue
from tests.api.generate_helpers import create
from tests.fixtures.app_server import app_server
from tests.fixtures.server import free_port

SRT = "".join(
    f"{n}\n00:00:0{n},000 --> 00:00:0{n},900\n{text}\n\n"
    for n, text in enumerate(["Hello.", "♪ ♪", "- Hi.\n- Bye.", "Good night."], start=1)
)


def test_answers_that_never_pass_are_retried_then_left_in_the_source_and_reported(
    isolated_store: Path, tiny_gguf: Path
) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    with app_server(isolated_store, OLLAMA_NUM_PARALLEL="2") as url:
        settings = Settings(model="tiny", target="zh", batch_size=2, tries_alone=2)
        result = translate_text(SRT, "srt", settings, base_url=url)
    summary = result.summary
    keys = [u.key for c in read_document(SRT, "srt").cues for u in split_cue(c).units]
    assert keys == ["1.1", "3.1", "3.2", "4.1"]
    assert summary.parallel == 2  # what the server's /api/ps says
    assert (summary.cues, summary.passed_through, summary.parts) == (4, 1, 4)
    # Every part is either translated or named as left untranslated, never lost.
    translated = len(keys) - len(summary.untranslated)
    assert set(summary.untranslated) <= set(keys)
    if not summary.untranslated:
        pytest.fail("the tiny model's gibberish passed as Chinese")
    assert summary.batches == 2 and summary.batches_retried >= 1
    # A batch retry for each failing batch, then two tries alone for each part still failing.
    assert summary.retries == summary.batches_retried + 2 * len(summary.untranslated) + (
        summary.requests - summary.batches - summary.batches_retried - 2 * len(summary.untranslated)
    )
    assert translated + len(summary.untranslated) == 4
    if translated == 0:
        assert result.text == SRT  # nothing passed: the file comes back as it was
    timing = [line for line in result.text.splitlines() if "-->" in line]
    assert timing == [line for line in SRT.splitlines() if "-->" in line]


def test_without_a_server_the_message_says_to_start_one() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ClientError, match="could not connect to pollama server"):
        translate_text(SRT, "srt", Settings(model="tiny"), base_url=url)


def test_a_server_that_does_not_report_its_slots_gets_one_batch_at_a_time() -> None:
    """Ollama's `/api/ps` has no `num_parallel`: its reply, as Ollama writes it."""

    def ollama(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/generate":
            return httpx.Response(200, json={"model": "m", "done": True, "done_reason": "load"})
        return httpx.Response(
            200,
            json={
                "models": [
                    {
                        "name": "m:latest",
                        "model": "m:latest",
                        "size": 1,
                        "digest": "ab" * 32,
                        "details": {"format": "gguf"},
                        "expires_at": "2026-12-02T01:00:00.5+01:00",
                        "size_vram": 0,
                        "context_length": 4096,
                    }
                ]
            },
        )

    async def parallel() -> int:
        client = AsyncClient("http://ollama", transport=httpx.MockTransport(ollama))
        try:
            return await server_parallel(client, "m")
        finally:
            await client.aclose()

    assert asyncio.run(parallel()) == 1
