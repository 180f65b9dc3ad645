"""The resume state: saved as each batch comes back, used only for the same job."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pollama.translate import ResumeState, state_path


def test_saved_translations_are_resumed_by_the_same_job_only(tmp_path: Path) -> None:
    path = tmp_path / ".out.srt.translating.json"
    first = ResumeState(path, "the text", "en", "zh", "qwen")
    first.record({"1.1": "一"})
    first.record({"2.1": "二"})
    assert json.loads(path.read_text())["done"] == {"1.1": "一", "2.1": "二"}
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file, not a temp's 0600

    again = ResumeState(path, "the text", "en", "zh", "qwen")
    assert again.load() == 2 and again.done == {"1.1": "一", "2.1": "二"}
    for other in (
        ResumeState(path, "another text", "en", "zh", "qwen"),
        ResumeState(path, "the text", "en", "ja", "qwen"),
        ResumeState(path, "the text", "en", "zh", "gemma"),
    ):
        assert other.load() == 0 and other.done == {}
    again.remove()
    assert not path.exists()


def test_an_unreadable_state_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{ cut sh")
    assert ResumeState(path, "t", "en", "zh", "m").load() == 0


def test_the_state_lives_beside_the_output_else_the_input() -> None:
    assert state_path(Path("/a/movie.zh.srt"), Path("/b/movie.srt"), "t") == Path(
        "/a/.movie.zh.srt.translating.json"
    )
    assert state_path(None, Path("/b/movie.srt"), "t") == Path("/b/.movie.srt.translating.json")
    assert state_path(None, None, "t").name.startswith(".pollama-translate-")
