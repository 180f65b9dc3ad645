"""`pollama translate` end to end on the qwen starter: a 110-cue SRT interrupted and resumed
through the CLI, and a bilingual VTT with a glossary through the library."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pollama.translate import Glossary, Settings, read_document, translate_file
from pollama.translate.units import has_words
from tests.api.generate_helpers import create
from tests.fixtures.app_server import app_server
from tests.translate.runs import interrupted_then_resumed

DATA = Path(__file__).parent / "data"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SRT_STRUCTURE = re.compile(rb"^\d+\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$", re.MULTILINE)

pytestmark = pytest.mark.starter


@pytest.fixture
def server(isolated_store: Path, qwen_models: dict[str, str]) -> str:
    for name, modelfile in qwen_models.items():
        create(isolated_store, name, modelfile)
    with app_server(isolated_store, OLLAMA_NUM_PARALLEL="4") as url:
        yield url


def _without_chinese(source: str, output: str, format: str) -> list[str]:
    """The worded cues of `source` that came back with no Chinese in them."""
    pairs = zip(read_document(source, format).cues, read_document(output, format).cues, strict=True)
    return [out.text for src, out in pairs if has_words(src.text) and not CHINESE.search(out.text)]


def test_an_interrupted_srt_resumes_without_asking_any_cue_twice(
    tmp_path: Path, server: str
) -> None:
    source = tmp_path / "night_train.srt"
    source.write_bytes((DATA / "night_train.srt").read_bytes())
    interrupted_then_resumed(server, source, "--to", "zh", "--parallel", "2", parts=30)
    output = tmp_path / "night_train.zh.srt"

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
