"""`pollama pull` and `pollama push`: a model to or from a registry, with Ollama's progress.

Both stream the server's progress (`/api/pull`, `/api/push`) into `progress.show_progress`:
bars with speed and time left on a terminal, plain lines elsewhere. `run` pulls a model it
cannot find through `pull_model`, as Ollama's `run` does.
"""

from __future__ import annotations

import click

from pollama.cli._errors import reports_errors
from pollama.cli.progress import progress_view, show_progress
from pollama.client import Client, ClientError
from pollama.store import ModelName

# Hosts whose pushed models have a page on ollama.com (Ollama's PushHandler checks these).
_OLLAMA_HOSTS = (".ollama.ai", ".ollama.com")
NOT_AUTHORIZED = (
    "you are not authorized to push to this namespace, create the model under a namespace you own"
)


def pull_model(client: Client, model: str, insecure: bool = False) -> None:
    """Pull `model` through the server, showing its progress."""
    body = {"model": model, "insecure": insecure, "stream": True}
    with progress_view() as view:
        show_progress(client.stream("POST", "/api/pull", body), view)


@click.command("pull")
@click.argument("model")
@click.option("--insecure", is_flag=True, help="Use an insecure registry")
@reports_errors
def pull(model: str, insecure: bool) -> None:
    """Pull a model from a registry"""
    pull_model(Client(), model, insecure)


@click.command("push")
@click.argument("model")
@click.option("--insecure", is_flag=True, help="Use an insecure registry")
@reports_errors
def push(model: str, insecure: bool) -> None:
    """Push a model to a registry"""
    body = {"model": model, "insecure": insecure, "stream": True}
    try:
        with progress_view() as view:
            show_progress(Client().stream("POST", "/api/push", body), view)
    except ClientError as exc:
        # Ollama's PushHandler words every refusal so, whatever the registry said.
        if any(word in exc.message.lower() for word in ("access denied", "unauthorized")):
            raise ClientError(NOT_AUTHORIZED, exc.status_code) from None
        raise
    click.echo("\nYou can find your model at:\n")
    click.echo(f"\t{model_page(ModelName.parse(model))}")


def model_page(name: ModelName) -> str:
    """Where a pushed model is found, as Ollama's PushHandler prints it: its ollama.com page
    (the shortest name, `:latest` left off) for Ollama's hosts, else the full name."""
    if name.host.lower().endswith(_OLLAMA_HOSTS):
        return "https://ollama.com/" + name.display_shortest().removesuffix(":latest")
    return str(name)


def register(cli: click.Group) -> None:
    """Add `pull` and `push` to `cli`."""
    for command in (pull, push):
        cli.add_command(command)
