"""Create the starter models in `$OLLAMA_MODELS` through the ordinary create path.

A starter already there with the same weights is left as it is (its `modified_at` too), so
`make serve` can run again and again; one missing, or holding other weights, is created.
"""

from __future__ import annotations

from pollama import config
from pollama.create import create_from_modelfile
from pollama.errors import ModelNotFound
from pollama.starters import STARTERS, Starter, gguf_path
from pollama.store import Store


def _installed(store: Store, starter: Starter) -> bool:
    try:
        model = store.get_model(starter.name)
    except ModelNotFound:
        return False
    return model.model_path is not None and model.model_path.name == f"sha256-{starter.sha256}"


def main() -> None:
    store = Store(config.models_dir())
    for starter in STARTERS:
        if _installed(store, starter):
            print(f"{starter.name}: already installed")
            continue
        gguf = gguf_path(starter)
        statuses = list(create_from_modelfile(store, starter.name, starter.modelfile_text(gguf)))
        print(f"{starter.name}: {statuses[-1]}")


if __name__ == "__main__":
    main()
