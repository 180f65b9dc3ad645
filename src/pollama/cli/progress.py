"""The progress of `pull`, `push` and `create`, drawn as Ollama's CLI draws it.

The server streams Ollama's progress lines: a status (`pulling manifest`), or a layer's
`digest` with `total` and `completed`. On a terminal each status is a row with a spinner,
stopped when the next status comes, and each layer a bar (Ollama's `progress.Bar`):

    pulling 1d9614638d18:  45% ▕████████          ▏ 221 MB/491 MB   52 MB/s      5s
    pulling 1d9614638d18: 100% ▕██████████████████▏ 491 MB

Rows are drawn on stderr, as Ollama draws them, by rich. When stderr is not a terminal (a
pipe, a log file) the same events come out as plain lines: each status once, each layer at
every tenth of the way, so a log shows the progress without a single escape sequence.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task, TaskID
from rich.text import Text

from pollama.cli._format import human_bytes

_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_SPINNER_STEP_S = 0.1
PLAIN_STEPS = 10  # a plain layer line at every tenth of the way


class ProgressView(Protocol):
    """Where progress events are shown: a terminal's rows, or plain lines."""

    def status(self, text: str) -> None: ...

    def layer(self, key: str, label: str, total: int, completed: int) -> None: ...

    def close(self) -> None: ...


def show_progress(chunks: Iterable[Mapping[str, Any]], view: ProgressView) -> None:
    """Show every progress line of `chunks` (a pull, push or create stream) until it ends.

    As Ollama's handlers do, a layer's first report with nothing completed yet is skipped,
    and a status is shown once however often it repeats.
    """
    shown = ""
    for chunk in chunks:
        status = str(chunk.get("status") or "")
        digest = chunk.get("digest")
        if digest:
            if chunk.get("completed"):
                label = f"{status}:" if status else f"pulling {str(digest)[7:19]}:"
                view.layer(str(digest), label, int(chunk.get("total") or 0), chunk["completed"])
        elif status and status != shown:
            shown = status
            view.status(status)


@contextmanager
def progress_view(stream: TextIO | None = None) -> Iterator[ProgressView]:
    """Bars on a terminal, plain lines elsewhere; on stderr unless told otherwise. The rows
    drawn so far stay on the screen when the block ends, however it ends."""
    stream = stream or sys.stderr
    view: ProgressView = (
        TerminalView(Console(file=stream)) if stream.isatty() else PlainView(stream)
    )
    try:
        yield view
    finally:
        view.close()


class PlainView:
    """Progress as lines of text, for pipes and logs."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._steps: dict[str, int] = {}

    def status(self, text: str) -> None:
        self._write(text)

    def layer(self, key: str, label: str, total: int, completed: int) -> None:
        step = completed * PLAIN_STEPS // total if total > 0 else PLAIN_STEPS
        if step <= self._steps.get(key, -1):
            return
        self._steps[key] = step
        if completed >= total:
            self._write(f"{label} 100% {human_bytes(total)}")
        else:
            percent = completed * 100 // total
            self._write(f"{label} {percent:3d}% {human_bytes(completed)}/{human_bytes(total)}")

    def close(self) -> None:
        self.stream.flush()

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


class TerminalView:
    """Progress as live rows: a spinner per status, a bar per layer (see the module doc)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(_Row(console), console=console, refresh_per_second=10)
        self._layers: dict[str, TaskID] = {}
        self._spinning: TaskID | None = None
        self.progress.start()

    def status(self, text: str) -> None:
        self._stop_spinner()
        self._spinning = self.progress.add_task(text, total=None, status=True)

    def layer(self, key: str, label: str, total: int, completed: int) -> None:
        self._stop_spinner()
        task = self._layers.get(key)
        if task is None:
            task = self.progress.add_task(label, total=total, status=False)
            self._layers[key] = task
        self.progress.update(task, total=total, completed=completed)

    def close(self) -> None:
        self._stop_spinner()
        self.progress.stop()

    def _stop_spinner(self) -> None:
        if self._spinning is not None:
            self.progress.update(self._spinning, total=1, completed=1)
            self._spinning = None


class _Row(ProgressColumn):
    """One whole row, laid out as Ollama's `progress.Bar` and `progress.Spinner` lay it."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def render(self, task: Task) -> Text:
        if task.fields.get("status"):
            if task.finished:
                return Text(task.description)
            frame = _SPINNER[int(time.monotonic() / _SPINNER_STEP_S) % len(_SPINNER)]
            return Text(f"{task.description} {frame}")
        # One column short of the width, so that a full row never wraps.
        return Text(
            bar_line(
                task.description,
                int(task.completed),
                int(task.total or 0),
                width=self.console.width - 1,
                speed=None if task.finished else task.speed,
            )
        )


def bar_line(label: str, completed: int, total: int, *, width: int, speed: float | None) -> str:
    """Ollama's bar: label, percent, bar, sizes, speed and time left (`progress/bar.go`).

    A finished bar shows only the total; speed and time left appear once a speed is known.
    """
    percent = min(100.0, completed * 100 / total) if total > 0 else 100.0
    pre = f"{label} {percent:3.0f}%"
    if completed < total:
        current, maximum = human_bytes(completed), human_bytes(total)
        suffix = f"{current:>6}/{maximum:<6}"
        if speed:
            left = _go_seconds((total - completed) / speed)
            suffix += f"  {human_bytes(int(speed)):>6}/s  {left:>6}"
        else:
            suffix += " " * 18
    else:
        suffix = f"{human_bytes(total):>6}" + " " * 25
    room = max(0, width - len(pre) - len(suffix) - 5)
    filled = int(room * percent / 100)
    return f"{pre} ▕{'█' * filled}{' ' * (room - filled)}▏ {suffix}"


def _go_seconds(seconds: float) -> str:
    """Whole seconds as Go's `Duration.String` writes them: 5s, 1m30s, 2h0m5s."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
