"""Create the starter models in `$OLLAMA_MODELS` through the ordinary create path."""

from __future__ import annotations

from pollama import config
from pollama.create import create_from_modelfile
from pollama.starters import STARTERS, gguf_path
from pollama.store import Store


def main() -> None:
    store = Store(config.models_dir())
    for starter in STARTERS:
        gguf = gguf_path(starter)
        statuses = list(create_from_modelfile(store, starter.name, starter.modelfile_text(gguf)))
        print(f"{starter.name}: {statuses[-1]}")


if __name__ == "__main__":
    main()
