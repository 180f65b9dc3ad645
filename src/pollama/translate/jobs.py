"""Whole jobs: a document, a text or a file in, its translation out, with a summary.

`translate_document` is the async core; `translate_text` and `translate_file` run it for
library users and the CLI. A file job reads subtitles out of a video with ffmpeg, keeps a
resume state beside its output while it runs, and writes the output atomically.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pollama.client import AsyncClient
from pollama.translate._files import write_atomically
from pollama.translate.document import Document
from pollama.translate.formats import (
    VIDEO_SUFFIXES,
    decode,
    extract_subtitles,
    format_for,
    read_document,
)
from pollama.translate.state import ResumeState, digest
from pollama.translate.translator import ProgressCallback, Settings, Summary, Translator
from pollama.translate.units import split_cue

_EXTENSIONS = {"srt": ".srt", "vtt": ".vtt", "ass": ".ass", "txt": ".txt", "md": ".md"}


@dataclass(frozen=True)
class Translation:
    """A translated text and what it took."""

    text: str
    summary: Summary


async def translate_document(
    document: Document,
    settings: Settings,
    client: AsyncClient,
    state: ResumeState | None = None,
    on_progress: ProgressCallback | None = None,
) -> Translation:
    """`document` translated through the server at `client`."""
    started = time.monotonic()
    cues = [split_cue(cue) for cue in document.cues]
    translator = Translator(client, settings, state, on_progress)
    done = await translator.translate([unit for cue in cues for unit in cue.units])
    texts = {cue.cue.id: cue.render(done, settings.bilingual) for cue in cues}
    summary = translator.summary
    summary.cues = len(cues)
    summary.passed_through = sum(1 for cue in cues if not cue.units)
    summary.seconds = time.monotonic() - started
    return Translation(document.render(texts), summary)


async def _translate(
    text: str,
    format: str,
    settings: Settings,
    base_url: str | None,
    state: ResumeState | None,
    on_progress: ProgressCallback | None,
) -> Translation:
    client = AsyncClient(base_url)
    try:
        return await translate_document(
            read_document(text, format), settings, client, state, on_progress
        )
    finally:
        await client.aclose()


def translate_text(
    text: str,
    format: str | None = None,
    settings: Settings | None = None,
    *,
    state: ResumeState | None = None,
    base_url: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Translation:
    """`text` ("srt", "vtt", "ass", "txt" or "md"; guessed when None) translated through the
    server at `base_url` (`OLLAMA_HOST` when None), saving finished parts to `state`."""
    chosen = format_for(None, text, format)
    return asyncio.run(
        _translate(text, chosen, settings or Settings(), base_url, state, on_progress)
    )


def read_input(path: Path, format: str | None = None, stream: int = 0) -> tuple[str, str]:
    """The text and format of `path`: a subtitle or text file, or a video's subtitles."""
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return extract_subtitles(path, stream)
    text = decode(path.read_bytes())
    return text, format_for(path, text, format)


def default_output(path: Path, format: str, target: str) -> Path:
    """Where a file's translation goes unless told: `movie.srt` -> `movie.zh.srt`; a video's
    subtitles beside it (`movie.mkv` -> `movie.zh.srt`)."""
    suffix = _EXTENSIONS[format] if path.suffix.lower() in VIDEO_SUFFIXES else path.suffix
    return path.with_name(f"{path.stem}.{target}{suffix or _EXTENSIONS[format]}")


def state_path(output: Path | None, input: Path | None, text: str) -> Path:
    """Where a job keeps its resume state: beside its output file, else beside its input,
    else (stdin to stdout) in the working directory, named by the text's digest."""
    if output is not None:
        return output.with_name(f".{output.name}.translating.json")
    if input is not None:
        return input.with_name(f".{input.name}.translating.json")
    return Path(f".pollama-translate-{digest(text)[:16]}.json")


def write_output(path: Path | None, text: str) -> None:
    """Write a translation to `path` atomically, or to stdout when None."""
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(path, text.encode("utf-8"))


def translate_file(
    input: Path,
    output: Path | None = None,
    settings: Settings | None = None,
    *,
    resume: bool = False,
    format: str | None = None,
    base_url: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Summary:
    """Translate the file `input` into `output` (by default beside it, `movie.zh.srt`).
    With `resume`, the parts an interrupted run finished are not asked again."""
    settings = settings or Settings()
    text, chosen = read_input(input, format)
    target = output or default_output(input, chosen, settings.target)
    state = ResumeState(
        state_path(target, input, text), text, settings.source, settings.target, settings.model
    )
    if resume:
        state.load()
    result = translate_text(
        text, chosen, settings, state=state, base_url=base_url, on_progress=on_progress
    )
    write_output(target, result.text)
    state.remove()
    return result.summary
