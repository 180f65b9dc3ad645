"""Subtitles inside a video file (`.mkv`, `.mp4`, ...), extracted by ffmpeg as text."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from pollama.translate.errors import TranslateError

VIDEO_SUFFIXES = frozenset({".mkv", ".mp4", ".m4v", ".mov", ".webm", ".avi", ".ts"})
# What ffmpeg writes each text codec as: ASS stays ASS (its styles kept), WebVTT stays VTT,
# every other text codec (SubRip, mov_text in MP4) becomes SubRip.
_OUTPUT = {"ass": "ass", "ssa": "ass", "webvtt": "vtt"}
_MUXER = {"ass": "ass", "vtt": "webvtt", "srt": "srt"}
_BITMAP = frozenset({"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub"})
_MISSING = (
    "ffmpeg is not installed: it is needed to read subtitles inside {name} "
    "(on Debian or Ubuntu: apt-get install ffmpeg), or pass the subtitle file itself"
)


def _tool(name: str, video: Path) -> str:
    found = shutil.which(name)
    if found is None:
        raise TranslateError(_MISSING.format(name=video.name))
    return found


def _subtitle_codecs(video: Path) -> list[str]:
    probe = subprocess.run(
        [
            _tool("ffprobe", video),
            "-v",
            "error",
            "-select_streams",
            "s",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "json",
            str(video),
        ],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        raise TranslateError(f"ffprobe could not read {video}: {probe.stderr.decode().strip()}")
    streams = json.loads(probe.stdout or b"{}").get("streams", [])
    return [str(s.get("codec_name", "")) for s in streams]


def extract_subtitles(video: Path, stream: int = 0) -> tuple[str, str]:
    """The text and format ("srt", "vtt" or "ass") of subtitle stream `stream` in `video`."""
    codecs = _subtitle_codecs(video)
    if not codecs:
        raise TranslateError(f"{video} has no subtitle stream")
    if stream >= len(codecs):
        raise TranslateError(f"{video} has {len(codecs)} subtitle stream(s); no stream {stream}")
    codec = codecs[stream]
    if codec in _BITMAP:
        raise TranslateError(f"subtitle stream {stream} of {video} is pictures ({codec}), not text")
    format = _OUTPUT.get(codec, "srt")
    result = subprocess.run(
        [
            _tool("ffmpeg", video),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(video),
            "-map",
            f"0:s:{stream}",
            "-f",
            _MUXER[format],
            "-",
        ],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise TranslateError(
            f"ffmpeg could not extract subtitles: {result.stderr.decode().strip()}"
        )
    return result.stdout.decode("utf-8", errors="replace"), format
