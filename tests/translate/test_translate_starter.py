"""`pollama translate` end to end on the qwen starter: a 110-cue SRT interrupted and resumed
through the CLI, and a bilingual VTT with a glossary through the library."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pollama.translate import Glossary, Settings, read_document, translate_file
from pollama.translate.units import has_words, split_cue
from tests.api.generate_helpers import create
from tests.fixtures.server import live_server
from tests.translate.proxy import Recorded, recording_proxy

DATA = Path(__file__).parent / "data"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SRT_STRUCTURE = re.compile(rb"^\d+\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$", re.MULTILINE)

pytestmark = pytest.mark.starter


@pytest.fixture
def server(isolated_store: Path, qwen_models: dict[str, str]) -> str:
    for name, modelfile in qwen_models.items():
        create(isolated_store, name, modelfile)
    with live_server(isolated_store, OLLAMA_NUM_PARALLEL="4") as url:
        yield url


def _translate_cli(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pollama", "translate", *args],
        env={**os.environ, "OLLAMA_HOST": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lines_asked(recorded: Recorded, since: int) -> list[str]:
    """Every line the chat requests from the `since`-th on asked to translate (the JSON
    after the context)."""
    asked = []
    for body in recorded.of("/api/chat")[since:]:
        prompt = body["messages"][-1]["content"]
        asked += json.loads(prompt.rsplit("\n", 1)[1]).values()
    return asked


def _without_chinese(source: str, output: str, format: str) -> list[str]:
    """The worded cues of `source` that came back with no Chinese in them."""
    pairs = zip(read_document(source, format).cues, read_document(output, format).cues, strict=True)
    return [out.text for src, out in pairs if has_words(src.text) and not CHINESE.search(out.text)]


def _interrupt_once_saved(process: subprocess.Popen[str], state: Path, parts: int) -> int:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if state.exists() and len(json.loads(state.read_text())["done"]) >= parts:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)
            return process.returncode
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    pytest.fail("no progress saved in time")


def test_an_interrupted_srt_resumes_without_asking_any_cue_twice(
    tmp_path: Path, server: str
) -> None:
    source = tmp_path / "night_train.srt"
    source.write_bytes((DATA / "night_train.srt").read_bytes())
    output = tmp_path / "night_train.zh.srt"
    state = tmp_path / ".night_train.zh.srt.translating.json"
    with recording_proxy(server) as (url, recorded):
        first = _translate_cli(url, str(source), "--to", "zh", "--parallel", "2")
        assert _interrupt_once_saved(first, state, parts=30) == 130
        saved = json.loads(state.read_text())["done"]
        asked_before = len(recorded.of("/api/chat"))
        resumed = _translate_cli(url, str(source), "--to", "zh", "--resume")
        _, err = resumed.communicate(timeout=900)
        assert resumed.returncode == 0, err
    assert f"{len(saved)} parts resumed" in err
    assert not state.exists()

    # No part the first run saved is asked again (the file has no worded line twice).
    sources_saved = _saved_sources(source.read_text(), saved)
    asked_again = sources_saved & set(_lines_asked(recorded, since=asked_before))
    assert not asked_again, asked_again

    data, out = source.read_bytes(), output.read_bytes()
    assert SRT_STRUCTURE.findall(out) == SRT_STRUCTURE.findall(data)
    original, translated = read_document(data.decode(), "srt"), read_document(out.decode(), "srt")
    assert translated.kept == original.kept  # every byte outside the cues' text
    missing = _without_chinese(data.decode(), out.decode(), "srt")
    worded = sum(1 for c in original.cues if has_words(c.text))
    assert len(missing) <= 0.05 * worded, missing
    for src, dst in zip(original.cues, translated.cues, strict=True):
        if not has_words(src.text):
            assert dst.text == src.text  # music-only and number cues are passed through
        if src.text.startswith("<i>") and src.text.endswith("</i>"):
            assert dst.text.startswith("<i>") and dst.text.endswith("</i>"), dst.text


def _saved_sources(text: str, saved: dict[str, str]) -> set[str]:
    return {
        u.source
        for c in read_document(text, "srt").cues
        for u in split_cue(c).units
        if u.key in saved
    }


def test_a_bilingual_vtt_keeps_its_structure_and_the_glossary(tmp_path: Path, server: str) -> None:
    source = tmp_path / "night_train.vtt"
    source.write_bytes((DATA / "night_train.vtt").read_bytes())
    settings = Settings(target="zh", bilingual=True, glossary=Glossary.parse("Munich = 慕尼黑\n"))
    summary = translate_file(source, settings=settings, base_url=server)
    text = source.read_bytes().decode()
    out = (tmp_path / "night_train.zh.vtt").read_bytes().decode()
    original, translated = read_document(text, "vtt"), read_document(out, "vtt")
    assert translated.kept == original.kept
    assert (summary.cues, summary.passed_through) == (8, 1)
    for src, dst in zip(original.cues, translated.cues, strict=True):
        if has_words(src.text):
            assert dst.text.startswith(src.text + "\r\n"), dst.text  # source, then translation
        else:
            assert dst.text == src.text
    munich = translated.cues[2].text
    assert "慕尼黑" in munich and munich.startswith("<c.yellow>We will arrive in Munich</c>")
    assert len(_without_chinese(text, out, "vtt")) <= 1
