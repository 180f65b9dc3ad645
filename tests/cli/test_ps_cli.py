"""`pollama ps` and `pollama stop` against a live server, and the PROCESSOR/UNTIL columns."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from click.testing import CliRunner

from pollama.cli.main import cli
from pollama.cli.ps import _processor, _until
from tests.api.generate_helpers import create
from tests.fixtures.app_server import app_server


def _cli(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"OLLAMA_HOST": url})
    return result.exit_code, result.stdout, result.stderr


def test_processor_column_as_ollama_writes_it() -> None:
    assert _processor(1000, 0) == "100% CPU"
    assert _processor(1000, 1000) == "100% GPU"
    assert _processor(1000, 250) == "75%/25% CPU/GPU"
    assert _processor(0, 5) == "Unknown"


def test_until_column_as_ollama_writes_it() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert _until((now + timedelta(minutes=4, seconds=30)).isoformat(), now) == (
        "4 minutes from now"
    )
    assert _until((now + timedelta(days=365 * 292)).isoformat(), now) == "Forever"
    assert _until((now - timedelta(seconds=1)).isoformat(), now) == "Stopping..."


def test_ps_and_stop(isolated_store: Path, tiny_gguf: Path) -> None:
    create(isolated_store, "tiny", f"FROM {tiny_gguf}\n")
    with app_server(isolated_store) as url:
        code, out, _ = _cli(url, "ps")
        header = ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "RUNNING", "WAITING", "UNTIL"]
        assert code == 0 and out.split() == header

        body = {"model": "tiny", "keep_alive": "5m", "options": {"num_ctx": 512}}
        assert httpx.post(url + "/api/generate", json=body, timeout=60).status_code == 200
        code, out, _ = _cli(url, "ps")
        header, row = out.splitlines()
        digest = httpx.get(url + "/api/tags").json()["models"][0]["digest"]
        assert header.startswith("NAME ") and row.startswith("tiny:latest ")
        assert f" {digest[:12]} " in row
        assert "100% CPU" in row and " 512 " in row
        assert re.search(r" 512 +0 +0 ", row)  # context, running, waiting
        assert row.endswith("4 minutes from now") or row.endswith("5 minutes from now")

        code, out, err = _cli(url, "stop", "tiny")
        assert code == 0 and out == "" and err == ""
        assert httpx.get(url + "/api/ps").json() == {"models": []}

        code, _, err = _cli(url, "stop", "nosuch")
        assert code == 1 and err == 'Error: couldn\'t find model "nosuch" to stop\n'
