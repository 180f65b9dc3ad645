"""The article's demo: translate English subtitle lines into Chinese with a local model.

    python examples/translate_demo.py

It posts each line to `/api/generate` exactly as the article does. The server is
`http://localhost:11434` unless `OLLAMA_HOST` names another (the tests point it at theirs).
"""

from __future__ import annotations

import os

import requests

SUBTITLES = [
    "Good morning, everyone.",
    "The weather is beautiful today.",
    "Thank you for watching.",
]


def server_url() -> str:
    """`OLLAMA_HOST` as a URL (a bare `host:port` gets `http://`), else Ollama's default."""
    host = os.environ.get("OLLAMA_HOST", "").strip()
    if not host:
        return "http://localhost:11434"
    return host if "://" in host else f"http://{host}"


def translate(text: str) -> str:
    """One subtitle line in Chinese, as the model answers it."""
    response = requests.post(
        f"{server_url()}/api/generate",
        json={
            "model": "qwen2.5-coder:0.5b",
            "prompt": text,
            "system": "Translate the following into chinese and only show me the translated",
            "stream": False,
        },
        timeout=300,
    )
    response.raise_for_status()
    return str(response.json()["response"]).strip()


def main() -> None:
    for line in SUBTITLES:
        print(f"{line}\n  -> {translate(line)}")


if __name__ == "__main__":
    main()
