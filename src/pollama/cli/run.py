"""`pollama run MODEL [PROMPT]`: a one-shot answer, or an interactive chat.

As Ollama's `run`: with a prompt, or with input piped on stdin, it streams one answer from
`/api/generate` and exits. Otherwise it loads the model and opens a REPL over `/api/chat`
that keeps the conversation's history. Everything goes through the server (`pollama.client`).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import click

from pollama import config
from pollama.client import Client, ClientError

HELP = """Available Commands:
  /set            Set session variables
  /clear          Clear session context
  /bye            Exit
  /?, /help       Help for a command

Use \"\"\" to begin a multi-line message.
"""

SET_HELP = """Available Commands:
  /set parameter ...     Set a parameter
  /set system <string>   Set system message
  /set history           Enable history
  /set nohistory         Disable history
  /set wordwrap          Enable wordwrap
  /set nowordwrap        Disable wordwrap
  /set format json       Enable JSON mode
  /set noformat          Disable formatting
  /set verbose           Show LLM stats
  /set quiet             Disable LLM stats
"""


@dataclass
class Session:
    """What a run carries from one request to the next."""

    model: str
    verbose: bool = False
    format: str | None = None
    keep_alive: str | None = None
    wordwrap: bool = True
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
        return body


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


def one_shot(client: Client, session: Session, prompt: str) -> None:
    """Stream one `/api/generate` answer to stdout."""
    body = session.request(prompt=prompt)
    if session.system:
        body["system"] = session.system
    chunks = client.stream("POST", "/api/generate", body)
    final = stream_answer(chunks, lambda c: c["response"], session.wordwrap)
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
        final = stream_answer(chunks, lambda c: c["message"].get("content", ""), session.wordwrap)
    except KeyboardInterrupt:  # Ctrl+C stops this answer, not the session
        click.echo()
        return
    session.messages = [*history, {"role": "assistant", "content": final["text"]}]
    if session.verbose:
        print_metrics(final)


def _parse_value(raw: str) -> Any:
    """A `/set parameter` value as JSON would carry it; the server checks its type."""
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(raw.lower(), raw)


def set_command(session: Session, args: list[str]) -> None:
    """`/set ...`: change a session setting."""
    what = args[0] if args else ""
    flags = {
        "verbose": ("verbose", True),
        "quiet": ("verbose", False),
        "wordwrap": ("wordwrap", True),
        "nowordwrap": ("wordwrap", False),
        "noformat": ("format", None),
    }
    if what in flags:
        setattr(session, *flags[what])
        click.echo(f"Set '{what}' mode.")
    elif what in ("history", "nohistory"):
        click.echo(f"Set '{what}' mode.")
    elif what == "format" and args[1:] == ["json"]:
        session.format = "json"
        click.echo("Set format to 'json' mode.")
    elif what == "system" and len(args) > 1:
        session.system = " ".join(args[1:])
        click.echo("Set system message.")
    elif what == "parameter" and len(args) > 2:
        name, values = args[1], args[2:]
        session.options[name] = values if name == "stop" else _parse_value(" ".join(values))
        click.echo(f"Set parameter '{name}' to '{', '.join(values)}'")
    else:
        click.echo(SET_HELP)


def handle_command(session: Session, line: str) -> bool:
    """Run a `/command`; False when the session should end."""
    name, *args = line.split()
    if name in ("/bye", "/exit"):
        return False
    if name == "/clear":
        session.messages = []
        click.echo("Cleared session context")
    elif name == "/set":
        set_command(session, args)
    elif name in ("/?", "/help"):
        click.echo(SET_HELP if args[:1] == ["set"] else HELP)
    else:
        click.echo(f"Unknown command '{name}'. Type /? for help")
    return True


def read_message(read: Callable[[str], str]) -> str:
    """One message; `\"\"\"` opens a multi-line one that ends at the next `\"\"\"`."""
    line = read(">>> ")
    if not line.lstrip().startswith('"""'):
        return line
    lines = [line.lstrip()[3:]]
    while not lines[-1].rstrip().endswith('"""'):
        lines.append(read("... "))
    lines[-1] = lines[-1].rstrip()[:-3]
    return "\n".join(lines).strip("\n")


def repl(client: Client, session: Session, read: Callable[[str], str]) -> None:
    """The interactive chat; `read(prompt)` returns a line and raises EOFError at the end."""
    while True:
        try:
            line = read_message(read)
        except KeyboardInterrupt:
            click.echo("\nUse Ctrl + d or /bye to exit.")
            continue
        except EOFError:
            return
        if not line.strip():
            continue
        if line.startswith("/"):
            if not handle_command(session, line):
                return
            continue
        chat_turn(client, session, line)


def _terminal_reader() -> Callable[[str], str]:
    """prompt_toolkit's line editor (history, keys) when on a terminal; the history is kept
    in `~/.ollama/history` unless `OLLAMA_NOHISTORY` is set."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    history: History = InMemoryHistory()
    if not config.nohistory():
        path = config.history_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        history = FileHistory(str(path))
    prompt_session: PromptSession[str] = PromptSession(history=history)

    def read(prompt: str) -> str:
        return prompt_session.prompt(prompt, placeholder="Send a message (/? for help)")

    return read


def run_model(session: Session, prompt: str | None, stdin_text: str | None) -> None:
    """One-shot when there is a prompt or piped input, else load and chat."""
    client = Client()
    try:
        if stdin_text is not None or prompt is not None:
            text = "\n".join(p for p in (stdin_text, prompt) if p)
            one_shot(client, session, text)
            return
        client.request("POST", "/api/generate", session.request(stream=False))  # load first
        repl(client, session, _terminal_reader())
    finally:
        client.close()


def register(cli: click.Group) -> None:
    """Add `run` to `cli`."""

    @cli.command("run")
    @click.argument("model")
    @click.argument("prompt", nargs=-1)
    @click.option("--verbose", is_flag=True, help="Show timings for response")
    @click.option("--format", "fmt", help='Response format (e.g. "json")')
    @click.option("--keepalive", help='Duration to keep a model loaded (e.g. "5m")')
    @click.option("--nowordwrap", is_flag=True, help="Don't wrap words to the next line")
    def run(
        model: str,
        prompt: tuple[str, ...],
        verbose: bool,
        fmt: str | None,
        keepalive: str | None,
        nowordwrap: bool,
    ) -> None:
        """Run a model"""
        session = Session(model, verbose=verbose, format=fmt, keep_alive=keepalive)
        session.wordwrap = not nowordwrap
        stdin_text = None if sys.stdin.isatty() else sys.stdin.read()
        try:
            run_model(session, " ".join(prompt) if prompt else None, stdin_text)
        except ClientError as exc:
            raise click.ClickException(exc.message) from None
