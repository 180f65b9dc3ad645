"""How `run` shows a reply: streamed text, wrapped between words, and `--verbose` timings."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterable
from typing import Any

import click


def go_duration(ns: int) -> str:
    """Nanoseconds as Go's `time.Duration.String()` writes them ("1.5s", "12.3ms")."""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.9g}".rstrip("0").rstrip(".") + unit
    return f"{ns}ns"


def print_metrics(chunk: dict[str, Any]) -> None:
    """The `--verbose` timings, to stderr, laid out as Ollama's `Metrics.Summary`."""
    lines = [("total duration", go_duration(chunk.get("total_duration", 0)))]
    lines.append(("load duration", go_duration(chunk.get("load_duration", 0))))
    for label, count_key, dur_key in (
        ("prompt eval", "prompt_eval_count", "prompt_eval_duration"),
        ("eval", "eval_count", "eval_duration"),
    ):
        count, dur = chunk.get(count_key, 0), chunk.get(dur_key, 0)
        lines.append((f"{label} count", f"{count} token(s)"))
        if dur:
            lines.append((f"{label} duration", go_duration(dur)))
            lines.append((f"{label} rate", f"{count / dur * 1e9:.2f} tokens/s"))
    for label, value in lines:
        click.echo(f"{label + ':':<22}{value}", err=True)


class WordWrap:
    """Breaks streamed text between words so none is split at the terminal's edge.

    A word is held back until it ends (a space or newline), which delays it by a few
    characters but never needs the cursor moved back.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self._column = 0
        self._word = ""

    def feed(self, text: str) -> str:
        out: list[str] = []
        for char in text:
            if char not in " \n":
                self._word += char
                continue
            out.append(self._place() + char)
            self._column = 0 if char == "\n" else self._column + 1
        return "".join(out)

    def flush(self) -> str:
        return self._place()

    def _place(self) -> str:
        """The held word, after a line break if it would run past the edge."""
        word, self._word = self._word, ""
        if self._column and self._column + len(word) > self.width:
            self._column = len(word)
            return "\n" + word
        self._column += len(word)
        return word


def stream_answer(
    chunks: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], str], wordwrap: bool
) -> dict[str, Any]:
    """Print each chunk's text as it comes; return the final chunk with the joined text.

    Words are wrapped only on a terminal, as Ollama does, so piped output is the model's.
    """
    wrap = WordWrap(shutil.get_terminal_size().columns - 1) if wordwrap and _tty() else None
    parts: list[str] = []
    last: dict[str, Any] = {}
    for chunk in chunks:
        text = key(chunk)
        if text:
            parts.append(text)
            click.echo(wrap.feed(text) if wrap else text, nl=False)
        last = chunk
    click.echo(wrap.flush() if wrap else "")
    return {**last, "text": "".join(parts)}


def _tty() -> bool:
    return sys.stdout.isatty()
