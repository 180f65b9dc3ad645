"""`pollama run MODEL [PROMPT]`: a one-shot answer, or an interactive chat.

As Ollama's `run`: a model the server does not have is pulled first (the client asks, as
Ollama's `RunHandler` does on a 404 from `/api/show`). Then, with a prompt, or with input
piped on stdin, it streams one answer from `/api/generate` and exits; otherwise it loads the
model and opens the chat (`repl.py`). Everything goes through the server (`pollama.client`).
"""

from __future__ import annotations

import sys

import click

from pollama.cli.repl import repl, terminal_reader
from pollama.cli.session import Session, one_shot
from pollama.cli.transfer import pull_model
from pollama.client import Client, ClientError


def run_model(
    session: Session, prompt: str | None, stdin_text: str | None, insecure: bool = False
) -> None:
    """One-shot when there is a prompt or piped input (before the prompt, joined by a space,
    as Ollama joins them), else load, show the Modelfile's MESSAGEs, and chat."""
    client = Client()
    try:
        _pull_if_missing(client, session.model, insecure)
        if stdin_text is not None or prompt is not None:
            one_shot(client, session, " ".join(p for p in (stdin_text, prompt) if p))
            return
        client.request("POST", "/api/generate", session.request(stream=False))  # load first
        shown = client.request("POST", "/api/show", {"model": session.model})
        for message in shown.get("messages") or []:
            prefix = ">>> " if message.get("role") == "user" else ""
            click.echo(f"{prefix}{message.get('content', '')}\n")
        repl(client, session, terminal_reader(session))
    finally:
        client.close()


def _think_value(flag: str | None) -> bool | str | None:
    """`--think`'s value as the API takes it: a bool, or a level the server checks."""
    if flag is None:
        return None
    lowered = flag.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return lowered


def _pull_if_missing(client: Client, model: str, insecure: bool) -> None:
    try:
        client.request("POST", "/api/show", {"model": model})
    except ClientError as exc:
        if exc.status_code != 404:
            raise
        pull_model(client, model, insecure)


def register(cli: click.Group) -> None:
    """Add `run` to `cli`."""

    @cli.command("run")
    @click.argument("model")
    @click.argument("prompt", nargs=-1)
    @click.option("--verbose", is_flag=True, help="Show timings for response")
    @click.option("--format", "fmt", help='Response format (e.g. "json")')
    @click.option("--keepalive", help='Duration to keep a model loaded (e.g. "5m")')
    @click.option("--nowordwrap", is_flag=True, help="Don't wrap words to the next line")
    @click.option(
        "--think",
        is_flag=False,
        flag_value="true",
        default=None,
        help="Enable thinking mode: true/false or high/medium/low for supported models",
    )
    @click.option("--hidethinking", is_flag=True, help="Hide thinking output (if provided)")
    @click.option("--insecure", is_flag=True, help="Use an insecure registry")
    def run(
        model: str,
        prompt: tuple[str, ...],
        verbose: bool,
        fmt: str | None,
        keepalive: str | None,
        nowordwrap: bool,
        think: str | None,
        hidethinking: bool,
        insecure: bool,
    ) -> None:
        """Run a model"""
        session = Session(model, verbose=verbose, format=fmt, keep_alive=keepalive)
        session.wordwrap = not nowordwrap
        session.think = _think_value(think)
        session.hide_thinking = hidethinking
        stdin_text = None if sys.stdin.isatty() else sys.stdin.read()
        try:
            run_model(session, " ".join(prompt) if prompt else None, stdin_text, insecure)
        except ClientError as exc:
            raise click.ClickException(exc.message) from None
