"""A model as the rest of pollama sees it: the manifest's layers, read and typed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pollama.gguf import read_metadata
from pollama.store.name import ModelName

_GO_IDENT = re.compile(r"\.(\w+)")


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
        """What the model can do, as Ollama's `Model.Capabilities` decides it."""
        caps: list[str] = list(self.config.get("capabilities") or [])
        meta = self.gguf_metadata()
        arch = str(meta.get("general.architecture", ""))
        if self.model_path is not None:
            embedding = f"{arch}.pooling_type" in meta or arch in {"bert", "nomic-bert"}
            caps.append("embedding" if embedding else "completion")
        if self.projectors or f"{arch}.vision.block_count" in meta:
            caps.append("vision")
        if self.template is not None:
            idents = {m.lower() for m in _GO_IDENT.findall(self.template)}
            if "tools" in idents:
                caps.append("tools")
            if "suffix" in idents:
                caps.append("insert")
            if "think" in idents or "isthinkset" in idents:
                caps.append("thinking")
        else:
            jinja = str(meta.get("tokenizer.chat_template", "") or "")
            if "tools" in jinja or "tool_call" in jinja:
                caps.append("tools")
            if "<think>" in jinja and "</think>" in jinja:
                caps.append("thinking")
        return list(dict.fromkeys(caps))
