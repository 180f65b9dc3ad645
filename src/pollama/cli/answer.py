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


# Thinking is shown dimmed, between Ollama's own markers (plain text when piped).
_GREY, _BOLD, _RESET = "\033[90m", "\033[1m", "\033[0m"
THINKING_OPENS = "Thinking...\n"
THINKING_CLOSES = "...done thinking.\n\n"

# A chunk's (thinking, text).
Parts = Callable[[dict[str, Any]], tuple[str, str]]


class _Printer:
    """Writes the answer: thinking dimmed between its markers, then the text, each wrapped."""

    def __init__(self, wordwrap: bool, show_thinking: bool) -> None:
        self.tty = _tty()
        self.width = shutil.get_terminal_size().columns - 1
        self.wrap = WordWrap(self.width) if wordwrap and self.tty else None
        self.show_thinking = show_thinking
        self.thinking = False  # inside the thinking block
        self.last = ""

    def think(self, text: str) -> None:
        if not self.show_thinking:
            return
        if not self.thinking:
            self.thinking = True
            opening = _GREY + _BOLD + THINKING_OPENS + _RESET + _GREY
            self._echo(opening if self.tty else THINKING_OPENS)
        self._text(text)

    def say(self, text: str) -> None:
        if self.thinking:
            self.end_thinking()
        self._text(text)

    def end_thinking(self) -> None:
        self.thinking = False
        held = self.wrap.flush() if self.wrap else ""
        newline = "" if (held or self.last).endswith("\n") else "\n"
        closing = _GREY + _BOLD + THINKING_CLOSES + _RESET if self.tty else THINKING_CLOSES
        self._echo(held + newline + closing)
        self.wrap = WordWrap(self.width) if self.wrap else None

    def _text(self, text: str) -> None:
        self._echo(self.wrap.feed(text) if self.wrap else text)

    def _echo(self, text: str) -> None:
        if text:
            self.last = text
            click.echo(text, nl=False)


def stream_answer(
    chunks: Iterable[dict[str, Any]], parts: Parts, wordwrap: bool, show_thinking: bool = True
) -> dict[str, Any]:
    """Print each chunk's thinking and text as they come; return the final chunk with the
    joined `text` and `thinking`.

    Words are wrapped only on a terminal, as Ollama does, so piped output is the model's.
    """
    printer = _Printer(wordwrap, show_thinking)
    texts: list[str] = []
    thoughts: list[str] = []
    last: dict[str, Any] = {}
    for chunk in chunks:
        thinking, text = parts(chunk)
        if thinking:
            thoughts.append(thinking)
            printer.think(thinking)
        if text:
            texts.append(text)
            printer.say(text)
        last = chunk
    if printer.thinking:
        printer.end_thinking()
    click.echo((printer.wrap.flush() if printer.wrap else "") + (_RESET if printer.tty else ""))
    return {**last, "text": "".join(texts), "thinking": "".join(thoughts)}


def _tty() -> bool:
    return sys.stdout.isatty()
