"""A model as the rest of pollama sees it: the manifest's layers, read and typed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pollama.gguf import read_metadata
from pollama.store.name import ModelName

log = logging.getLogger(__name__)

# Encoder-only architectures: embedding models even without a `pooling_type` key.
_EMBEDDING_ARCHES = frozenset({"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2"})


@dataclass(frozen=True)
class Model:
    """Everything a manifest says about one model."""

    name: ModelName
    digest: str
    size: int
    modified_at: datetime
    model_path: Path | None = None
    adapters: tuple[Path, ...] = ()
    projectors: tuple[Path, ...] = ()
    template: str | None = None
    system: str | None = None
    license: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    parent_model: str = ""

    @property
    def short_name(self) -> str:
        return self.name.display_shortest()

    def gguf_metadata(self) -> dict[str, Any]:
        return read_metadata(self.model_path) if self.model_path else {}

    def capabilities(self) -> list[str]:
        """What the model can do, decided as Ollama's `Model.Capabilities` decides it.

        The template part asks the prompt package, so a capability is claimed exactly when
        the template pollama will render with can express it.
        """
        meta = self.gguf_metadata()
        arch = str(meta.get("general.architecture", ""))
        caps: list[str] = []
        if self.model_path is not None:
            embedding = f"{arch}.pooling_type" in meta or arch in _EMBEDDING_ARCHES
            caps.append("embedding" if embedding else "completion")
            if f"{arch}.vision.block_count" in meta:
                caps.append("vision")
        else:
            caps += list(self.config.get("capabilities") or [])
        jinja = meta.get("tokenizer.chat_template")
        tools, insert, thinking = _template_features(
            self.template, jinja if isinstance(jinja, str) else None
        )
        if tools:
            caps.append("tools")
        if insert:
            caps.append("insert")
        if self.projectors:
            caps.append("vision")
        family = str(self.config.get("model_family", ""))
        if thinking or family in ("gptoss", "gpt-oss"):
            caps.append("thinking")
        return list(dict.fromkeys(caps))


@lru_cache(maxsize=64)
def _template_features(go_template: str | None, jinja: str | None) -> tuple[bool, bool, bool]:
    """(tools, insert, thinking) of the template the model renders with."""
    from pollama.prompt import PromptTemplate, TemplateError

    try:
        tmpl = PromptTemplate.from_model(go_template, jinja)
    except TemplateError as exc:
        log.warning("model template contains errors: %s", exc)
        return False, False, False
    return tmpl.supports_tools, tmpl.supports_insert, tmpl.supports_thinking
