"""The article's translation demo, run as written against a live server with the qwen starter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.generate_helpers import server_with

DEMO = Path(__file__).parents[1] / "examples" / "translate_demo.py"


@pytest.mark.starter
def test_translate_demo_prints_chinese(tmp_path: Path, qwen_models: dict[str, str]) -> None:
    with server_with(tmp_path, qwen_models) as url:
        result = subprocess.run(
            [sys.executable, str(DEMO)],
            env={**os.environ, "OLLAMA_HOST": url},
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    translations = [line for line in result.stdout.splitlines() if line.startswith("  -> ")]
    assert len(translations) == 3
    assert all(re.search(r"[\u4e00-\u9fff]", line) for line in translations), result.stdout
