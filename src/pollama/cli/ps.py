"""`pollama ps` and `pollama stop MODEL`, printed as Ollama's `ListRunningHandler` prints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from pollama.cli._errors import reports_errors
from pollama.cli._format import human_bytes, human_time, table
from pollama.client import Client, ClientError


def _processor(size: int, size_vram: int) -> str:
    """Where the model's memory is: "100% CPU", "100% GPU" or a "48%/52% CPU/GPU" split."""
    if size_vram == 0:
        return "100% CPU"
    if size_vram == size:
        return "100% GPU"
    if size_vram > size or size == 0:
        return "Unknown"
    cpu = round((size - size_vram) / size * 100)
    return f"{cpu}%/{100 - cpu}% CPU/GPU"


def _until(expires_at: str, now: datetime) -> str:
    when = datetime.fromisoformat(expires_at)
    if when < now:
        return "Stopping..."
    return human_time(when, "Never", now=now)


def _row(model: dict[str, Any], now: datetime) -> list[str]:
    return [
        model["name"],
        model["digest"][:12],
        human_bytes(model["size"]),
        _processor(model["size"], model.get("size_vram", 0)),
        str(model.get("context_length", 0)),
        str(model.get("running", 0)),
        str(model.get("waiting", 0)),
        _until(model["expires_at"], now),
    ]


@click.command("ps")
@click.argument("prefix", required=False)
@reports_errors
def ps(prefix: str | None) -> None:
    """List running models"""
    reply = Client().request("GET", "/api/ps")
    now = datetime.now(UTC)
    rows = [
        _row(m, now) for m in reply.get("models", []) if not prefix or m["name"].startswith(prefix)
    ]
    header = ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "RUNNING", "WAITING", "UNTIL"]
    for line in table(rows, header=header):
        click.echo(line)


@click.command("stop")
@click.argument("model")
@reports_errors
def stop(model: str) -> None:
    """Stop a running model"""
    try:
        # As Ollama's StopHandler: an empty generate with keep_alive 0 unloads the model.
        Client().request(
            "POST", "/api/generate", {"model": model, "keep_alive": 0, "stream": False}
        )
    except ClientError as exc:
        if exc.status_code == 404:
            raise ClientError(f'couldn\'t find model "{model}" to stop', 404) from None
        raise


def register(cli: click.Group) -> None:
    """Add `ps` and `stop` to `cli`."""
    cli.add_command(ps)
    cli.add_command(stop)
