"""A `run` session: the settings it carries between requests, and the two ways it asks.

A prompt given on the command line (or piped in) is one `/api/generate`; the interactive
chat is `/api/chat` turns that keep the conversation's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click

from pollama.cli.answer import print_metrics, stream_answer
from pollama.client import Client


@dataclass
class Session:
    """What a run carries from one request to the next."""

    model: str
    verbose: bool = False
    format: str | None = None
    keep_alive: str | None = None
    wordwrap: bool = True
    history: bool = True  # lines typed are kept in the history file
    think: bool | str | None = None  # None: the model's default
    hide_thinking: bool = False
    system: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def request(self, **fields: Any) -> dict[str, Any]:
        """A request body with the session's settings; unset ones are left out."""
        body: dict[str, Any] = {"model": self.model, **fields}
        if self.format:
            body["format"] = self.format
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        if self.options:
            body["options"] = dict(self.options)
        if self.think is not None:
            body["think"] = self.think
        return body


def one_shot(client: Client, session: Session, prompt: str) -> None:
    """Stream one `/api/generate` answer to stdout."""
    body = session.request(prompt=prompt)
    if session.system:
        body["system"] = session.system
    chunks = client.stream("POST", "/api/generate", body)
    final = stream_answer(chunks, _generate_parts, session.wordwrap, not session.hide_thinking)
    if session.verbose:
        print_metrics(final)


def chat_turn(client: Client, session: Session, text: str) -> None:
    """Send `text` with the history; keep both sides of the exchange in it."""
    history = [*session.messages, {"role": "user", "content": text}]
    messages = history
    if session.system:
        messages = [{"role": "system", "content": session.system}, *history]
    chunks = client.stream("POST", "/api/chat", session.request(messages=messages))
    try:
        final = stream_answer(chunks, _message_parts, session.wordwrap, not session.hide_thinking)
    except KeyboardInterrupt:  # Ctrl+C stops this answer, not the session
        click.echo()
        return
    answer = {"role": "assistant", "content": final["text"]}
    if final["thinking"]:
        answer["thinking"] = final["thinking"]
    session.messages = [*history, answer]
    if session.verbose:
        print_metrics(final)


def _generate_parts(chunk: dict[str, Any]) -> tuple[str, str]:
    return chunk.get("thinking") or "", chunk["response"]


def _message_parts(chunk: dict[str, Any]) -> tuple[str, str]:
    message = chunk["message"]
    return message.get("thinking") or "", message.get("content", "")
