"""Subtitles inside a video are read through ffmpeg (.ci/run installs it); without ffmpeg the
user is told why."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pollama.translate import TranslateError, default_output, read_document, read_input

DATA = Path(__file__).parent / "data"


def _ffmpeg(out: Path, *inputs: str) -> Path:
    """Make `out` with ffmpeg from a grey picture source and `inputs` (more sources, maps)."""
    quiet = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=64x48:d=2"]
    subprocess.run([*quiet, *inputs, "-c:v", "mpeg4", str(out)], check=True)
    return out


def _video(tmp_path: Path, suffix: str, codec: str) -> Path:
    """Two seconds of a grey picture with the night-train subtitles muxed in."""
    srt = str(DATA / "night_train.srt")
    return _ffmpeg(
        tmp_path / f"clip{suffix}", "-i", srt, "-map", "0:v", "-map", "1:s", "-c:s", codec
    )


@pytest.mark.parametrize(("suffix", "codec"), [(".mkv", "srt"), (".mp4", "mov_text")])
def test_a_videos_subtitles_are_read_as_srt(tmp_path: Path, suffix: str, codec: str) -> None:
    text, format = read_input(_video(tmp_path, suffix, codec))
    assert format == "srt"
    cues = read_document(text, format).cues
    original = read_document((DATA / "night_train.srt").read_text(), "srt").cues
    assert len(cues) == len(original) == 110
    # ffmpeg writes CRLF, and MP4's mov_text has no place for tags such as {\an8}.
    assert cues[1].lines == original[1].lines == ["Welcome aboard the night train", "to Vienna."]
    assert default_output(tmp_path / f"clip{suffix}", format, "zh").name == "clip.zh.srt"


def test_a_video_without_subtitles_says_so(tmp_path: Path) -> None:
    video = _ffmpeg(tmp_path / "plain.mkv")
    with pytest.raises(TranslateError, match="has no subtitle stream"):
        read_input(video)


def test_without_ffmpeg_the_message_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = _video(tmp_path, ".mkv", "srt")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(TranslateError, match=r"ffmpeg is not installed.*apt-get install ffmpeg"):
        read_input(video)
