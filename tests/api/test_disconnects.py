"""Clients that go away: their slots and queue places come back at once.

The requests here generate all but forever (a million tokens, the context shifting; greedy
decoding of the tiny model cycles without reaching its end token), so a slot that is not freed
stays taken and the next request waits for it until its timeout.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api.generate_helpers import create
from tests.fixtures.app_server import app_server

ENDLESS = {
    "model": "tiny",
    "prompt": "go",
    "options": {"num_predict": 1_000_000, "num_ctx": 128, "temperature": 0},
}
SHORT = {"model": "tiny", "prompt": "hi", "stream": False, "options": {"num_predict": 4}}


def _read_then_leave(client: httpx.Client, url: str, lines: int) -> None:
    with client.stream("POST", url + "/api/generate", json=ENDLESS) as response:
        assert response.status_code == 200
        for n, _ in enumerate(response.iter_lines()):
            if n >= lines:
                break


def test_200_random_disconnects_leave_every_slot_usable(
    isolated_store: Path, tiny_gguf: Path
) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    with app_server(isolated_store, OLLAMA_NUM_PARALLEL="2") as url:
        rng = random.Random(7)
        with httpx.Client(timeout=30) as client:
            for _ in range(200):
                _read_then_leave(client, url, rng.randrange(0, 5))
        # Both slots are free again: two endless streams start side by side, and a third
        # request still finds room once they are gone.
        with (
            httpx.Client(timeout=10) as a,
            httpx.Client(timeout=10) as b,
            a.stream("POST", url + "/api/generate", json=ENDLESS) as first,
            b.stream("POST", url + "/api/generate", json=ENDLESS) as second,
        ):
            assert next(first.iter_lines()) and next(second.iter_lines())
        reply = httpx.post(url + "/api/generate", json=SHORT, timeout=10)
        assert reply.status_code == 200 and reply.json()["done"] is True


def test_a_queued_request_whose_client_left_gives_up_its_place(
    isolated_store: Path, tiny_gguf: Path
) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    env = {"OLLAMA_NUM_PARALLEL": "1", "OLLAMA_MAX_QUEUE": "1"}
    with app_server(isolated_store, **env) as url, httpx.Client(timeout=30) as holder:
        with holder.stream("POST", url + "/api/generate", json=ENDLESS) as running:
            lines = running.iter_lines()
            assert next(lines)  # the one slot is taken for good
            # This one waits in the one queue place, and its client gives up.
            with pytest.raises(httpx.ReadTimeout):
                httpx.post(url + "/api/generate", json=ENDLESS, timeout=0.5)
            time.sleep(2)  # the server looks for gone clients every 0.1 s; it is busy streaming
            # Its place is free again: the next request queues (rather than a 503) and is
            # answered once the running stream ends.
            result: dict[str, httpx.Response] = {}
            waiter = threading.Thread(
                target=lambda: result.update(
                    reply=httpx.post(url + "/api/generate", json=SHORT, timeout=30)
                )
            )
            waiter.start()
            time.sleep(0.5)
            next(lines)
        waiter.join()
        assert result["reply"].status_code == 200, result["reply"].text
        assert result["reply"].json()["done"] is True
