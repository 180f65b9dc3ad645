"""`pollama translate INPUT --to LANG`: subtitles and documents through a model on the server.

A client of the HTTP API like every verb but `serve`, so it works against Ollama too. The
progress bar and the summary go to stderr, so stdout can carry the translation.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from pollama.cli._errors import reports_errors
from pollama.translate import (
    DEFAULT_MODEL,
    READERS,
    Glossary,
    ResumeState,
    Settings,
    Summary,
    Translation,
    default_output,
    read_input,
    state_path,
    translate_text,
    write_output,
)
from pollama.translate.formats import decode, format_for

_STDIO = Path("-")


def _progress() -> Progress:
    return Progress(
        TextColumn("translating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cues"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def summary_lines(summary: Summary, source: str) -> list[str]:
    """What the run did, for stderr: cues, retries, time, and every part left untranslated."""
    worded = summary.cues - summary.passed_through
    lines = [
        f"translated {worded} cues in {_minutes(summary.seconds)}"
        f" ({summary.passed_through} without words kept as they were,"
        f" {summary.resumed} parts resumed)",
        f"{summary.batches} batches, {summary.parallel} at a time, {summary.retries} retries"
        f" ({summary.batches_retried} batches needed one), {summary.requests} requests",
    ]
    if summary.untranslated:
        lines.append(f"{len(summary.untranslated)} parts left in the source language ({source}):")
        lines += [f"  cue {key.split('.')[0]}: {why}" for key, why in summary.untranslated.items()]
    return lines


@click.command("translate")
@click.argument("input", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Where to write the translation (- for stdout; default INPUT.LANG.ext)",
)
@click.option("--to", "target", required=True, help="Language to translate into (e.g. zh, ja, fr)")
@click.option("--from", "source", default="en", show_default=True, help="Language of the input")
@click.option("--model", default=DEFAULT_MODEL, show_default=True, help="Model to translate with")
@click.option(
    "--parallel",
    type=click.IntRange(1),
    default=None,
    help="Batches in flight at once (default: the server's parallel slots for the model)",
)
@click.option("--bilingual", is_flag=True, help="Write each source text above its translation")
@click.option(
    "--glossary",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of 'term = translation' lines, translated the same way every time",
)
@click.option("--resume", is_flag=True, help="Go on where an interrupted run stopped")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(READERS)),
    default=None,
    help="Input format (default: from the file name, else from the text)",
)
@click.option("--stream", type=click.IntRange(0), default=0, help="Subtitle stream of a video")
@click.option(
    "--batch-size", type=click.IntRange(1), default=8, show_default=True, help="Cues per request"
)
@reports_errors
def translate(
    input: Path,
    output: Path | None,
    target: str,
    source: str,
    model: str,
    parallel: int | None,
    bilingual: bool,
    glossary: Path | None,
    resume: bool,
    fmt: str | None,
    stream: int,
    batch_size: int,
) -> None:
    """Translate subtitles or a document

    INPUT is a subtitle file (.srt, .vtt, .ass), a text or Markdown document (.txt, .md),
    a video whose text subtitles ffmpeg can extract (.mkv, .mp4), or - for stdin.
    Indices, timings, tags, code blocks and links are kept byte for byte; only the words
    are translated. An interrupted run keeps what it finished: run it again with --resume.

    \b
    Examples:
      pollama translate movie.srt --to zh
      pollama translate talk.mkv --to ja -o talk.ja.srt --bilingual
      cat notes.md | pollama translate - --to fr > notes.fr.md
    """
    text, chosen, to_file = _source_and_target(input, output, fmt, stream, target)
    settings = Settings(
        model=model,
        source=source,
        target=target,
        parallel=parallel,
        batch_size=batch_size,
        glossary=Glossary.read(glossary) if glossary else Glossary(),
        bilingual=bilingual,
    )
    from_file = None if input == _STDIO else input
    state = ResumeState(state_path(to_file, from_file, text), text, source, target, model)
    # Messages are whole lines, unwrapped: scripts and logs read them at any width.
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if resume and (resumed := state.load()):
        err.print(f"resuming: {resumed} parts already translated")
    try:
        result = _with_progress(text, chosen, settings, state)
    except KeyboardInterrupt as stop:
        err.print(
            f"interrupted: {len(state.done)} parts saved in {state.path};"
            " run the same command with --resume to go on"
        )
        signum = signal.SIGTERM if isinstance(stop, _Terminated) else signal.SIGINT
        raise SystemExit(128 + signum) from None
    write_output(to_file, result.text)
    state.remove()
    for line in summary_lines(result.summary, source):
        err.print(line)


def _source_and_target(
    input: Path, output: Path | None, fmt: str | None, stream: int, target: str
) -> tuple[str, str, Path | None]:
    """The input's text and format, and the file to write (None: stdout)."""
    if input == _STDIO:
        text = decode(sys.stdin.buffer.read())
        return text, format_for(None, text, fmt), None if output in (None, _STDIO) else output
    text, chosen = read_input(input, fmt, stream)
    output = output or default_output(input, chosen, target)
    return text, chosen, None if output == _STDIO else output


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised as Ctrl-C's KeyboardInterrupt is, so asyncio stops the same way."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def _with_progress(text: str, format: str, settings: Settings, state: ResumeState) -> Translation:
    """Translate under a progress bar. SIGTERM stops the run as Ctrl-C does (a supervisor's
    stop is an interrupt too), each with its own exit status."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with _progress() as progress:
            task = progress.add_task("translate", total=None)
            return translate_text(
                text,
                format,
                settings,
                state=state,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    finally:
        signal.signal(signal.SIGTERM, previous)


def register(cli: click.Group) -> None:
    """Add `translate` to `cli`."""
    cli.add_command(translate)
